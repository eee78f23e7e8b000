from flask import Blueprint

# Public pages: no login. Parties reach their case with its number and their access code.
bp = Blueprint("portal", __name__)

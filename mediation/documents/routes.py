"""The dossier of a case and its printable documents."""

from flask import Blueprint

bp = Blueprint("documents", __name__, url_prefix="/cases")

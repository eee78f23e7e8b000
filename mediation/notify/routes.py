"""In-app notices of the signed-in user, and the outbox as staff see it."""

from flask import Blueprint

bp = Blueprint("notify", __name__)

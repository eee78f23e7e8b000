"""Staff pages of integrity records: a party's profile, certificates, revocation."""

from flask import Blueprint

bp = Blueprint("integrity", __name__, url_prefix="/integrity")

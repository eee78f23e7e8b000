"""The admin page of scheduled jobs: last runs, errors, run one now."""

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")

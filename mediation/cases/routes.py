"""Intake, the case page and every workflow action's form."""

from flask import render_template

from mediation.auth.access import role_required
from mediation.auth.models import Role
from mediation.cases.blueprint import bp


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.STAFF)
def register():
    return render_template("cases/index.html")

"""Case list, queues and dashboards (staff and mediators), and bulk actions from a queue."""

from flask import render_template

from mediation.auth.access import role_required
from mediation.auth.models import Role
from mediation.cases.blueprint import bp


@bp.get("/")
@role_required(Role.ADMIN, Role.STAFF, Role.MEDIATOR)
def index():
    return render_template("cases/index.html")

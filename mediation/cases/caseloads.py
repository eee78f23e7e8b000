"""The caseload page: every mediator of a centre with open cases and outcomes, for staff and
administrators (SPEC 3.1), a page of mediators in a fixed number of queries."""

from datetime import date

from flask import render_template, request

from mediation.auth.access import centre_in_scope, picker_centres, role_required
from mediation.auth.models import Role
from mediation.cases import workloads
from mediation.cases.blueprint import bp
from mediation.directory.calendar import local_today
from mediation.directory.terms import CATEGORIES
from mediation.web.language import lazy_gettext as _l
from mediation.web.params import page_number

PERIODS = {"year": _l("This year"), "all": _l("All years")}
PER_PAGE = 50


@bp.get("/caseloads")
@role_required(Role.ADMIN, Role.STAFF)
def caseloads():
    """Mediators 403 (they see their own cases on their dashboard); another centre is 404."""
    centre = centre_in_scope()
    period = request.args.get("period", "year")
    period = period if period in PERIODS else "year"
    year = local_today(centre).year
    page = workloads.mediators_page(
        centre.id, request.args.get("page", 1, type=page_number), PER_PAGE
    )
    since = date(year, 1, 1) if period == "year" else None
    return render_template(
        "cases/caseloads.html",
        centre=centre,
        all_centres=picker_centres(),
        page=page,
        counts=workloads.workloads([mediator.id for mediator in page.items], since),
        period=period,
        periods={code: str(label) for code, label in PERIODS.items()},
        year=year,
        categories={code: str(label) for code, label in CATEGORIES.items()},
    )

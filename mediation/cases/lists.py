"""Case list, queues and dashboards (staff and mediators), and bulk actions from a list."""

from datetime import date
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from mediation import clock
from mediation.applications.queries import pending_queue
from mediation.audit.log import record
from mediation.auth.access import role_required
from mediation.auth.models import Role
from mediation.cases import queries
from mediation.cases.actions import current_actor
from mediation.cases.blueprint import bp
from mediation.cases.forms import BulkActionForm
from mediation.cases.models import Case
from mediation.cases.numbering import moved_away
from mediation.cases.states import RISK_LEVELS, STATE_LABELS
from mediation.cases.workflow import StaleCase, reassign_cases, route_cases
from mediation.directory.calendar import has_calendar_year, local_today
from mediation.directory.models import Mediator, Organization
from mediation.directory.settings import warning_days
from mediation.directory.terms import CATEGORIES, CHANNELS
from mediation.extensions import db
from mediation.web.csv_export import csv_response
from mediation.web.language import format_datetime
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l
from mediation.web.params import record_id

STAFF_ROLES = (Role.ADMIN, Role.STAFF)
# The month from which the dashboard asks administrators for next year's calendar (the State
# Council announces the holidays in late October or November).
CALENDAR_DUE = 11

QUEUE_LABELS = {
    "triage": _l("To triage"),
    "deadline": _l("Deadline within the warning window"),
    "high_risk": _l("High risk"),
    "concluded": _l("Recently concluded"),
}
SORT_LABELS = {
    "newest": _l("Newest registered"),
    "oldest": _l("Oldest registered"),
    "deadline": _l("Deadline soonest (cases in mediation)"),
}


def _labels() -> dict:
    """The vocabularies every list template shows, in the page's language: each label is
    translated once per page, not once per row."""
    vocabularies = {
        "states": STATE_LABELS,
        "categories": CATEGORIES,
        "channels": CHANNELS,
        "risks": RISK_LEVELS,
        "queue_labels": QUEUE_LABELS,
        "sorts": SORT_LABELS,
    }
    return {
        name: {code: str(label) for code, label in labels.items()}
        for name, labels in vocabularies.items()
    }


def _today_by_centre(rows: list[queries.CaseRow]) -> dict[int, date]:
    """Each centre's local date, for deadlines and overdue marks."""
    now = clock.now()
    return {row.centre_id: now.astimezone(ZoneInfo(row.timezone)).date() for row in rows}


@bp.get("/")
@role_required(Role.ADMIN, Role.STAFF, Role.MEDIATOR, Role.REGIONAL_ADMIN)
def index():
    return render_list(queries.CaseFilter.from_args(request.args))


def render_list(filters: queries.CaseFilter, selected=(), bulk_errors=(), form=None):
    """The list page; a refused bulk action renders it again with the selection kept."""
    size = current_app.config.get("CASE_LIST_PAGE_SIZE", queries.PAGE_SIZE)
    page = queries.case_page(
        current_user, filters, request.args.get("after"), request.args.get("before"), size
    )
    may_bulk = current_user.has_role(*STAFF_ROLES)
    several = current_user.sees_several_centres
    choices_centre = filters.centre if several else current_user.centre_id
    is_mediator = current_user.role == Role.MEDIATOR
    return render_template(
        "cases/index.html",
        filters=filters,
        page=page,
        today=_today_by_centre(page.cases),
        may_bulk=may_bulk,
        selected={int(i) for i in selected},
        bulk_errors=bulk_errors,
        form=form or {},
        centre_choices=[(centre.id, centre.name) for centre in queries.centres_for(current_user)]
        if several
        else [],
        show_centre=several and filters.centre is None,
        moved_away=moved_away(current_user.centre_id, filters.q)
        if filters.q and may_bulk and not current_user.is_global_admin
        else [],
        cap=queries.COUNT_CAP,
        **({} if is_mediator else _directory_choices(choices_centre)),
        **_labels(),
    )


def _directory_choices(centre_id: int | None) -> dict:
    """The organisations and mediators to filter by, and the active ones to route to."""
    organizations = queries.organizations_for(current_user, centre_id)
    mediators = queries.mediators_for(current_user, centre_id)
    return {
        "organization_choices": [(o.id, o.name) for o in organizations],
        "mediator_choices": [(m.id, m.name) for m in mediators],
        "active_organization_choices": [(o.id, o.name) for o in organizations if o.is_active],
        "active_mediator_choices": [
            (m.id, f"{m.name} · {m.organization}") for m in mediators if m.is_active
        ],
    }


# --- dashboards -----------------------------------------------------------------------------


@bp.get("/dashboard")
@role_required(*STAFF_ROLES)
def dashboard():
    return render_dashboard()


def render_dashboard(as_home: bool = False):
    """The staff queues of one centre; a global admin picks the centre (?centre=ID)."""
    centre = current_user.centre
    centres = []
    if current_user.is_global_admin:
        centres = queries.centres_for(current_user)
        chosen = request.args.get("centre", type=record_id)
        centre = next((c for c in centres if c.id == chosen), centres[0] if centres else None)
    queues = queries.staff_queues(centre.id) if centre else []
    applications = pending_queue(centre.id) if centre else None
    today = local_today(centre) if centre else None
    return render_template(
        "cases/dashboard.html",
        as_home=as_home,
        centre=centre,
        centres=centres,
        queues=queues,
        applications=applications,
        queue_links={q.name: _queue_link(q.name, centre) for q in queues},
        today=today,
        calendar_missing=_calendar_missing(centre, today),
        cap=queries.COUNT_CAP,
        **_labels(),
    )


def _calendar_missing(centre, today: date | None) -> int | None:
    """Next year, when an administrator should enter its holidays: from November on, while
    the centre has none for it yet."""
    if centre is None or not current_user.has_role(Role.ADMIN) or today.month < CALENDAR_DUE:
        return None
    return None if has_calendar_year(centre.id, today.year + 1) else today.year + 1


def _queue_link(name: str, centre) -> str:
    args = {"queue": name}
    if queries.QUEUE_SORT.get(name, "newest") != "newest":
        args["sort"] = queries.QUEUE_SORT[name]
    if current_user.is_global_admin:
        args["centre"] = centre.id
    return url_for("cases.index", **args)


@bp.get("/mine")
@role_required(Role.MEDIATOR)
def mine():
    return render_mine()


def render_mine(as_home: bool = False):
    """A mediator's own cases: counts by state, coming sessions, deadlines with days left."""
    mediator = queries.mediator_for(current_user)
    centre = current_user.centre
    return render_template(
        "cases/mine.html",
        as_home=as_home,
        mediator=mediator,
        counts=queries.mediator_state_counts(mediator) if mediator else {},
        sessions=queries.upcoming_sessions(mediator) if mediator else [],
        deadlines=queries.mediator_deadlines(mediator) if mediator else [],
        today=local_today(centre),
        warning_days=warning_days(centre.id),
        local_time=lambda moment: format_datetime(moment, "short"),
        **_labels(),
    )


# --- bulk actions ---------------------------------------------------------------------------


@bp.post("/bulk")
@role_required(*STAFF_ROLES)
def bulk():
    """Route, reassign or export the selected cases. The list's filter and page travel in
    the query string, so a refusal shows the same page again with the selection kept. All
    or nothing: one refused case and nothing is written."""
    filters = queries.CaseFilter.from_args(request.args)
    form = BulkActionForm()
    if not form.validate_on_submit():
        if form.action.errors or form.case_id.errors:
            abort(400)  # not what the list's form sends
        return render_list(filters, form.case_id.data, _messages(form), request.form)
    if not form.case_id.data:
        flash(_("Select at least one case."), "warning")
        return redirect(url_for("cases.index", **request.args))
    cases = queries.cases_by_ids(current_user, form.case_id.data)
    if len(cases) != len(form.case_id.data):
        abort(404)
    if form.action.data == "export":
        return _export(cases)
    try:
        refusals = _change_each(form, cases)
        if not refusals:
            db.session.commit()
    except StaleDataError:
        refusals = [str(StaleCase())]
    if refusals:
        db.session.rollback()
        return render_list(filters, form.case_id.data, refusals, request.form)
    flash(_("%(count)d cases changed.", count=len(cases)), "success")
    return redirect(url_for("cases.index", **request.args))


def _messages(form) -> list[str]:
    return [
        f"{form[name].label.text}: {error}"
        for name, errors in form.errors.items()
        for error in errors
    ]


def _export(cases: list[Case]) -> Response:
    rows = list(queries.export_rows(cases))
    # Personal data leaves the system: who took which cases is kept.
    record(
        "cases.export",
        target=str(len(cases)),
        centre_id=current_user.centre_id,
        cases=[case.number for case in cases][:100],
    )
    db.session.commit()
    return csv_response(rows, f"cases-{clock.now():%Y%m%d-%H%M%S}.csv")


def _change_each(form: BulkActionForm, cases: list[Case]) -> list[str]:
    """Route or reassign every case through the workflow; the refusals, one per case."""
    mediator = _chosen(Mediator, form.mediator.data)
    if mediator is None:
        return [_("Choose a mediator.")]
    if form.action.data == "route":
        organization = _chosen(Organization, form.organization.data) or mediator.organization
        return route_cases(cases, organization, mediator, current_actor())
    return reassign_cases(cases, mediator, form.reason.data, current_actor())


def _chosen(model, row_id: int | None):
    """The organisation or mediator picked in the bulk form, if the user may see it."""
    row = db.session.get(model, row_id) if row_id else None
    if row is None or not current_user.may_see_centre(row.centre_id):
        return None
    return row

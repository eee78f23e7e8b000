"""The statistics page for admins: a month's figures, downloads and the snapshot (SPEC 4)."""

from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from mediation import clock
from mediation.auth.access import role_required
from mediation.auth.models import Role
from mediation.cases.states import TRANSFER_REASONS
from mediation.directory.calendar import local_today
from mediation.directory.centres import centre_by_code
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.stats.exports import (
    FIGURE_LABELS,
    HEADERS,
    SHEET_TITLES,
    to_csv,
    to_json,
    to_xlsx,
)
from mediation.stats.queries import COMPARED_KEYS, month_key, monthly_series, parse_month
from mediation.stats.snapshots import find_snapshot, published_stats, snapshot_month

bp = Blueprint("stats", __name__, url_prefix="/admin/stats")

RATES = ("success_rate", "on_time_rate", "performance_rate", "satisfaction_rate")
MIMETYPE_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scope() -> tuple[str, Centre | None]:
    """The month and centre asked for: a centre's admin always gets their own centre; a
    global admin picks one by code, or all centres. 404 for an unknown centre."""
    month = request.args.get("month", "")
    try:
        parse_month(month)
    except ValueError:
        month = ""
    if current_user.centre_id is not None:
        centre = current_user.centre
    else:
        code = request.args.get("centre", "all")
        centre = None if code == "all" else centre_by_code(code)
        if code != "all" and centre is None:
            abort(404)
    if not month:
        today = local_today(centre) if centre is not None else None
        month = month_key(today.replace(day=1)) if today else _global_month()
    return month, centre


def _global_month() -> str:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return month_key(clock.now().astimezone(zone).date().replace(day=1))


def _trend(current, earlier) -> str:
    if current is None or earlier is None or current == earlier:
        return "same"
    return "up" if current > earlier else "down"


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    month, centre = _scope()
    data = published_stats(month, centre)
    summary = data["summary"]
    compared = [
        {
            "key": key,
            "value": summary[key],
            "previous": data["previous_month"][key],
            "last_year": data["same_month_last_year"][key],
            "mom": _trend(summary[key], data["previous_month"][key]),
            "yoy": _trend(summary[key], data["same_month_last_year"][key]),
        }
        for key in COMPARED_KEYS
    ]
    centres = (
        db.session.scalars(select(Centre).order_by(Centre.code)).all()
        if current_user.is_global_admin
        else []
    )
    return render_template(
        "stats/index.html",
        data=data,
        month=month,
        centre=centre,
        centres=centres,
        compared=compared,
        snapshot=find_snapshot(month, centre),
        series=monthly_series(month, centre),
        labels=FIGURE_LABELS,
        rates=RATES,
        reasons=TRANSFER_REASONS,
        headers=HEADERS,
        titles=SHEET_TITLES,
        scope=centre.code if centre is not None else "all",
    )


@bp.get("/export")
@role_required(Role.ADMIN)
def export():
    """?format=json|csv|xlsx of the month shown (its snapshot when it has one)."""
    month, centre = _scope()
    data = published_stats(month, centre)
    name = f"stats-{centre.code if centre else 'all'}-{month}"
    fmt, locale = request.args.get("format", "json"), str(get_locale())
    centre_name = centre.name if centre is not None else None
    if fmt == "csv":
        body, mimetype, name = to_csv(data, centre_name, locale), "text/csv", f"{name}.csv"
    elif fmt == "xlsx":
        body, mimetype, name = to_xlsx(data, centre_name, locale), MIMETYPE_XLSX, f"{name}.xlsx"
    else:
        body, mimetype, name = to_json(data), "application/json", f"{name}.json"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.post("/snapshot")
@role_required(Role.ADMIN)
def snapshot():
    month, centre = _scope_from_form()
    snapshot_month(month, centre, current_user)
    db.session.commit()
    flash(
        _("The statistics of %(month)s have been saved as published figures.", month=month),
        "success",
    )
    return redirect(url_for("stats.index", month=month, centre=centre.code if centre else "all"))


def _scope_from_form() -> tuple[str, Centre | None]:
    month = request.form.get("month", "")
    try:
        parse_month(month)
    except ValueError:
        abort(400)
    if current_user.centre_id is not None:
        return month, current_user.centre
    code = request.form.get("centre", "all")
    centre = None if code == "all" else centre_by_code(code)
    if code != "all" and centre is None:
        abort(404)
    return month, centre

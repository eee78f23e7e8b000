"""The statistics page for admins: a month's figures, downloads and the snapshot (SPEC 4)."""

from itertools import cycle
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
    COLUMNS,
    FIGURE_LABELS,
    HEADERS,
    MONEY_KEYS,
    RATE_KEYS,
    SHEET_TITLES,
    month_label,
    to_csv,
    to_json,
    to_xlsx,
)
from mediation.stats.queries import (
    COMPARED_KEYS,
    month_key,
    monthly_series,
    parse_month,
    performance_so_far,
)
from mediation.stats.snapshots import find_snapshot, published_stats, snapshot_month

bp = Blueprint("stats", __name__, url_prefix="/admin/stats")

RATES = RATE_KEYS
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
        month = month_key(_today(centre).replace(day=1))
    return month, centre


def _today(centre: Centre | None):
    if centre is not None:
        return local_today(centre)
    return clock.now().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _trend(current, earlier) -> str:
    if current is None or earlier is None or current == earlier:
        return "same"
    return "up" if current > earlier else "down"


def _versus(key: str, current, earlier) -> dict:
    """The change from `earlier`: for counts the difference and its percentage of the earlier
    count (None from 0), for rates the difference in percentage points."""
    change = {"earlier": earlier, "trend": _trend(current, earlier)}
    if current is None or earlier is None:
        return change | {"difference": None, "percent": None, "points": None}
    if key in RATES:
        return change | {"difference": None, "percent": None, "points": (current - earlier) * 100}
    percent = (current - earlier) / earlier * 100 if earlier else None
    return change | {"difference": current - earlier, "percent": percent, "points": None}


def _compared(data: dict) -> list[dict]:
    summary = data["summary"]
    return [
        {
            "key": key,
            "value": summary[key],
            "mom": _versus(key, summary[key], data["previous_month"][key]),
            "yoy": _versus(key, summary[key], data["same_month_last_year"][key]),
        }
        for key in COMPARED_KEYS
    ]


def _axis_step(peak: int) -> int:
    """A round step (1, 2, 5, 10, 20, 50 …) giving at most five gridlines up to `peak`."""
    step, factors = 1, cycle((2, 2.5, 2))
    while peak / step > 5:
        step = int(step * next(factors))
    return step


def _chart(series: list[dict]) -> dict:
    """The 12-month bar chart's axis: gridline values up to a round top, and each month's
    label, with its year under the first month and under each January."""
    peak = max([1] + [point[key] for point in series for key in ("received", "concluded")])
    step = _axis_step(peak)
    top = step * -(-peak // step)
    return {
        "top": top,
        "ticks": list(range(0, top + 1, step)),
        "months": [
            {
                **point,
                "label": month_label(point["month"], "MMM"),
                "long": month_label(point["month"], "yMMM"),
                "year": month_label(point["month"], "y")
                if index == 0 or point["month"].endswith("-01")
                else "",
            }
            for index, point in enumerate(series)
        ],
    }


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    month, centre = _scope()
    data = published_stats(month, centre)
    today = _today(centre)
    partial = today <= parse_month(month)[1]
    centres = (
        db.session.scalars(select(Centre).order_by(Centre.code)).all()
        if current_user.is_global_admin
        else []
    )
    return render_template(
        "stats/index.html",
        data=data,
        month=month,
        month_name=month_label(month),
        centre=centre,
        centres=centres,
        compared=_compared(data),
        partial=partial,
        today=today,
        so_far=performance_so_far(month, centre, today) if partial else None,
        snapshot=find_snapshot(month, centre),
        chart=_chart(monthly_series(month, centre)),
        labels=FIGURE_LABELS,
        rates=RATES,
        money_keys=MONEY_KEYS,
        columns=COLUMNS,
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

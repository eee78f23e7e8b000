"""The statistics page for admins: a month's figures, downloads and the snapshot (SPEC 4)."""

from dataclasses import dataclass, replace
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
from flask_login import current_user
from sqlalchemy import select

from mediation import clock
from mediation.auth.access import role_required
from mediation.auth.models import REGION_CODE_LENGTHS, Role
from mediation.cases.states import TRANSFER_REASONS
from mediation.directory.calendar import local_today
from mediation.directory.centres import centre_by_code, region_centres
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
    tables_of,
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
    region_stats,
)
from mediation.stats.snapshots import find_snapshot, published_stats, snapshot_month
from mediation.web.language import gettext as _

bp = Blueprint("stats", __name__, url_prefix="/admin/stats")

RATES = RATE_KEYS
MIMETYPE_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Scope:
    """What a statistics page is about: one centre, a region's centres (SPEC 10), or all."""

    month: str
    centre: Centre | None = None
    region: str | None = None

    @property
    def key(self) -> str:
        """The scope in a link's `centre` parameter (a region's travels as `region`)."""
        return self.centre.code if self.centre is not None else "all"

    @property
    def is_region(self) -> bool:
        return self.region is not None and self.centre is None

    @property
    def link_args(self) -> dict:
        if self.is_region:
            return {"month": self.month, "region": self.region}
        return {"month": self.month, "centre": self.key}

    def centres(self) -> list[Centre]:
        if self.centre is not None:
            return [self.centre]
        if self.region is not None:
            return region_centres(self.region)
        return list(db.session.scalars(select(Centre).order_by(Centre.code)))

    def figures(self) -> dict:
        """The month's figures: a centre's or all centres' snapshot when there is one, else
        live; a region's are always live, from its centres' counts."""
        if self.is_region:
            return region_stats(self.month, self.region)
        return published_stats(self.month, self.centre)


def _scope() -> Scope:
    """The month and centre asked for: a centre's admin always gets their own centre; a
    regional admin their region, or one of its centres by code; a global admin picks a
    centre by code, a region, or all centres. 404 for a centre or region out of reach."""
    month = request.args.get("month", "")
    try:
        parse_month(month)
    except ValueError:
        month = ""
    code = request.args.get("centre", "all")
    region = request.args.get("region") or None
    if current_user.is_regional_admin:
        region = current_user.region_code
    if current_user.centre_id is not None:
        scope = Scope(month, centre=current_user.centre)
    elif code != "all":
        centre = centre_by_code(code)
        if centre is None or not current_user.may_see_centre(centre.id):
            abort(404)
        scope = Scope(month, centre=centre, region=region)
    elif region is not None:
        if not _is_region_code(region) or not region_centres(region):
            abort(404)
        scope = Scope(month, region=region)
    else:
        scope = Scope(month)
    if not month:
        scope = replace(scope, month=month_key(_today(scope.centre).replace(day=1)))
    return scope


def _is_region_code(code: str) -> bool:
    return code.isascii() and code.isdigit() and len(code) in REGION_CODE_LENGTHS


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


def _picker_centres() -> list[Centre]:
    """The centres a global admin (all) or a regional admin (their region's) picks from."""
    if current_user.is_regional_admin:
        return region_centres(current_user.region_code)
    if current_user.is_global_admin:
        return list(db.session.scalars(select(Centre).order_by(Centre.code)))
    return []


def _comparison_chart(by_centre: list[dict]) -> dict:
    """The centres-compared chart's scale: counts against the largest centre's, rates as
    percentages."""
    peak = max([1] + [row["summary"][key] for row in by_centre for key in COUNTED])
    return {"peak": peak, "counts": COUNTED, "rates": COMPARED_RATES}


COUNTED = ("received", "concluded")
COMPARED_RATES = ("success_rate", "on_time_rate", "performance_rate")


@bp.get("/")
@role_required(Role.ADMIN, Role.REGIONAL_ADMIN)
def index():
    return render_stats()


def render_stats():
    """The statistics page of the month and scope asked for (also a regional admin's home)."""
    scope = _scope()
    month, centre = scope.month, scope.centre
    data = scope.figures()
    today = _today(centre)
    partial = today <= parse_month(month)[1]
    centres = scope.centres()
    by_centre = data.get("by_centre")
    return render_template(
        "stats/index.html",
        data=data,
        month=month,
        month_name=month_label(month),
        centre=centre,
        region=scope.region,
        centres=_picker_centres(),
        compared=_compared(data),
        partial=partial,
        today=today,
        so_far=performance_so_far(month, centres, today) if partial else None,
        snapshot=find_snapshot(month, centre) if by_centre is None else None,
        may_publish=current_user.has_role(Role.ADMIN) and by_centre is None,
        chart=_chart(monthly_series(month, centres)),
        comparison=_comparison_chart(by_centre) if by_centre is not None else None,
        labels=FIGURE_LABELS,
        rates=RATES,
        money_keys=MONEY_KEYS,
        columns=COLUMNS,
        reasons=TRANSFER_REASONS,
        headers=HEADERS,
        titles=SHEET_TITLES,
        scope=scope,
        bad_month=_bad_month(),
    )


def _bad_month() -> str:
    """A month asked for that is none (0001-01, 2026-13), as typed: the page shows this
    month's figures and says why."""
    month = request.args.get("month", "")
    try:
        parse_month(month)
    except ValueError:
        return month[:20]
    return ""


@bp.get("/export")
@role_required(Role.ADMIN, Role.REGIONAL_ADMIN)
def export():
    """?format=json|csv|xlsx of the month shown (its snapshot when it has one); CSV takes
    ?table= (default the summary)."""
    scope = _scope()
    data = scope.figures()
    table = request.args.get("table", "summary")
    if table not in tables_of(data):
        abort(404)
    name = f"stats-{scope.region if scope.is_region else scope.key}-{scope.month}"
    fmt, locale = request.args.get("format", "json"), str(get_locale())
    centre_name = scope.centre.name if scope.centre is not None else None
    if fmt == "csv":
        body, mimetype = to_csv(data, centre_name, locale, table), "text/csv"
        name = f"{name}.csv" if table == "summary" else f"{name}-{table}.csv"
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

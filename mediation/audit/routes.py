from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from mediation import clock
from mediation.audit import queries
from mediation.audit.log import ACTIONS, entry_details, record
from mediation.auth.access import role_required
from mediation.auth.models import Role
from mediation.cases.timeline import event_details
from mediation.cases.workflow import MOVES
from mediation.extensions import db
from mediation.web.csv_export import csv_response
from mediation.web.language import select_timezone

bp = Blueprint("audit", __name__, url_prefix="/admin")
PAGE_SIZE = 50
EXPORT_PAGE = 1000
EXPORT_LIMIT = 100_000  # rows in one CSV; narrow the filter for more
EXPORT_COLUMNS = (
    _l("Time"),
    _l("Who"),
    _l("Action"),
    _l("Case or object"),
    _l("Client address"),
    _l("Details"),
)
# Who acted on a case when it was not a user.
ACTOR_KINDS = {
    "party": _l("party, online"),
    "scheduler": _l("Scheduled job"),
    "import": _l("Ledger import"),
}


def _scope() -> int | None:
    return None if current_user.is_global_admin else current_user.centre_id


@bp.get("/audit/")
@role_required(Role.ADMIN)
def entries():
    """Audit entries and case events, newest first, a keyset page at a time."""
    filters = queries.Filters.from_args(request.args)
    cursor = queries.Cursor.parse(request.args.get("after"))
    rows = queries.feed(_scope(), filters, cursor, PAGE_SIZE + 1, select_timezone())
    next_cursor = _cursor_of(rows[PAGE_SIZE - 1]) if len(rows) > PAGE_SIZE else None
    return render_template(
        "audit/entries.html",
        rows=rows[:PAGE_SIZE],
        next_cursor=next_cursor,
        filters=filters,
        users=queries.users_in(_scope()),
        actions=ACTIONS,
        moves=MOVES,
        actor_kinds=ACTOR_KINDS,
        details_of=_details,
    )


@bp.get("/audit/export.csv")
@role_required(Role.ADMIN)
def export():
    """The rows the page shows for the same filters, every page of them, as CSV."""
    filters = queries.Filters.from_args(request.args)
    zone = select_timezone()
    lines = [[str(title) for title in EXPORT_COLUMNS]]
    for row in _every_row(filters, zone):
        lines.append(
            [
                row.at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S"),
                _who(row),
                _action(row),
                row.target,
                row.client,
                "; ".join(_("%(label)s: %(value)s", label=k, value=v) for k, v in _details(row)),
            ]
        )
    # Names and actions leave the system: who took which part of the log is kept.
    asked = {key: value for key, value in filters.args().items() if value}
    record("audit.export", target=str(len(lines) - 1), centre_id=current_user.centre_id, **asked)
    db.session.commit()
    return csv_response(lines, f"audit-{clock.now():%Y%m%d-%H%M%S}.csv")


def _every_row(filters: queries.Filters, zone: str):
    cursor, count = None, 0
    while count < EXPORT_LIMIT:
        rows = queries.feed(_scope(), filters, cursor, EXPORT_PAGE, zone)
        yield from rows[: EXPORT_LIMIT - count]
        count += len(rows)
        if len(rows) < EXPORT_PAGE:
            return
        cursor = queries.Cursor(rows[-1].at, rows[-1].kind, rows[-1].id)


def _cursor_of(row) -> str:
    return str(queries.Cursor(row.at, row.kind, row.id))


def _details(row) -> list[tuple[str, str]]:
    return event_details(row) if row.kind == queries.EVENT else entry_details(row.details)


def _action(row) -> str:
    if row.kind == queries.EVENT:
        return str(MOVES[row.action].label) if row.action in MOVES else row.action
    return str(ACTIONS.get(row.action, row.action))


def _who(row) -> str:
    name = row.actor_name or "—"
    kind = ACTOR_KINDS.get(row.actor_kind)
    return f"{name} ({kind})" if kind else name

"""The audit log's CSV export, as a job (mediation.jobs.queue): up to EXPORT_LIMIT rows of the
page's filter, read a keyset page at a time by a job process and kept as a file in the
database (job_file), which the admin who asked downloads from any worker. Not a web worker's
request: a full export takes longer than a worker may hold one."""

import csv
import io
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from mediation import clock
from mediation.audit import queries
from mediation.audit.log import ACTIONS, entry_details, record
from mediation.auth.models import User
from mediation.cases.timeline import event_details
from mediation.cases.workflow import MOVES
from mediation.extensions import db
from mediation.jobs.models import BackgroundJob, JobFile
from mediation.jobs.queue import Progress, enqueue, finish
from mediation.web.csv_export import inert
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l

AUDIT_EXPORT = "audit_export"
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


def queue_export(
    user: User, scope: int | None, filters: queries.Filters, zone: str, locale: str, client: str
) -> BackgroundJob:
    """Queue the export of the rows the page shows for `filters` in `scope` (a centre, or
    None: every centre); the caller commits."""
    asked = {key: value for key, value in filters.args().items() if value is not None}
    return enqueue(
        AUDIT_EXPORT,
        locale=locale,
        client=client,
        user_id=user.id,
        centre_id=user.centre_id,
        params={"scope": scope, "filters": asked, "zone": zone},
    )


def run_export(job: BackgroundJob, progress: Progress) -> None:
    """The job's body: the CSV, kept with the job's end and the audit entry in one commit."""
    params = job.params
    filters = queries.Filters.from_args(MultiDict(params["filters"]))
    zone = params["zone"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(title) for title in EXPORT_COLUMNS])
    count = 0
    for row in every_row(params["scope"], filters, zone):
        writer.writerow([inert(cell) for cell in export_line(row, zone)])
        count += 1
        if count % EXPORT_PAGE == 0:
            progress("writing", count, 0)
    db.session.add(
        JobFile(
            job_id=job.id,
            filename=f"audit-{clock.now():%Y%m%d-%H%M%S}.csv",
            mimetype="text/csv",
            data=("\ufeff" + out.getvalue()).encode("utf-8"),
        )
    )
    # Names and actions leave the system: who took which part of the log is kept.
    record(
        "audit.export",
        target=str(count),
        centre_id=job.centre_id,
        actor=db.session.get(User, job.user_id),
        client=job.client,
        **filter_details(filters),
    )
    job.done = count
    finish(job)
    db.session.commit()


def filter_details(filters: queries.Filters) -> dict:
    """The part of the log an export took, as its audit entry's details: the user by name,
    the action filtered on under a key of its own (record() takes `action` for the entry's)."""
    user = db.session.get(User, filters.actor_id) if filters.actor_id is not None else None
    asked = {
        ("filtered_action" if key == "action" else key): value
        for key, value in filters.args().items()
    }
    if user is not None:
        asked["user"] = user.username
    return {key: value for key, value in asked.items() if value is not None}


def interrupted(job: BackgroundJob) -> None:
    """Nothing to undo: an export writes nothing until it is done."""


def every_row(scope: int | None, filters: queries.Filters, zone: str):
    cursor, count = None, 0
    while count < EXPORT_LIMIT:
        rows = queries.feed(scope, filters, cursor, EXPORT_PAGE, zone)
        yield from rows[: EXPORT_LIMIT - count]
        count += len(rows)
        if len(rows) < EXPORT_PAGE:
            return
        cursor = queries.Cursor(rows[-1].at, rows[-1].kind, rows[-1].id)


def export_line(row, zone: str) -> list[str]:
    return [
        row.at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S"),
        who(row),
        action_label(row),
        row.target,
        row.client,
        "; ".join(_("%(label)s: %(value)s", label=k, value=v) for k, v in details(row)),
    ]


def details(row) -> list[tuple[str, str]]:
    return event_details(row) if row.kind == queries.EVENT else entry_details(row.details)


def action_label(row) -> str:
    if row.kind == queries.EVENT:
        return str(MOVES[row.action].label) if row.action in MOVES else row.action
    return str(ACTIONS.get(row.action, row.action))


def who(row) -> str:
    name = row.actor_name or "—"
    kind = ACTOR_KINDS.get(row.actor_kind)
    return f"{name} ({kind})" if kind else name

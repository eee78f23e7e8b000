from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from mediation.audit import queries
from mediation.audit.export import ACTOR_KINDS, details, queue_export
from mediation.audit.log import ACTIONS, client_address
from mediation.auth.access import role_required
from mediation.auth.models import Role
from mediation.cases.workflow import MOVES
from mediation.extensions import db
from mediation.jobs.queue import run_queue_now
from mediation.web.language import select_timezone

bp = Blueprint("audit", __name__, url_prefix="/admin")
PAGE_SIZE = 50


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
        details_of=details,
    )


@bp.post("/audit/export")
@role_required(Role.ADMIN)
def export():
    """Queue the CSV of the rows the page shows for the same filters, every page of them;
    the job's page offers the file when it is ready."""
    filters = queries.Filters.from_args(request.form)
    job = queue_export(
        current_user,
        _scope(),
        filters,
        select_timezone(),
        str(get_locale()),
        client_address(),
    )
    job_id = job.id  # read before the commit, which would begin a transaction to read it
    db.session.commit()
    if current_app.config.get("JOBS_RUN_AT_ONCE"):
        run_queue_now(current_app._get_current_object())
    return redirect(url_for("jobs.show", job_id=job_id))


def _cursor_of(row) -> str:
    return str(queries.Cursor(row.at, row.kind, row.id))

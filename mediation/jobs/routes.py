"""The admin page of scheduled jobs: last runs, errors, and (global admins) run one now; and
the page of a job an admin queued (an export), with its file when it is ready."""

from datetime import timedelta

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
from flask_login import current_user
from sqlalchemy import select

from mediation import clock
from mediation.audit.log import record
from mediation.auth.access import role_required
from mediation.auth.models import Role
from mediation.extensions import db
from mediation.jobs import queue
from mediation.jobs.models import BackgroundJob, JobFile
from mediation.jobs.runner import (
    INTERRUPTED,
    JOBS,
    MANUAL,
    TRIGGERS,
    close_interrupted,
    last_error,
    last_runs,
    run_job,
)
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")


def _global_admin_only() -> None:
    """Jobs sweep every centre: a centre's admin sees how they run but does not run them."""
    if not current_user.is_global_admin:
        abort(403)


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    """Each job with its next run (from its schedule: the web process runs no scheduler),
    its recent runs and its last error; every admin reads it, a global admin runs jobs."""
    close_interrupted()
    now, timezone = clock.now(), current_app.config["TIMEZONE"]
    rows = []
    for job in JOBS.values():
        runs = last_runs(job.name, 10)
        rows.append(
            {
                "job": job,
                "next_run": job.next_run(now, timezone),
                "runs": runs,
                "last": runs[0] if runs else None,
                "last_error": last_error(runs),
            }
        )
    return render_template(
        "jobs/index.html",
        rows=rows,
        triggers=TRIGGERS,
        interrupted=INTERRUPTED,
        enabled=current_app.config["SCHEDULER_ENABLED"],
        may_run=current_user.is_global_admin,
    )


@bp.post("/run")
@role_required(Role.ADMIN)
def run():
    """Run one job now, in this request. Jobs only do what is due, so running one early
    does nothing that the schedule would not do within the hour."""
    _global_admin_only()
    name = request.form.get("job", "")
    if name not in JOBS:
        abort(404)
    result = run_job(name, MANUAL)
    record("job.run", target=name, centre_id=current_user.centre_id, status=result.status)
    db.session.commit()
    if result.skipped:
        flash(_("The job did not run: another run of it is in progress."), "warning")
    elif result.status == "error":
        flash(_("The job failed; its error is shown below."), "error")
    else:
        flash(
            _("Job done: %(rows)d rows in %(ms)d ms.", rows=result.rows, ms=result.duration_ms),
            "success",
        )
    return redirect(url_for("jobs.index"))


# The jobs with a page of their own (a ledger import has the ledger's pages): its title, and
# the page it was asked for on.
JOB_PAGES = {"audit_export": (_l("Audit log export"), "audit.entries", _l("Audit log"))}


@bp.get("/<id:job_id>")
@role_required(Role.ADMIN)
def show(job_id: int):
    """A job the admin queued: its progress from the database, then its file."""
    queue.close_interrupted()
    job = _own_job(job_id)
    filename = db.session.scalar(select(JobFile.filename).where(JobFile.job_id == job.id))
    title, back, back_title = JOB_PAGES[job.kind]
    keep_days = current_app.config["JOB_FILES_KEEP_DAYS"]
    return render_template(
        "jobs/show.html",
        job=job,
        title=title,
        back=back,
        back_title=back_title,
        filename=filename,
        kept_until=job.finished_at + timedelta(days=keep_days) if job.finished_at else None,
        keep_days=keep_days,
        interrupted=queue.INTERRUPTED,
    )


@bp.get("/<id:job_id>/file")
@role_required(Role.ADMIN)
def download(job_id: int):
    _own_job(job_id)
    kept = db.get_or_404(JobFile, job_id)
    return Response(
        kept.data,
        mimetype=kept.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{kept.filename}"'},
    )


def _own_job(job_id: int) -> BackgroundJob:
    """The job, when the signed-in admin queued it (404 otherwise: its file holds what their
    scope let them see)."""
    job = db.get_or_404(BackgroundJob, job_id)
    if job.user_id != current_user.id or job.kind not in JOB_PAGES:
        abort(404)
    return job

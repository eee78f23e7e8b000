"""`flask jobs list`, `flask jobs run NAME` and `flask scheduler`."""

import logging
import sys
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from mediation import clock
from mediation.jobs.runner import JOBS, SHELL, last_runs, run_job, short_error
from mediation.web.language import gettext as _

jobs_cli = AppGroup("jobs", help="List the scheduled jobs or run one now.")


@jobs_cli.command("list")
def list_command() -> None:
    """Every job with its schedule, next run and last run."""
    timezone = current_app.config["TIMEZONE"]
    zone, now = ZoneInfo(timezone), clock.now()
    for job in JOBS.values():
        runs = last_runs(job.name, 1)
        last = (
            f"{runs[0].started_at.astimezone(zone):%Y-%m-%d %H:%M %Z} {runs[0].status} "
            f"({runs[0].rows}, {runs[0].duration_ms or 0} ms)"
            if runs
            else "-"
        )
        next_run = job.next_run(now, timezone)
        line = _(
            "%(schedule)s; next %(next)s; last %(last)s",
            schedule=job.schedule,
            next=f"{next_run:%Y-%m-%d %H:%M %Z}",
            last=last,
        )
        click.echo(f"{job.name:20} {line}")


@jobs_cli.command("run")
@click.argument("name")
def run_command(name: str) -> None:
    """Run job NAME now (the same as the admin page's button)."""
    if name not in JOBS:
        raise click.ClickException(
            _("Unknown job %(name)s; the jobs are: %(names)s", name=name, names=", ".join(JOBS))
        )
    try:
        run = run_job(name, SHELL)
    except SQLAlchemyError as error:
        # The cause only, not the statement and its values (which may hold personal data).
        raise click.ClickException(
            _("Job %(name)s failed: %(error)s", name=name, error=short_error(error))
        ) from None
    if run is None or run.skipped:
        click.echo(
            _(
                "Job %(name)s did not run: it has already run for this period or another run "
                "of it is in progress.",
                name=name,
            )
        )
        return
    if run.status == "error":
        click.echo(run.error, err=True)
        raise click.ClickException(_("Job %(name)s failed.", name=name))
    click.echo(
        _(
            "Job %(name)s done: %(rows)d rows in %(ms)d ms.",
            name=name,
            rows=run.rows,
            ms=run.duration_ms or 0,
        )
    )


@jobs_cli.command("work")
@click.option("--once", is_flag=True, help="Stop when no job is queued.")
def work_command(once: bool) -> None:
    """Do the queued jobs (ledger imports) until SIGTERM or Ctrl-C: as many such processes as
    you like, on any host; each job is done by one of them."""
    from mediation.jobs.queue import work, work_until_signalled

    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    app = current_app._get_current_object()
    count = work(app, once=True) if once else work_until_signalled(app)
    click.echo(_("%(n)d queued jobs done.", n=count))


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduled jobs in the foreground until SIGTERM or Ctrl-C (one such process
    per deployment)."""
    from mediation.jobs.scheduler import run_until_stopped

    app = current_app._get_current_object()
    if not app.config["SCHEDULER_ENABLED"]:
        click.echo(_("The scheduler is disabled (SCHEDULER_ENABLED=false); no job runs."))
        return
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    def started(scheduler) -> None:
        click.echo(_("Scheduler started with %(count)d jobs.", count=len(JOBS)))
        for job in scheduler.get_jobs():
            click.echo(f"  {job.id:20} {job.next_run_time:%Y-%m-%d %H:%M %Z}")
        sys.stdout.flush()

    run_until_stopped(app, started)
    click.echo(_("Scheduler stopped."))

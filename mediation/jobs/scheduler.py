"""The scheduler process: `flask scheduler`, one per deployment, never inside a web worker.

APScheduler fires each job on its cron schedule; coalesce folds runs missed while the process
was busy into one, the misfire grace lets a late run still start, and max_instances keeps a
slow run from overlapping the next. Every run goes through `run_job`, whose database guard
makes a second scheduler process started by mistake harmless.
"""

import logging
import signal
import threading
import time

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from mediation.jobs import queue
from mediation.jobs.runner import JOBS, SCHEDULE, close_interrupted, run_job

log = logging.getLogger(__name__)


def build_scheduler(app: Flask) -> BackgroundScheduler:
    timezone = app.config["TIMEZONE"]
    scheduler = BackgroundScheduler(
        timezone=timezone,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": app.config["SCHEDULER_MISFIRE_GRACE"],
        },
    )
    for job in JOBS.values():
        scheduler.add_job(
            _run, job.trigger(timezone), args=(app, job.name), id=job.name, name=job.name
        )
    return scheduler


def _run(app: Flask, name: str) -> None:
    with app.app_context():
        try:
            run_job(name, SCHEDULE)
        except Exception:
            # run_job records a body's own errors; this is e.g. the database being away.
            log.exception("job %s could not run", name)


def run_until_stopped(app: Flask, on_started) -> None:
    """Run the scheduler until SIGTERM or SIGINT, then let a run in progress finish.

    Beside the scheduled jobs, a thread does the queued jobs (mediation.jobs.queue), one at a
    time; at a stop, the one under way is finished first.
    Runs left "running" by a previous scheduler that was killed are marked interrupted first.
    The signal handler only sets a flag: the main thread polls it, so nothing that takes a
    lock runs inside the handler.
    """
    with app.app_context():
        close_interrupted(scheduler_starting=True)
    scheduler = build_scheduler(app)
    stopping = []

    def request_stop(signum, _frame):
        stopping.append(signum)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    queue_stop = threading.Event()
    worker = threading.Thread(
        target=queue.work, args=(app,), kwargs={"stop": queue_stop}, name="job-queue"
    )
    try:
        scheduler.start()
        worker.start()
        on_started(scheduler)
        while not stopping:
            time.sleep(0.2)
        log.info("signal %s: stopping the scheduler", stopping[0])
        queue_stop.set()
        scheduler.shutdown(wait=True)
        worker.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

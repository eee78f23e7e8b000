"""Scheduled jobs (SPEC 3.3, 3.8): each sweep with a set clock, across month and year ends and
the working-day calendar; run twice or by two schedulers at once, a job does its work once;
the scheduler process, the shell commands and the admin page."""

import contextlib
import dataclasses
import os
import queue
import signal
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import flask_migrate
import pytest
from sqlalchemy import func, insert, select, text

from mediation import clock
from mediation.audit.models import AuditEntry
from mediation.cases import workflow
from mediation.cases.models import Case, CaseEvent
from mediation.cases.workflow import Actor
from mediation.directory.models import CalendarDay, CentreSettings
from mediation.extensions import db as _db
from mediation.integrity.models import Certificate, IntegrityRecord, Obligation
from mediation.jobs import runner, sweeps
from mediation.jobs.models import JobRun
from mediation.jobs.runner import JOBS, run_job
from mediation.notify.models import OutboxMessage
from tests.case_factory import centre_for, user_for
from tests.conftest import recorded_statements

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def notices(db, prefix: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.dedupe_key.startswith(prefix))
            .order_by(OutboxMessage.id)
        )
    )


def sweep(job, at: datetime) -> int:
    with clock.frozen_at(at):
        return job(clock.now())


def events(db, case_id: int, action: str) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).filter_by(case_id=case_id, action=action)))


# --- deadline sweep ------------------------------------------------------------------------


def test_deadline_warning_once_then_again_after_an_extension(db, make_case):
    case = make_case("assigned", at=local(date(2026, 11, 2)))
    deadline = case.deadline_on
    assert deadline == date(2026, 12, 2)
    sweep(sweeps.deadline_sweep, local(deadline - timedelta(days=6)))
    assert notices(db, "warning:") == []
    for hour in (0, 1, 23):  # hourly runs that day, and the days after: told once
        sweep(sweeps.deadline_sweep, local(deadline - timedelta(days=5), hour))
    sweep(sweeps.deadline_sweep, local(deadline - timedelta(days=2)))
    warned = notices(db, "warning:")
    recipients = {m.user_id for m in warned}
    assert recipients == {user_for(case.centre, "mediator").id, user_for(case.centre).id}
    assert len(warned) == 2 and "5" in warned[0].body
    staff = Actor.for_user(user_for(case.centre))
    case = db.session.get(Case, case.id)
    workflow.extend_deadline(case, 10, {p.id: "书面同意" for p in case.parties}, staff)
    db.session.commit()
    assert case.warned_at is None
    sweep(sweeps.deadline_sweep, local(deadline - timedelta(days=1)))
    assert len(notices(db, "warning:")) == 2  # the new deadline is 11 days away
    sweep(sweeps.deadline_sweep, local(case.deadline_on - timedelta(days=5)))
    again = notices(db, "warning:")
    assert len(again) == 4 and str(case.deadline_on) in again[-1].dedupe_key


def test_automatic_transfer_the_day_after_the_deadline_across_the_year_end(db, make_case):
    # Routed 1 December: the 30-day period ends on 31 December, the last day of mediation.
    assigned = make_case("assigned", at=local(date(2026, 12, 1)))
    mediating = make_case("mediating", at=local(date(2026, 12, 1)))
    assert assigned.deadline_on == date(2026, 12, 31)
    sweep(sweeps.deadline_sweep, local(date(2026, 12, 31), 23, 30))
    assert {assigned.state, mediating.state} == {"assigned", "mediating"}
    # 00:30 on 1 January in Shanghai is still 31 December in UTC: the centre's date counts.
    touched = sweep(sweeps.deadline_sweep, local(date(2027, 1, 1), 0, 30))
    assert touched == 2
    for case in (assigned, mediating):
        db.session.refresh(case)
        assert (case.state, case.transfer_reason) == ("transferred", "deadline_expired")
        assert case.concluded_on == date(2027, 1, 1)
        [event] = events(db, case.id, "expire")
        assert (event.actor_kind, event.from_state) == (
            "scheduler",
            "mediating" if case is mediating else "assigned",
        )
        parties = [m for m in notices(db, f"transfer:{case.id}:")]
        assert len(parties) == 2 and "调解期限届满" in parties[0].body
    assert sweep(sweeps.deadline_sweep, local(date(2027, 1, 1), 1, 30)) == 0
    assert len(events(db, assigned.id, "expire")) == 1


def test_each_centre_is_swept_on_its_own_date_and_warned_by_its_own_days(db, make_case):
    urumqi = centre_for("330105")
    urumqi.timezone = "Asia/Urumqi"  # UTC+6, two hours behind Shanghai
    shangcheng = centre_for("330102")  # Shanghai's time, like 330106, but warns 3 days ahead
    db.session.add(CentreSettings(centre_id=shangcheng.id, warning_days=3))
    db.session.commit()
    cases = {
        code: make_case("assigned", centre=code, at=local(date(2026, 11, 2)))
        for code in ("330106", "330102", "330105")
    }
    deadline = date(2026, 12, 2)
    assert {case.deadline_on for case in cases.values()} == {deadline}

    def warned() -> set[str]:
        return {db.session.get(Case, m.case_id).centre.code for m in notices(db, "warning:")}

    sweep(sweeps.deadline_sweep, local(deadline - timedelta(days=4)))
    assert warned() == {"330106", "330105"}
    sweep(sweeps.deadline_sweep, local(deadline - timedelta(days=3)))
    assert warned() == {"330106", "330105", "330102"}
    # 00:30 in Shanghai on the day after the deadline is 22:30 of the deadline in Urumqi.
    assert sweep(sweeps.deadline_sweep, local(deadline + timedelta(days=1), 0, 30)) == 2
    assert cases["330105"].state == "assigned"
    assert sweep(sweeps.deadline_sweep, local(deadline + timedelta(days=1), 2, 30)) == 1
    for case in cases.values():
        db.session.refresh(case)
        assert (case.state, case.concluded_on) == ("transferred", deadline + timedelta(days=1))


def test_a_sweep_with_nothing_due_asks_no_more_for_more_centres(app, db, make_case):
    for code in ("330106", "330105"):
        make_case("assigned", centre=code, at=local(date(2026, 11, 2)))
    quiet_day = local(date(2026, 11, 10))
    with recorded_statements(app) as two_centres:
        assert sweep(sweeps.deadline_sweep, quiet_day) == 0
    for code in ("330102", "330108", "330110"):
        make_case("assigned", centre=code, at=local(date(2026, 11, 2)))
    with recorded_statements(app) as five_centres:
        assert sweep(sweeps.deadline_sweep, quiet_day) == 0
    assert len(five_centres) == len(two_centres)


def test_triage_overdue_follows_the_working_day_calendar(db, make_case):
    centre = centre_for()
    for day in [date(2026, 10, d) for d in range(1, 9)]:
        db.session.add(CalendarDay(centre_id=centre.id, day=day, is_workday=False, note="国庆"))
    db.session.add(CalendarDay(centre_id=centre.id, day=date(2026, 10, 10), is_workday=True))
    db.session.commit()
    case = make_case(at=local(date(2026, 9, 30)))
    routed = make_case("assigned", at=local(date(2026, 9, 30)))
    assert case.triage_due_on == date(2026, 10, 12)  # three working days: 9, 10, 12 October
    sweep(sweeps.deadline_sweep, local(date(2026, 10, 9)))
    sweep(sweeps.deadline_sweep, local(date(2026, 10, 12), 23, 59))
    assert notices(db, "triage:") == []
    sweep(sweeps.deadline_sweep, local(date(2026, 10, 13), 0, 5))
    sweep(sweeps.deadline_sweep, local(date(2026, 10, 13), 9))
    [notice] = notices(db, "triage:")
    assert notice.user_id == user_for(centre).id and case.number in notice.body
    assert notice.case_id == case.id != routed.id
    assert db.session.get(Case, case.id).triage_warned_at is not None


def test_a_warning_does_not_make_a_users_save_fail_as_changed_meanwhile(db, make_case):
    case = make_case("assigned", at=local(date(2026, 11, 2)))
    version = case.version
    sweep(sweeps.deadline_sweep, local(date(2026, 11, 28)))
    db.session.expire_all()
    assert db.session.get(Case, case.id).warned_at is not None
    assert db.session.get(Case, case.id).version == version


# --- obligation sweep ----------------------------------------------------------------------


def test_obligation_reminder_default_and_negative_record_across_month_and_year(db, make_case):
    case = make_case("agreed", at=local(date(2026, 12, 15)))
    [obligation] = case.agreement.obligations
    assert obligation.due_on == date(2027, 1, 14)
    obligor = obligation.obligor_id

    sweep(sweeps.obligation_sweep, local(date(2027, 1, 10)))
    assert notices(db, "reminder:") == []
    sweep(sweeps.obligation_sweep, local(date(2027, 1, 11), 0, 15))
    sweep(sweeps.obligation_sweep, local(date(2027, 1, 12)))
    [reminder] = notices(db, "reminder:")
    assert reminder.party_id == obligor and "支付维修费用" in reminder.body

    sweep(sweeps.obligation_sweep, local(date(2027, 1, 14), 23, 15))
    db.session.refresh(case)
    assert case.state == "agreed"  # due today: not late yet
    sweep(sweeps.obligation_sweep, local(date(2027, 1, 15), 0, 15))
    db.session.refresh(case)
    assert case.state == "defaulted"
    [event] = events(db, case.id, "default")
    assert event.actor_kind == "scheduler"
    assert db.session.get(Obligation, obligation.id).defaulted_at is not None

    sweep(sweeps.obligation_sweep, local(date(2027, 2, 12), 23))
    assert db.session.scalar(select(func.count()).select_from(IntegrityRecord)) == 0
    for day in (13, 14):
        sweep(sweeps.obligation_sweep, local(date(2027, 2, day)))
    [record] = db.session.scalars(select(IntegrityRecord)).all()
    assert (record.kind, record.points, record.party_id) == ("negative", -20, obligor)
    assert record.created_on == date(2027, 2, 13)
    assert len(events(db, case.id, "default")) == 1
    assert len(notices(db, "reminder:")) == 1


def test_a_performed_obligation_is_neither_reminded_nor_defaulted(db, make_case):
    case = make_case("fulfilled", at=local(date(2027, 1, 30)))
    for day in (date(2027, 2, 26), date(2027, 3, 2), date(2027, 4, 10)):
        assert sweep(sweeps.obligation_sweep, local(day)) == 0
    db.session.refresh(case)
    assert case.state == "fulfilled"
    assert notices(db, "reminder:") == []


# --- certificate expiry --------------------------------------------------------------------


def test_holders_hear_once_that_their_certificate_expired(db, make_case):
    kept = make_case("fulfilled", at=local(date(2026, 2, 28)))
    revoked_case = make_case("fulfilled", at=local(date(2026, 2, 28)))
    certificates = db.session.scalars(select(Certificate).order_by(Certificate.id)).all()
    assert [c.valid_until for c in certificates] == [date(2027, 2, 27)] * 2
    certificates[1].revoked_at = clock.now()
    db.session.commit()
    assert sweep(sweeps.certificate_expiry, local(date(2027, 2, 27), 23)) == 0
    assert sweep(sweeps.certificate_expiry, local(date(2027, 2, 28), 1, 30)) == 1
    assert sweep(sweeps.certificate_expiry, local(date(2027, 3, 1), 1, 30)) == 0  # told already
    [notice] = notices(db, "certificate_expired:")
    assert notice.case_id == kept.id != revoked_case.id
    assert certificates[0].number in notice.body and "已过期" in notice.body


# --- running a job: once per period ---------------------------------------------------------


def test_a_scheduled_run_covers_its_period_once(db, make_case):
    case = make_case("assigned", at=local(date(2026, 12, 1)))
    at = local(date(2027, 1, 1), 0, 5)
    run = run_job("deadline_sweep", now=at)
    assert (run.status, run.rows, run.trigger) == ("ok", 1, "schedule")
    assert run.period == "2027-01-01T00+08:00"
    assert run.duration_ms is not None and run.finished_at is not None
    assert run_job("deadline_sweep", now=at + timedelta(minutes=20)) is None  # same hour
    assert run_job("deadline_sweep", now=at + timedelta(hours=1)).rows == 0
    manual = [run_job("deadline_sweep", runner.MANUAL, now=at) for _ in range(2)]
    assert all(r.status == "ok" and r.period.startswith("manual:") for r in manual)
    assert len(events(db, case.id, "expire")) == 1
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 4


def test_periods_of_daily_and_minute_jobs_are_local_slots(app):
    at = datetime(2026, 12, 31, 16, 30, 45, tzinfo=UTC)  # 1 January 00:30 in Shanghai
    assert JOBS["certificate_expiry"].period(at, "Asia/Shanghai") == "2027-01-01+08:00"
    assert JOBS["outbox_dispatch"].period(at, "Asia/Shanghai") == "2027-01-01T00:30+08:00"
    assert JOBS["outbox_dispatch"].period(at, "America/St_Johns") == "2026-12-31T13:00-03:30"
    assert JOBS["obligation_sweep"].next_run(at, "Asia/Shanghai") == datetime(
        2027, 1, 1, 1, 15, tzinfo=SHANGHAI
    )


def scheduled_runs(app, name: str, fires: list[datetime]) -> list[JobRun | None]:
    """Run job `name` at each moment its schedule fires (in the app's TIMEZONE) among `fires`:
    the run, or None when its period had run already."""
    job, runs = JOBS[name], []
    for fire in fires:
        next_run = job.next_run(fire - timedelta(seconds=1), app.config["TIMEZONE"])
        assert next_run.astimezone(UTC) == fire  # in UTC: a repeated hour compares unequal
        with clock.frozen_at(fire):
            runs.append(run_job(name))
    return runs


def test_the_hour_repeated_when_clocks_go_back_runs_in_each_utc_hour(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "TIMEZONE", "Europe/Berlin")
    # 25 October 2026: 03:00 summer time is 02:00 winter time again, so 02:05 comes twice.
    summer, winter = (datetime(2026, 10, 25, hour, 5, tzinfo=UTC) for hour in (0, 1))
    assert f"{summer.astimezone(BERLIN):%H:%M}" == f"{winter.astimezone(BERLIN):%H:%M}" == "02:05"
    runs = scheduled_runs(app, "deadline_sweep", [summer, winter])
    assert [(run.status, run.period) for run in runs] == [
        ("ok", "2026-10-25T02+02:00"),
        ("ok", "2026-10-25T02+01:00"),
    ]
    minutes = scheduled_runs(app, "outbox_dispatch", [summer, winter])
    assert [run.status for run in minutes] == ["ok", "ok"]
    with clock.frozen_at(winter + timedelta(minutes=20)):
        assert run_job("deadline_sweep") is None  # each of the two hours once
    day = scheduled_runs(app, "certificate_expiry", [datetime(2026, 10, 24, 23, 30, tzinfo=UTC)])
    assert day[0].period == "2026-10-25+02:00"  # the day began in summer time


def test_a_change_of_timezone_skips_no_run(app, db, monkeypatch):
    # Run in Shanghai, then the deployment's TIMEZONE becomes Berlin (seven hours behind).
    shanghai_day = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 1 January 01:30 in Shanghai
    shanghai_hour = datetime(2027, 1, 1, 2, 5, tzinfo=UTC)  # 10:05 in Shanghai
    before = scheduled_runs(app, "certificate_expiry", [shanghai_day])
    before += scheduled_runs(app, "deadline_sweep", [shanghai_hour])
    monkeypatch.setitem(app.config, "TIMEZONE", "Europe/Berlin")
    berlin_day = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)  # 1 January 01:30 in Berlin
    berlin_hour = datetime(2027, 1, 1, 9, 5, tzinfo=UTC)  # 10:05 in Berlin
    after = scheduled_runs(app, "certificate_expiry", [berlin_day])
    after += scheduled_runs(app, "deadline_sweep", [berlin_hour])
    assert [run and run.status for run in before + after] == ["ok"] * 4
    assert [run.period for run in before] == ["2027-01-01+08:00", "2027-01-01T10+08:00"]
    assert [run.period for run in after] == ["2027-01-01+01:00", "2027-01-01T10+01:00"]


PERIODS_BEFORE_OFFSETS = "0a1ef5e0806c"  # the migration before periods carried their offset


def test_periods_stored_without_their_offset_keep_their_slots(app, db):
    """Runs recorded before the migration: their periods take the offset of TIMEZONE (Asia/
    Shanghai) at their start, so this hour's run, recorded before, has still run already."""
    db.session.remove()
    flask_migrate.downgrade(revision=PERIODS_BEFORE_OFFSETS)
    at = local(date(2027, 1, 1), 0, 5)
    stored = {
        "deadline_sweep": ("2027-01-01T00", at, "schedule"),
        "certificate_expiry": ("2026-12-31", at - timedelta(hours=23), "schedule"),
        "outbox_dispatch": ("2027-01-01T00:05", at, "schedule"),
        "stats_snapshot": ("2026-12", local(date(2026, 12, 1), 2), "schedule"),
        "obligation_sweep": ("manual:5f1c", at, "manual"),
    }
    db.session.execute(
        insert(JobRun),
        [
            {"job": job, "period": period, "started_at": started, "trigger": trigger}
            | {"status": "ok", "rows": 0}
            for job, (period, started, trigger) in stored.items()
        ],
    )
    db.session.commit()
    flask_migrate.upgrade()
    migrated = dict(db.session.execute(select(JobRun.job, JobRun.period)).all())
    assert migrated == {
        "deadline_sweep": "2027-01-01T00+08:00",
        "certificate_expiry": "2026-12-31+08:00",
        "outbox_dispatch": "2027-01-01T00:05+08:00",
        "stats_snapshot": "2026-12+08:00",
        "obligation_sweep": "manual:5f1c",
    }
    assert run_job("deadline_sweep", now=at + timedelta(minutes=20)) is None
    assert run_job("certificate_expiry", now=at + timedelta(hours=1, minutes=25)).status == "ok"
    db.session.remove()
    flask_migrate.downgrade(revision=PERIODS_BEFORE_OFFSETS)
    restored = dict(db.session.execute(select(JobRun.job, JobRun.period)).all())
    assert restored["deadline_sweep"] == "2027-01-01T00"
    assert restored["certificate_expiry"] == "2027-01-01"  # the run made since
    db.session.remove()
    flask_migrate.upgrade()


def test_a_failing_job_is_recorded_with_its_error(db, monkeypatch):
    def boom(now):
        raise RuntimeError("gateway table missing")

    monkeypatch.setitem(
        JOBS, "obligation_sweep", dataclasses.replace(JOBS["obligation_sweep"], body=boom)
    )
    run = run_job("obligation_sweep", now=local(date(2026, 11, 2)))
    assert run.status == "error" and "gateway table missing" in run.error


def test_two_schedulers_at_once_run_a_period_once(app, another_app, db, make_case):
    case = make_case("mediating", at=local(date(2026, 12, 1)))
    case_id = case.id
    db.session.commit()
    at = local(date(2027, 1, 2), 8, 5)
    apps = [app, another_app()]
    barrier, results, errors = threading.Barrier(2), [], []

    def scheduler_process(flask_app):
        try:
            with flask_app.app_context():
                barrier.wait(timeout=10)
                run = run_job("deadline_sweep", now=at)
                results.append(run.status if run else "skipped")
                _db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=scheduler_process, args=(a,)) for a in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == ["ok", "skipped"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1
    assert len(events(db, case_id, "expire")) == 1
    assert len(notices(db, f"transfer:{case_id}:")) == 2


def test_a_run_while_another_run_of_the_job_holds_its_lock_does_nothing(app, db, make_case):
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite runs one writer at a time")
    case = make_case("mediating", at=local(date(2026, 12, 1)))
    key = __import__("zlib").crc32(b"mediation.job.deadline_sweep")
    with _db.engine.connect() as holder:
        holder.execute(text("select pg_advisory_lock(:key)"), {"key": key})
        run = run_job("deadline_sweep", runner.MANUAL, now=local(date(2027, 1, 2)))
        holder.execute(text("select pg_advisory_unlock(:key)"), {"key": key})
        holder.commit()
    assert (run.status, run.rows, run.error, run.skipped) == ("ok", 0, None, True)
    db.session.refresh(case)
    assert case.state == "mediating"


def test_the_statistics_snapshot_is_scheduled_monthly():
    job = JOBS["stats_snapshot"]
    assert job.cron == {"day": 1, "hour": 2, "minute": 0}
    assert job.period(datetime(2026, 12, 1, 2, 0, tzinfo=UTC), "Asia/Shanghai") == "2026-12+08:00"


def test_a_failing_job_records_a_short_message_and_logs_the_traceback(db, monkeypatch, caplog):
    def boom(now):
        raise RuntimeError("first line\nsecond line " + "x" * 1000)

    monkeypatch.setitem(
        JOBS, "obligation_sweep", dataclasses.replace(JOBS["obligation_sweep"], body=boom)
    )
    run = run_job("obligation_sweep", now=local(date(2026, 11, 2)))
    assert (run.status, run.error) == ("error", "RuntimeError: first line")
    assert "Traceback" in caplog.text and "second line" in caplog.text


def on_postgresql(db) -> bool:
    return db.engine.dialect.name == "postgresql"


def test_on_sqlite_a_run_by_hand_that_died_is_marked_interrupted_after_an_hour(
    app, db, client, login
):
    if on_postgresql(db):
        pytest.skip("PostgreSQL asks the run's lock instead (tested below)")
    started = clock.now()
    for job, hours in (("deadline_sweep", 2), ("obligation_sweep", 0.5)):
        db.session.add(
            JobRun(
                job=job,
                period=f"p-{job}",
                status="running",
                started_at=started - timedelta(hours=hours),
                trigger="manual",
            )
        )
    db.session.commit()
    login("admin", centre=None)
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert "运行未完成" in page
    db.session.expire_all()
    runs = {r.job: (r.status, r.error) for r in db.session.scalars(select(JobRun))}
    assert runs == {
        "deadline_sweep": ("error", "interrupted"),
        "obligation_sweep": ("running", None),  # may still be running
    }
    with clock.frozen_at(started + timedelta(hours=1)):
        run_job("certificate_expiry", runner.SHELL)
    db.session.expire_all()
    status = db.session.scalar(select(JobRun.error).filter_by(job="obligation_sweep"))
    assert status == "interrupted"


def test_on_postgresql_a_run_is_interrupted_as_soon_as_its_lock_is_free(
    app, another_app, db, client, login, monkeypatch
):
    if not on_postgresql(db):
        pytest.skip("SQLite has no lock to ask: the next scheduler's start tells (tested below)")
    seen = []

    def body(now):
        seen.append(started_then_stopped(app)[0])  # a scheduler starts and stops meanwhile
        with another_app().app_context():
            seen.append(_db.session.scalar(select(JobRun.status).filter_by(job="obligation_sweep")))
            _db.session.remove()
        return 0

    monkeypatch.setitem(
        JOBS, "obligation_sweep", dataclasses.replace(JOBS["obligation_sweep"], body=body)
    )
    assert run_job("obligation_sweep", runner.MANUAL).status == "ok"
    assert seen == [0, "running"]  # a run going on holds its lock
    db.session.execute(JobRun.__table__.delete())
    db.session.commit()
    # Another process's run of deadline_sweep, holding the job's lock on its own session.
    process = db.engine.connect()
    key = __import__("zlib").crc32(b"mediation.job.deadline_sweep")
    process.execute(text("select pg_advisory_lock(:key)"), {"key": key})
    process.commit()
    db.session.add(
        JobRun(
            job="deadline_sweep",
            period="manual:in-another-process",
            status="running",
            started_at=clock.now(),
            trigger="manual",
        )
    )
    db.session.commit()
    login("admin", centre=None)
    assert ">运行中</span>" in client.get("/admin/jobs/").get_data(as_text=True)
    process.invalidate()  # the process dies: its session ends, and the lock with it
    process.close()
    assert ">已中断</span>" in client.get("/admin/jobs/").get_data(as_text=True)


def test_one_broken_case_does_not_stop_the_automatic_transfers(db, make_case, monkeypatch):
    broken = make_case("mediating", at=local(date(2026, 12, 1)))
    others = [
        make_case("assigned", at=local(date(2026, 12, 1))),
        make_case("mediating", centre="330108", at=local(date(2026, 12, 1))),
    ]
    expire = workflow.expire_case

    def expire_or_break(case, actor, at):
        if case.id == broken.id:
            raise KeyError("a broken case")
        return expire(case, actor, at=at)

    monkeypatch.setattr(workflow, "expire_case", expire_or_break)
    run = run_job("deadline_sweep", now=local(date(2027, 1, 2), 0, 5))
    assert (run.status, run.rows, run.error) == ("error", 2, "1 rows failed, see log")
    for case in others:
        db.session.refresh(case)
        assert (case.state, case.transfer_reason) == ("transferred", "deadline_expired")
    db.session.refresh(broken)
    assert broken.state == "mediating"


def test_a_skipped_run_has_no_error_and_the_shell_says_so(app, make_centre, monkeypatch):
    make_centre()

    @contextlib.contextmanager
    def taken(name):
        yield False

    monkeypatch.setattr(runner, "_exclusive", taken)
    ran = app.test_cli_runner().invoke(args=["jobs", "run", "obligation_sweep"])
    assert ran.exit_code == 0, ran.output
    assert "已在本时段运行过" in ran.output
    with app.app_context():
        [run] = _db.session.scalars(select(JobRun)).all()
        assert (run.status, run.rows, run.error) == ("ok", 0, None)


def test_records_and_certificate_notices_catch_up_after_a_long_outage(db, make_case):
    case = make_case("agreed", at=local(date(2026, 12, 15)))
    [obligation] = case.agreement.obligations
    certified = make_case("fulfilled", at=local(date(2026, 2, 28)))
    # The scheduler was down from before the due date until months later.
    assert obligation.due_on == date(2027, 1, 14)
    negative = select(IntegrityRecord).filter_by(kind="negative")
    sweep(sweeps.obligation_sweep, local(date(2027, 6, 1)))
    [record] = db.session.scalars(negative).all()
    assert record.obligation_id == obligation.id
    sweep(sweeps.obligation_sweep, local(date(2027, 6, 1), 11))
    assert len(db.session.scalars(negative).all()) == 1
    # Expired 28 February 2027: told in June all the same, and once.
    assert sweep(sweeps.certificate_expiry, local(date(2027, 6, 2), 1, 30)) == 1
    assert sweep(sweeps.certificate_expiry, local(date(2027, 6, 3), 1, 30)) == 0
    [notice] = notices(db, "certificate_expired:")
    assert notice.case_id == certified.id


def test_old_runs_are_forgotten_after_each_dispatch(db, make_centre):
    make_centre()
    now = clock.now()
    ages = {"ok-new": ("ok", 29), "ok-old": ("ok", 31), "error-old": ("error", 200)}
    ages["error-ancient"] = ("error", 366)
    for period, (status, days) in ages.items():
        db.session.add(
            JobRun(
                job="outbox_dispatch",
                period=period,
                status=status,
                started_at=now - timedelta(days=days),
                trigger="schedule",
            )
        )
    db.session.commit()
    run_job("outbox_dispatch", runner.SHELL)
    db.session.expire_all()
    kept = set(db.session.scalars(select(JobRun.period)))
    assert {"ok-new", "error-old"} <= kept
    assert not {"ok-old", "error-ancient"} & kept


# --- the shell, the admin page, the scheduler process ---------------------------------------


def test_jobs_list_and_run_from_the_shell(app, make_centre):
    make_centre()
    cli = app.test_cli_runner()
    listed = cli.invoke(args=["jobs", "list"])
    assert listed.exit_code == 0
    assert all(name in listed.output for name in JOBS)
    ran = cli.invoke(args=["jobs", "run", "obligation_sweep"])
    assert ran.exit_code == 0, ran.output
    listed = cli.invoke(args=["jobs", "list"])
    [line] = [line for line in listed.output.splitlines() if "obligation_sweep" in line]
    assert line.count("CST") == 2 and "UTC" not in line  # next and last run in one zone
    unknown = cli.invoke(args=["jobs", "run", "no_such_job"])
    assert unknown.exit_code != 0 and "deadline_sweep" in unknown.output
    with app.app_context():
        [run] = _db.session.scalars(select(JobRun)).all()
        assert (run.job, run.trigger, run.status) == ("obligation_sweep", "cli", "ok")


def test_admin_page_shows_the_jobs_and_runs_one_now(app, client, login):
    login("staff", username="staff-only")
    assert client.get("/admin/jobs/").status_code == 403
    assert client.post_form("/admin/jobs/run", {"job": "outbox_dispatch"}).status_code == 403
    client.post_form("/logout")
    login("admin", centre=None)
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert all(name in page for name in JOBS) and "从未运行" in page
    response = client.post_form("/admin/jobs/run", {"job": "outbox_dispatch"})
    assert response.status_code == 302
    assert client.post_form("/admin/jobs/run", {"job": "nope"}).status_code == 404
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert "管理页面" in page and "完成" in page
    with app.app_context():
        [run] = _db.session.scalars(select(JobRun)).all()
        assert (run.job, run.trigger) == ("outbox_dispatch", "manual")
        assert _db.session.scalar(select(AuditEntry.target).filter_by(action="job.run")) == (
            "outbox_dispatch"
        )


def test_admin_page_shows_the_last_error(app, client, login, monkeypatch):
    def boom(now):
        raise RuntimeError("deliberate failure")

    monkeypatch.setitem(
        JOBS, "outbox_dispatch", dataclasses.replace(JOBS["outbox_dispatch"], body=boom)
    )
    login("admin", centre=None)
    client.post_form("/admin/jobs/run", {"job": "outbox_dispatch"})
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert "deliberate failure" in page and "出错" in page
    assert "Traceback" not in page and "routes.py" not in page


def test_a_centre_admin_reads_the_jobs_page_and_a_global_admin_runs_jobs(
    app, client, login, monkeypatch
):
    def boom(now):
        raise RuntimeError("deliberate failure")

    monkeypatch.setitem(
        JOBS, "outbox_dispatch", dataclasses.replace(JOBS["outbox_dispatch"], body=boom)
    )
    login("admin", centre=None)
    assert ">立即运行</button>" in client.get("/admin/jobs/").get_data(as_text=True)
    client.post_form("/admin/jobs/run", {"job": "outbox_dispatch"})
    client.post_form("/logout")
    login("admin")  # of centre 330106
    response = client.get("/admin/jobs/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert all(name in page for name in JOBS)
    assert "从未运行" in page and "下次运行" in page  # the other jobs, and when they run
    assert "出错" in page and "deliberate failure" in page  # the failed run and its error
    assert ">立即运行</button>" not in page and 'action="/admin/jobs/run"' not in page
    assert "只有全局管理员可以立即运行" in page
    assert client.post_form("/admin/jobs/run", {"job": "obligation_sweep"}).status_code == 403
    with app.app_context():
        assert [run.job for run in _db.session.scalars(select(JobRun))] == ["outbox_dispatch"]


def _scheduler(app, **env) -> subprocess.Popen:
    environment = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "MEDIATION_ENV": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "scheduler-test",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "scheduler"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def started_then_stopped(app) -> tuple[int, str]:
    """Start `flask scheduler`, wait until it has listed its jobs, stop it with SIGTERM: its
    exit code and its output."""
    process = _scheduler(app, SCHEDULER_ENABLED="true")
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout])
    reader.start()
    output = []
    try:
        while not any("outbox_dispatch" in line for line in output):
            output.append(lines.get(timeout=30))
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
        reader.join(timeout=5)
        process.stdout.close()
    while not lines.empty():
        output.append(lines.get())
    return code, "".join(output)


def test_the_scheduler_process_starts_and_stops_cleanly_on_sigterm(app):
    code, output = started_then_stopped(app)
    assert code == 0, output
    assert all(name in output for name in JOBS)
    assert "调度进程已停止" in output


def test_a_run_a_killed_scheduler_left_running_is_interrupted_when_the_next_starts(
    app, client, login
):
    with app.app_context():
        _db.session.add(
            JobRun(
                job="deadline_sweep",
                period="2026-11-02T10+08:00",
                status="running",
                started_at=clock.now() - timedelta(minutes=5),
                trigger="schedule",
            )
        )
        _db.session.commit()
        sqlite = not on_postgresql(_db)
    login("admin", centre=None)
    if sqlite:  # (PostgreSQL sees at once that no session holds the run's lock)
        assert ">运行中</span>" in client.get("/admin/jobs/").get_data(as_text=True)
    code, output = started_then_stopped(app)
    assert code == 0, output
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert ">已中断</span>" in page and "运行未完成，已中断。" in page
    with app.app_context():
        left = _db.session.scalars(select(JobRun).filter_by(period="2026-11-02T10+08:00")).one()
        assert (left.status, left.error) == ("error", runner.INTERRUPTED)


def test_a_disabled_scheduler_exits_with_a_message(app):
    process = _scheduler(app, SCHEDULER_ENABLED="false")
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "SCHEDULER_ENABLED" in output

"""The embedded SQLite set-up and the schema's migrations, on whichever engine runs the suite."""

import contextlib
import sqlite3
import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, UniqueConstraint, event, func, inspect, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, StatementError

from mediation import clock, database
from mediation.api.clients import add_client
from mediation.applications.models import Application, SubmittedFile
from mediation.audit.models import AuditEntry
from mediation.cases import workflow
from mediation.cases.models import Case, Extension
from mediation.directory.models import Centre, CentreSettings, Organization, RoutingRule
from mediation.documents.models import Attachment, StoredFile
from mediation.extensions import db as _db
from mediation.jobs.models import BackgroundJob, JobRun
from mediation.ledger.models import LedgerImport
from mediation.portal.lookup import rate_service
from mediation.stats.snapshots import snapshot_month
from tests.case_factory import build_case, centre_for, mediator_for, user_for


def test_migrations_match_the_models(db):
    with db.engine.connect() as connection:
        options = {"include_name": database.include_name}
        context = MigrationContext.configure(connection, opts=options)
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrade_from_empty_to_head_and_back(app, db):
    db.session.remove()
    flask_migrate.downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    flask_migrate.upgrade()
    tables = set(inspect(db.engine).get_table_names())
    assert {"centre", "user_account", "login_session", "audit_entry", "throttle_hit"} <= tables


def test_the_upgrade_fills_the_centre_of_agreements_and_visits_and_the_agreed_amount(app, db):
    for code in ("330106", "330105"):
        case = build_case("fulfilled", centre=code)
        workflow.record_follow_up(case, True, "", workflow.Actor.for_user(user_for(case.centre)))
    unagreed = build_case("withdrawn").id
    _db.session.commit()
    _db.session.remove()
    flask_migrate.downgrade(revision="f153dc9da347")
    flask_migrate.upgrade()
    for table in ("agreement", "obligation", "follow_up"):
        rows = _db.session.execute(
            text(
                f"SELECT t.centre_id, c.centre_id FROM {table} t "
                "JOIN dispute_case c ON c.id = t.case_id"
            )
        ).all()
        assert len({of_case for _own, of_case in rows}) == 2, table
        assert all(own == of_case for own, of_case in rows), table
    # ... and each agreed case the amounts its obligations set, added up.
    amounts = _db.session.execute(
        text(
            "SELECT c.id, c.agreed_amount, (SELECT sum(o.amount) FROM obligation o "
            "WHERE o.case_id = c.id) FROM dispute_case c"
        )
    ).all()
    assert {case_id: amount for case_id, amount, _sum in amounts} == {
        case_id: total for case_id, _amount, total in amounts
    }
    assert [amount for case_id, amount, _sum in amounts if case_id != unagreed] == [
        Decimal("5000.00")
    ] * 2


def test_datetimes_come_back_aware_in_utc(db):
    local = datetime(2026, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=8)))
    db.session.add(AuditEntry(at=local, action="demo.load"))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(select(AuditEntry.at))
    assert stored.tzinfo is not None
    assert stored == datetime(2026, 3, 1, 0, 30, tzinfo=UTC)


def test_naive_datetimes_are_refused(db):
    """A datetime without a zone could be any zone's: refused before it is written, and what
    the same transaction wrote is not kept either."""
    db.session.add(AuditEntry(at=datetime(2026, 3, 1, 0, 30, tzinfo=UTC), action="demo.load"))
    db.session.flush()
    db.session.add(AuditEntry(at=datetime(2026, 3, 1, 8, 30), action="demo.load"))
    with pytest.raises(StatementError, match="naive datetime given for a UTC column") as refused:
        db.session.flush()
    # Refused by the column type while binding: no statement reached the database.
    assert type(refused.value) is StatementError and isinstance(refused.value.orig, ValueError)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


# --- the invariants the schema holds ----------------------------------------------------------
#
# Every CHECK and UNIQUE constraint of the models, broken by a direct write to rows the app
# made: the database refuses it, whatever code writes (an import, a script, a bug).


def two_centres():
    centre_for("330106")
    centre_for("330105")


def cases():
    """An assigned case and a withdrawn one (concluded), their parties and the SMS queued."""
    build_case("assigned")
    build_case("withdrawn")


def agreed_cases():
    build_case("agreed")
    build_case("agreed")


def certified_cases():
    """Two cases whose respondents performed on time (a record and a certificate each), each
    rated by its applicant."""
    for case in (build_case("fulfilled"), build_case("fulfilled")):
        rate_service(case, case.applicants[0], 5)


def moved_cases():
    """Two cases moved from the first centre to the second: each leaves a former number."""
    to_centre = centre_for("330105")
    for case in (build_case("registered"), build_case("registered")):
        actor = workflow.Actor.for_user(user_for(case.centre, "staff"))
        workflow.move_case(case, to_centre, "登记错误", actor)


def transferred_cases():
    build_case("transferred", transfer_reason="unsuitable")
    build_case("transferred", transfer_reason="unsuitable")


def directory():
    """A centre's settings, its staff and admin users, two mediators with logins, and two
    organisations with a routing rule to each."""
    centre = centre_for()
    user_for(centre, "staff")
    user_for(centre, "admin")
    _db.session.add(CentreSettings(centre_id=centre.id))
    first = mediator_for(centre).organization
    mediator_for(centre, "赵调解", "mediator-b")
    second = Organization(centre_id=centre.id, name="西湖区物业纠纷调解委员会", kind="people")
    _db.session.add(second)
    for organization in (first, second):
        _db.session.add(
            RoutingRule(centre_id=centre.id, category_code="neighbour", organization=organization)
        )


def job_runs():
    for period in ("2026-03-01T10:00", "2026-03-01T10:05"):
        _db.session.add(JobRun(job="dispatch", period=period, started_at=clock.now()))


def ledger_import():
    _db.session.add(LedgerImport(centre_id=centre_for().id, started_at=clock.now()))


def background_job():
    _db.session.add(BackgroundJob(kind="ledger_import", created_at=clock.now()))


def snapshots():
    centre = centre_for()
    snapshot_month("2026-02", centre)
    snapshot_month("2026-03", centre)


def extension():
    case = build_case("assigned")
    _db.session.add(
        Extension(
            case_id=case.id,
            days=10,
            previous_deadline_on=case.deadline_on,
            deadline_on=case.deadline_on + timedelta(days=10),
        )
    )


def attachment():
    case = build_case("registered")
    _db.session.add(StoredFile(sha256="0" * 64, size=10, content_type="application/pdf"))
    _db.session.add(Attachment(case_id=case.id, sha256="0" * 64, filename="证据.pdf"))


def applications():
    """Two pending online applications, each with a file."""
    centre = centre_for()
    _db.session.add(StoredFile(sha256="0" * 64, size=10, content_type="application/pdf"))
    for n in (1, 2):
        application = Application(
            number=f"WS20260310{n:06d}",
            submission_token=f"form-{n}",
            centre_id=centre.id,
            parties=[],
            phone="13812345678",
            category_code="family",
            code_hash="0" * 64,
            submitted_on=date(2026, 3, 10),
            due_on=date(2026, 3, 13),
        )
        _db.session.add(application)
        _db.session.flush()
        _db.session.add(
            SubmittedFile(application_id=application.id, sha256="0" * 64, filename="证据.pdf")
        )


def api_clients():
    centre = centre_for("330106")
    for name in ("法院", "网格"):
        add_client(name, centre, ["cases:read"])


# The rows each table's constraints are tried on (made by the functions above).
ROWS = {
    "centre": two_centres,
    "category": lambda: None,  # reference data from the migrations
    "centre_settings": directory,
    "user_account": directory,
    "organization": directory,
    "mediator": directory,
    "routing_rule": directory,
    "job_run": job_runs,
    "ledger_import": ledger_import,
    "background_job": background_job,
    "stats_snapshot": snapshots,
    "dispute_case": cases,
    "party": cases,
    "outbox_message": cases,
    "extension": extension,
    "attachment": attachment,
    "agreement": agreed_cases,
    "obligation": agreed_cases,
    "transfer": transferred_cases,
    "case_former_number": moved_cases,
    "integrity_record": certified_cases,
    "certificate": certified_cases,
    "service_rating": certified_cases,
    "application": applications,
    "submitted_file": applications,
    "api_client": api_clients,
}

# CHECK constraints: the change that breaks each, made to the first row of the table (in the
# order of its key) that matches the optional filter.
CHECKS = {
    "ck_centre_code_six_digits": ({"code": "3301"}, {}),
    "ck_category_positive_period": ({"mediation_days": 0}, {}),
    "ck_centre_settings_triage_days": ({"triage_days_high_risk": 0}, {}),
    "ck_centre_settings_warning_days": ({"warning_days": -1}, {}),
    "ck_centre_settings_extension_max_days": ({"extension_max_days": -1}, {}),
    "ck_user_account_known_role": ({"role": "clerk"}, {}),
    "ck_user_account_centre_unless_admin": ({"centre_id": None}, {"role": "staff"}),
    "ck_user_account_region_of_regional_admin": ({"region_code": "3301"}, {"role": "staff"}),
    "ck_organization_known_kind": ({"kind": "club"}, {}),
    "ck_mediator_caseload": ({"max_caseload": -1}, {}),
    "ck_job_run_known_status": ({"status": "lost"}, {}),
    "ck_ledger_import_known_state": ({"state": "lost"}, {}),
    "ck_background_job_known_state": ({"state": "lost"}, {}),
    "ck_dispute_case_known_state": ({"state": "lost"}, {}),
    "ck_dispute_case_risk": ({"risk_level": "extreme"}, {}),
    "ck_dispute_case_amount_not_negative": ({"amount": Decimal("-0.01")}, {}),
    "ck_dispute_case_people_involved": ({"people_involved": 0}, {}),
    "ck_dispute_case_conclusion_complete": ({"outcome": None}, {"state": "withdrawn"}),
    "ck_dispute_case_transfer_reason": ({"transfer_reason": "failed"}, {"state": "withdrawn"}),
    "ck_dispute_case_mediator_when_assigned": ({"mediator_id": None}, {"state": "assigned"}),
    "ck_party_role": ({"role": "witness"}, {}),
    "ck_party_kind": ({"kind": "robot"}, {}),
    "ck_outbox_message_known_channel": ({"channel": "fax"}, {}),
    "ck_outbox_message_known_state": ({"state": "lost"}, {}),
    "ck_extension_positive": ({"days": 0}, {}),
    "ck_attachment_known_kind": ({"kind": "photo"}, {}),
    "ck_obligation_amount_not_negative": ({"amount": Decimal("-0.01")}, {}),
    "ck_integrity_record_known_kind": ({"kind": "neutral"}, {}),
    "ck_service_rating_stars": ({"stars": 6}, {}),
    "ck_application_known_state": ({"state": "lost"}, {}),
    "ck_application_case_when_accepted": ({"state": "accepted"}, {}),
    "ck_application_reason_when_declined": ({"state": "declined"}, {}),
    "ck_submitted_file_known_state": ({"state": "lost"}, {}),
    "ck_submitted_file_of_application_or_case": ({"application_id": None}, {}),
}

# UNIQUE constraints (and unique indexes): the second row of the table takes the first row's
# values of the constraint's columns, after the first row was given these (where the app
# leaves them empty, and empty values never collide).
UNIQUES = {
    "uq_centre_code": {},
    "uq_user_account_username": {},
    "uq_organization_centre_id_name": {},
    "uq_mediator_user_id": {},
    "uq_routing_rule_centre_id_category_code_street_organization_id": {},
    "uq_job_run_job_period": {},
    "ix_stats_snapshot_scope_month": {},
    "uq_dispute_case_centre_id_number": {},
    "uq_dispute_case_centre_id_year_seq": {},
    "uq_dispute_case_centre_id_ledger_ref": {"ledger_ref": "台账-0001"},
    "uq_dispute_case_intake_token": {"intake_token": "the-form-of-one-registration"},
    "uq_agreement_case_id": {},
    "uq_transfer_case_id": {},
    "uq_outbox_message_dedupe_key": {},
    "uq_outbox_message_idempotency_key": {},
    "uq_integrity_record_dedupe_key": {},
    "uq_certificate_number": {},
    "uq_certificate_record_id": {},
    "uq_service_rating_case_id_party_id": {},
    "uq_case_former_number_seq": {},
    "uq_application_number": {},
    "uq_application_submission_token": {},
    "uq_api_client_name": {},
    "uq_api_client_token_hash": {},
}


def constraints_of_the_models(metadata) -> dict:
    """Every CHECK and UNIQUE constraint (and unique index) of the models, by name."""
    found = {}
    for table in metadata.tables.values():
        for constraint in table.constraints | table.indexes:
            if isinstance(constraint, CheckConstraint | UniqueConstraint) or getattr(
                constraint, "unique", False
            ):
                found[constraint.name] = constraint
    return found


def test_every_check_and_unique_constraint_is_tried_below(db):
    assert set(constraints_of_the_models(db.metadata)) == set(CHECKS) | set(UNIQUES)


def rows_of(db, table, where: dict, limit: int):
    (key,) = table.primary_key.columns
    conditions = [table.c[column] == value for column, value in where.items()]
    return db.session.scalars(select(key).where(*conditions).order_by(key).limit(limit)).all()


def refused(db, constraint, write) -> IntegrityError:
    """The IntegrityError the database answers `write` with; it names the constraint (SQLite
    names a unique one by its columns)."""
    with pytest.raises(IntegrityError) as error:
        db.session.execute(write)
    message = str(error.value.orig)
    if db.engine.dialect.name == "sqlite" and not isinstance(constraint, CheckConstraint):
        table = constraint.table.name
        assert ", ".join(f"{table}.{column.name}" for column in constraint.columns) in message
    else:
        assert constraint.name in message
    return error.value


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_a_check_constraint_holds_in_the_database(db, name):
    constraint = constraints_of_the_models(db.metadata)[name]
    table = constraint.table
    ROWS[table.name]()
    db.session.commit()
    changes, where = CHECKS[name]
    (row,) = rows_of(db, table, where, 1)
    (key,) = table.primary_key.columns
    refused(db, constraint, update(table).where(key == row).values(changes))


@pytest.mark.parametrize("name", sorted(UNIQUES))
def test_a_unique_constraint_holds_in_the_database(db, name):
    constraint = constraints_of_the_models(db.metadata)[name]
    table = constraint.table
    ROWS[table.name]()
    db.session.commit()
    first, second = rows_of(db, table, {}, 2)
    (key,) = table.primary_key.columns
    if UNIQUES[name]:
        db.session.execute(update(table).where(key == first).values(UNIQUES[name]))
    columns = [column.name for column in constraint.columns]
    taken = db.session.execute(select(*constraint.columns).where(key == first)).one()
    refused(
        db,
        constraint,
        update(table).where(key == second).values(dict(zip(columns, taken, strict=True))),
    )


def _only_on(db, engine: str, why: str):
    """`db` for a test of one engine's own set-up: the suite runs once per engine (CI runs
    both), and the other engine has nothing of it to test."""
    if db.engine.dialect.name != engine:
        pytest.skip(why)
    return db


@pytest.fixture
def sqlite_only(db):
    return _only_on(db, "sqlite", "SQLite set-up; the PostgreSQL run covers the production engine")


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(sqlite_only):
    with sqlite_only.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 4000


def test_a_writer_waits_for_the_write_lock_then_gives_up_with_an_error(
    app, sqlite_only, monkeypatch
):
    """A write waits while another connection saves, starts once it ends, and gives up with
    "database is locked" when the lock is held past the timeout (not a hang)."""
    monkeypatch.setattr(database, "WRITE_LOCK_TIMEOUT", 0.3)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    saving = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    saving.execute("BEGIN IMMEDIATE")
    ends_saving = threading.Timer(0.2, saving.execute, ("ROLLBACK",))
    try:
        with app.app_context():
            started = time.monotonic()
            with pytest.raises(OperationalError, match="database is locked"):
                sqlite_only.session.execute(text("select 1"))
            assert 0.3 <= time.monotonic() - started < 5
            sqlite_only.session.rollback()
        # Now a wait long enough for the other save to end however busy the machine is (its
        # timer's thread may run late): the write starts when it ends, not at the timeout.
        monkeypatch.setattr(database, "WRITE_LOCK_TIMEOUT", 10)
        ends_saving.start()
        with app.app_context():
            started = time.monotonic()
            sqlite_only.session.add(Centre(code="330199", name="等待", abbreviation="等"))
            sqlite_only.session.commit()
            assert 0.15 <= time.monotonic() - started < 5
    finally:
        # The timer's thread may still be inside execute() after SQLite let the lock go:
        # closing the connection under it crashed the interpreter.
        if ends_saving.is_alive():
            ends_saving.join()
        saving.close()


@pytest.fixture
def sqlite_app(app):
    """`app` on SQLite, for tests through the test client: their requests must not share the
    `db` fixture's app context (and its session and transaction)."""
    with app.app_context():
        _only_on(_db, "sqlite", "SQLite's write lock; PostgreSQL locks rows")
    return app


@contextlib.contextmanager
def another_worker_saving(app, monkeypatch):
    """While the block runs, another connection holds SQLite's write lock (another worker
    saving); a transaction that needs the lock gives up after 0.3 s (not 30)."""
    monkeypatch.setattr(database, "WRITE_LOCK_TIMEOUT", 0.3)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    saving = sqlite3.connect(path, isolation_level=None)
    saving.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        saving.execute("ROLLBACK")
        saving.close()


def test_health_is_answered_at_once_while_another_worker_saves(sqlite_app, client, monkeypatch):
    """The file takes writes (another worker is writing it): healthy, and not after a wait
    for the lock that an import may hold for minutes."""
    with another_worker_saving(sqlite_app, monkeypatch):
        monkeypatch.setattr(database, "WRITE_LOCK_TIMEOUT", 5)
        started = time.monotonic()
        assert client.get("/healthz").get_json() == {"status": "ok"}
        assert time.monotonic() - started < 1


def test_pages_are_served_while_another_worker_saves_and_forms_wait_their_turn(
    sqlite_app, client, login, monkeypatch
):
    """A page (GET) only reads: it needs no write lock. A form (POST) takes the lock as its
    transaction begins, so it waits for the other worker's save instead of failing half-way
    with SQLITE_BUSY when it comes to write."""
    login("staff")
    with another_worker_saving(sqlite_app, monkeypatch):
        for url in ("/", "/cases/", "/account/password"):
            assert client.get(url).status_code == 200, url
        # The wait ends in the "try again in a minute" page, not an error.
        assert client.post_form("/logout").status_code == 503
        # From its start, even one that turns out to write nothing (a wrong password).
        refused = client.post_form("/account/password", {"current_password": "wrong"})
        assert refused.status_code == 503 and "暂时无法使用" in refused.get_data(as_text=True)
        assert client.get("/").status_code == 200  # still signed in: nothing was done
    assert client.post_form("/logout").headers["Location"] == "/login"


INTAKE = {
    "channel": "walk_in",
    "category": "labour",
    "people_involved": "1",
    "risk_level": "low",
    "summary": "拖欠工资三个月。",
    "parties-0-role": "applicant",
    "parties-0-kind": "person",
    "parties-0-name": "王小明",
    "parties-0-id_number": "11010519491231002X",
    "parties-1-role": "respondent",
    "parties-1-kind": "organization",
    "parties-1-name": "杭州某某科技有限公司",
}


def test_the_registration_form_takes_the_write_lock_only_to_register(
    sqlite_app, client, login, monkeypatch
):
    """Registration reads and checks everything before it takes the write lock, so staff
    filling in the form (adding party rows, correcting mistakes) never wait for a save."""
    login("staff")
    with another_worker_saving(sqlite_app, monkeypatch):
        more = client.post_form("/cases/new", {**INTAKE, "add_party": "y"})
        assert more.status_code == 200 and 'name="parties-2-name"' in more.get_data(as_text=True)
        mistake = client.post_form("/cases/new", {**INTAKE, "summary": ""})
        assert mistake.status_code == 200 and "is-invalid" in mistake.get_data(as_text=True)
        assert client.post_form("/cases/new", INTAKE).status_code == 503
    with sqlite_app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Case)) == 0
    registered = client.post_form("/cases/new", INTAKE).get_data(as_text=True)
    assert "西湖调〔" in registered and "王小明" in registered


def test_a_registration_whose_checks_overlapped_another_workers_save_still_registers(
    sqlite_app, client, login, monkeypatch
):
    """Another worker saves while the form is being checked (without the write lock): the
    case is written in a transaction begun after that save. (Written in the checking one,
    SQLite would refuse it at once: that transaction's view of the database is out of date.)"""
    login("staff")
    path = sqlite_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    decide_registration = workflow.decide_registration

    def checked_while_another_worker_saves(*args, **kwargs):
        plan = decide_registration(*args, **kwargs)
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("UPDATE centre SET name = name || '（改）'")
        finally:
            other.close()
        return plan

    monkeypatch.setattr(workflow, "decide_registration", checked_while_another_worker_saves)
    registered = client.post_form("/cases/new", INTAKE).get_data(as_text=True)
    assert "西湖调〔" in registered and "王小明" in registered
    with sqlite_app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Case)) == 1


def test_concurrent_read_then_write_transactions_never_fail_busy(app, sqlite_only):
    """Each writer reads, pauses, then writes: with deferred BEGIN the second one to write
    would get SQLITE_BUSY at once; with BEGIN IMMEDIATE it waits its turn."""
    errors: list[Exception] = []
    barrier = threading.Barrier(4)

    def writer(index: int) -> None:
        try:
            with app.app_context():
                session = sqlite_only.session
                barrier.wait()
                count = session.scalar(text("select count(*) from centre"))
                session.add(Centre(code=f"{330100 + index}", name=f"c{count}", abbreviation="x"))
                session.commit()
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        assert sqlite_only.session.scalar(text("select count(*) from centre")) == 4


def _request_end(app, db, work) -> list[str]:
    """How the transaction of a request doing `work` ended (its teardown runs as Flask's)."""
    ends = []
    listeners = [
        (name, lambda *_args, name=name: ends.append(name)) for name in ("commit", "rollback")
    ]
    for name, listener in listeners:
        event.listen(db.engine, name, listener)
    try:
        with app.test_request_context("/"):
            work()
            app.do_teardown_request(None)
            db.session.remove()
    finally:
        for name, listener in listeners:
            event.remove(db.engine, name, listener)
    return ends


def test_a_request_that_only_read_ends_in_commit_one_that_wrote_in_rollback(app, db, make_centre):
    """On PostgreSQL (configure_postgresql); SQLite has no prepared statements to keep, and
    every request ends in a rollback there as Flask-SQLAlchemy ends it."""
    read_end = "commit" if db.engine.dialect.name == "postgresql" else "rollback"
    centre_id = make_centre().id

    def rename(flush: bool):
        def work():
            db.session.get(Centre, centre_id).name = "改名未保存"
            if flush:
                db.session.flush()

        return work

    # Reading ends in COMMIT: psycopg keeps its prepared statements (a ROLLBACK drops them).
    assert _request_end(app, db, lambda: db.session.get(Centre, centre_id)) == [read_end]
    # What a request wrote, or changed without writing, and did not commit is never kept.
    assert _request_end(app, db, rename(flush=True)) == ["rollback"]
    assert _request_end(app, db, rename(flush=False)) == ["rollback"]
    statement = text("UPDATE centre SET name = '改名未保存' WHERE id = :id")
    assert _request_end(app, db, lambda: db.session.execute(statement, {"id": centre_id})) == [
        "rollback"
    ]
    assert db.session.get(Centre, centre_id).name == "西湖区社会矛盾纠纷调处化解中心"

    def failed_read():
        # A view that caught it: the teardown must not fail on the dead transaction (PostgreSQL
        # ends it as a rollback whatever it is sent), and the next request reads as ever.
        with contextlib.suppress(DBAPIError):
            db.session.execute(text("SELECT 1 / 0"))

    assert len(_request_end(app, db, failed_read)) == 1
    assert _request_end(app, db, lambda: db.session.get(Centre, centre_id)) == [read_end]

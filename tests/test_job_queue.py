"""Long work as jobs (issue 22): a queued job is claimed once, its progress and outcome are in
the database, a killed job process leaves nothing written and its page says so, and a ledger
is read a row at a time, bounded in rows and in what its XLSX would expand to."""

import io
import os
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from mediation.cases.models import Case
from mediation.extensions import db as _db
from mediation.jobs.models import BackgroundJob
from mediation.jobs.queue import claim, enqueue, side_engine
from mediation.ledger.background import queue_import
from mediation.ledger.importer import import_ledger
from mediation.ledger.models import LedgerFile, LedgerImport
from mediation.ledger.reader import COLUMNS, LedgerFileError, read_ledger
from tests.case_factory import centre_for, mediator_for
from tests.ledger_rows import row, to_csv

ROOT = Path(__file__).resolve().parent.parent
ORG = "西湖人民调解委员会"  # made by mediator_for


@pytest.fixture
def centre(db):
    centre = centre_for("330106")
    mediator_for(centre)
    _db.session.commit()
    return centre


def upload(client, centre, data: bytes, name: str = "台账.csv", **fields):
    return client.post_form(
        "/admin/ledger/",
        {"file": (io.BytesIO(data), name), "centre": str(centre.id), "dry_run": "", **fields},
        content_type="multipart/form-data",
    )


def claimed_by_two_workers(app) -> list[int | None]:
    """Two workers, each with its own connections, claim at the same moment."""
    barrier, claimed = threading.Barrier(2), []

    def worker():
        with app.app_context():
            connection = side_engine().connect()
            try:
                barrier.wait()
                claimed.append(claim(connection))
            finally:
                connection.close()
                _db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return claimed


def test_a_queued_job_is_claimed_by_one_of_two_workers(app):
    with app.app_context():
        job_id = enqueue("ledger_import").id
        _db.session.commit()
    claimed = claimed_by_two_workers(app)
    assert sorted(claimed, key=lambda c: c or 0) == [None, job_id]
    with app.app_context():
        job = _db.session.get(BackgroundJob, job_id)
        assert job.state == "running" and job.worker.endswith(f":{os.getpid()}")


def test_two_queued_jobs_go_one_to_each_worker(app):
    with app.app_context():
        ids = {enqueue("ledger_import").id, enqueue("ledger_import").id}
        _db.session.commit()
    assert set(claimed_by_two_workers(app)) == ids


def test_on_postgresql_a_worker_skips_the_job_another_is_claiming(app):
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite lets one writer claim at a time: the test above")
        first, second = enqueue("ledger_import").id, enqueue("ledger_import").id
        _db.session.commit()
        # The first worker has the oldest job's row locked, in the middle of its claim.
        with _db.engine.connect() as other:
            locked = other.exec_driver_sql(
                "select id from background_job where state = 'queued' order by id limit 1 "
                "for update skip locked"
            ).scalar()
            assert locked == first
            connection = side_engine().connect()
            try:
                started = time.monotonic()
                assert claim(connection) == second  # not waiting for the first
                assert time.monotonic() - started < 2
            finally:
                connection.close()
            other.rollback()


def _job_process(app) -> subprocess.Popen:
    environment = {
        **{k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"},
        "FLASK_APP": "wsgi",
        "MEDIATION_ENV": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "job-test",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "jobs", "work", "--once"],
        cwd=ROOT,
        env=environment,
    )


def _job_of(import_id: int):
    """The job's state, phase and progress, as a page reads them: on SQLite without waiting
    for the write lock (which this process's session would take, outside a request)."""
    with side_engine().connect() as connection:
        return connection.execute(
            select(BackgroundJob.state, BackgroundJob.phase, BackgroundJob.done)
            .join(LedgerImport)
            .where(LedgerImport.id == import_id)
        ).one()


def test_killing_the_job_process_mid_import_writes_nothing_and_the_page_says_so(
    app, client, login, centre
):
    login("admin")
    agreed = {
        "organization": ORG,
        "mediator": "王调解",
        "assigned_on": "2025-03-04",
        "outcome": "agreed",
        "concluded_on": "2025-03-20",
        "agreement_amount": "100",
        "due_on": "2025-04-20",
        "fulfilled_on": "2025-04-01",
    }
    data = to_csv([row(f"K{n:05d}", **agreed) for n in range(20_000)])
    # Queued as the upload page queues it (a file this size would go through a temporary
    # file in the test client).
    import_id = queue_import(LedgerImport(centre_id=centre.id, filename="台账.csv"), data)
    process = _job_process(app)
    try:
        deadline = time.monotonic() + 120
        while (job := _job_of(import_id)).phase != "writing":
            assert time.monotonic() < deadline and process.poll() is None, job
            time.sleep(0.05)
        # Into writing: on PostgreSQL its progress says so; SQLite's single write lock is the
        # import's until it commits, so its progress stays at 0 meanwhile.
        if _db.engine.dialect.name == "postgresql":
            while job.done == 0 and process.poll() is None:
                time.sleep(0.02)
                job = _job_of(import_id)
        else:
            time.sleep(0.3)
        assert process.poll() is None, "the import ended before it could be killed"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    text = client.get(f"/admin/ledger/{import_id}").get_data(as_text=True)
    assert "导入已中断" in text and "未写入任何数据" in text
    assert 'http-equiv="refresh"' not in text
    _db.session.rollback()
    assert _db.session.scalar(select(func.count()).select_from(Case)) == 0
    item = _db.session.get(LedgerImport, import_id)
    assert (item.state, item.job.state, item.job.error) == ("failed", "failed", "interrupted")
    assert _db.session.get(LedgerFile, import_id) is None  # an interrupted import keeps no file
    # The database takes the next import: nothing was left half-written or locked.
    text = client.get(upload(client, centre, to_csv([row("K00001")])).headers["Location"]).get_data(
        as_text=True
    )
    assert "台账已导入：新建案件 1 件" in text


def test_a_ledger_past_the_row_limit_is_refused_and_reading_stops_at_it(centre):
    data = to_csv([row(f"R{n:03d}") for n in range(50)])
    read = []
    with pytest.raises(LedgerFileError, match="超过 10 行"):
        for line, _values in read_ledger(data, max_rows=10).rows():
            read.append(line)
    assert read == list(range(2, 12))  # the header is row 1; nothing past the limit
    with pytest.raises(LedgerFileError, match="超过 10 行"):
        import_ledger(centre, data, max_rows=10)
    assert _db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_the_upload_page_says_when_a_ledger_is_past_the_row_limit(
    app, client, login, centre, monkeypatch
):
    monkeypatch.setitem(app.config, "LEDGER_MAX_ROWS", 10)
    login("admin")
    page = upload(client, centre, to_csv([row(f"R{n:03d}") for n in range(11)]))
    text = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "台账超过 10 行" in text and "失败" in text
    assert _db.session.scalar(select(func.count()).select_from(Case)) == 0
    page = upload(client, centre, to_csv([row(f"R{n:03d}") for n in range(10)]))
    assert "新建案件 10 件" in client.get(page.headers["Location"]).get_data(as_text=True)


def _xlsx(rows: int) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS.values()))
    for n in range(rows):
        values = row(f"X{n:06d}", summary=f"第{n}号纠纷的简要情况，双方对欠款金额有争议。")
        sheet.append([values.get(name, "") for name in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_ledger_is_read_a_row_at_a_time_in_bounded_memory(app):
    data = _xlsx(4000)
    with app.app_context():
        sheet = read_ledger(data, max_rows=5000)
        tracemalloc.start()
        count = sum(1 for _row in sheet.rows())
        streamed = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        tracemalloc.start()
        every_row = list(sheet.rows())  # what reading built before: every row at once
        built = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert count == len(every_row) == 4000
    assert streamed < 3 * 1024 * 1024, streamed
    assert built > 3 * streamed


def _bomb() -> bytes:
    """A ZIP that names itself an XLSX, with a part of zeros packed a thousandfold."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (4 * 1024 * 1024))
    return buffer.getvalue()


def test_a_zip_bomb_posing_as_an_xlsx_ledger_is_refused_beside_the_field(client, login, centre):
    login("admin")
    page = upload(client, centre, _bomb(), name="台账.xlsx")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "压缩炸弹" in text and "invalid-feedback" in text
    assert _db.session.scalar(select(func.count()).select_from(LedgerImport)) == 0
    with pytest.raises(LedgerFileError, match="压缩炸弹"):
        import_ledger(centre, _bomb())


def test_the_scheduler_process_does_a_queued_import(app, client, login, centre):
    login("admin")
    import_id = queue_import(
        LedgerImport(centre_id=centre.id, filename="台账.csv"), to_csv([row("S1"), row("S2")])
    )
    environment = {
        **{k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"},
        "FLASK_APP": "wsgi",
        "MEDIATION_ENV": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "job-test",
        "SCHEDULER_ENABLED": "true",
        "JOB_POLL_SECONDS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "scheduler"], cwd=ROOT, env=environment
    )
    try:
        deadline = time.monotonic() + 60
        while _job_of(import_id).state != "done":
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    text = client.get(f"/admin/ledger/{import_id}").get_data(as_text=True)
    assert "台账已导入：新建案件 2 件" in text

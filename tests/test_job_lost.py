"""A job that a page marked interrupted while its body still worked (on PostgreSQL: the
connection holding the job's lock dropped, so its process looked dead) must not be overwritten
by the body's last commit: the page told the user that nothing was written, so nothing is."""

import threading

import pytest
from sqlalchemy import func, select, text

from mediation.cases.models import Case
from mediation.extensions import db as _db
from mediation.jobs import queue
from mediation.ledger.background import queue_import
from mediation.ledger.models import LedgerImport
from tests.case_factory import centre_for, mediator_for
from tests.ledger_rows import row, to_csv


@pytest.fixture
def import_id(db):
    centre = centre_for("330106")
    mediator_for(centre)
    _db.session.commit()
    data = to_csv([row(f"J{n:04d}") for n in range(300)])
    return queue_import(LedgerImport(centre_id=centre.id, filename="台账.csv"), data)


def _interrupt_from_a_page(app, job_id: int) -> None:
    """What a page does for a job whose process seems gone, from another connection. On
    PostgreSQL the job's lock connection is dropped first, as a network failure would, and
    the page's own liveness check must then find the job dead."""
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            _db.session.execute(
                text(
                    "select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory'"
                    " and classid = :key and objid = :id and objsubid = 2"
                ),
                {"key": queue.JOB_LOCK, "id": job_id},
            )
            _db.session.commit()
            assert queue.close_interrupted() == 1
        else:  # SQLite: the job's process is this one, alive; the page's verdict is simulated
            queue._fail(job_id, queue.INTERRUPTED)
        _db.session.remove()


def test_a_job_marked_interrupted_mid_import_keeps_that_outcome_and_writes_nothing(
    app, import_id, monkeypatch
):
    class InterruptedWhileWriting(queue.Progress):
        def __call__(self, phase, done, total):
            if phase == "writing" and done == 0:
                page = threading.Thread(target=_interrupt_from_a_page, args=(app, self.job_id))
                page.start()
                page.join()
            super().__call__(phase, done, total)

    monkeypatch.setattr(queue, "Progress", InterruptedWhileWriting)
    with app.app_context():
        assert queue.run_next()
        _db.session.remove()
    item = _db.session.get(LedgerImport, import_id)
    _db.session.refresh(item)
    assert (item.job.state, item.job.error) == ("failed", queue.INTERRUPTED)
    assert item.state == "failed" and "中断" in item.error
    assert _db.session.scalar(select(func.count()).select_from(Case)) == 0

"""The 10M bench's machinery at a small scale (issue 22; bench/centres.py, bench/undo.py): a
centre copied in SQL is a centre the pages and the statistics work on, and a run's writes on
the base are undone exactly. PostgreSQL only (the 10M base is built there only)."""

import pytest
from sqlalchemy import func, select, text

from bench import centres, fixtures, undo
from bench.timed import time_deadline_sweep
from mediation.cases.models import Case, CaseCounter, Party
from mediation.demo.data import DEMO_PASSWORD, load_demo, staff_user
from mediation.demo.scale import generate_cases
from mediation.directory.centres import centre_by_code
from mediation.extensions import db as _db
from mediation.integrity.models import Certificate
from mediation.stats.queries import month_stats, region_stats

CASES = 60
_INDEXES = text(
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
    "AND tablename NOT LIKE 'bench%' ORDER BY 1"
)


@pytest.fixture
def region(app):
    """The demo centre with CASES generated cases and two copies of it (330102, 330105); the
    libpq URL of the database."""
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            # The 10M bench copies centres with PostgreSQL's SQL (TEMPLATE, triggers, sequences)
            # and has no SQLite form; CI's PostgreSQL suite runs these tests.
            pytest.skip("the region base is built on PostgreSQL only: see the PostgreSQL suite")
        generate_cases(load_demo(), staff_user(), CASES)
        _db.session.commit()
        url = _db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        indexes = _db.session.execute(_INDEXES).all()
        _db.session.remove()
    centres.copy_centres(url, 3)
    centres.restore_indexes(url)
    with app.app_context():
        assert _db.session.execute(_INDEXES).all() == indexes  # all made again
        _db.session.remove()
    yield url
    with app.app_context():
        _db.session.remove()
        with _db.engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {centres.STATE_TABLE}")
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {centres.INDEX_TABLE}")
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {undo.SCHEMA} CASCADE")


def test_a_copied_centre_has_its_own_numbers_counters_and_figures(app, region):
    centres.copy_centres(region, 3)  # a second build finds both copies done
    with app.app_context():
        codes = ("330106", "330102", "330105")
        ids = [centre_by_code(code).id for code in codes]
        for centre_id, word in zip(ids, ("西湖", "上城", "拱墅"), strict=True):
            numbers = list(_db.session.scalars(select(Case.number).filter_by(centre_id=centre_id)))
            assert len(numbers) == CASES
            assert all(number.startswith(f"{word}调〔") for number in numbers)
        assert fixtures.duplicate_case_numbers() == 0
        assert fixtures.numbering_gaps() == []
        counters = _db.session.execute(
            select(CaseCounter.centre_id, func.sum(CaseCounter.last_seq)).group_by(
                CaseCounter.centre_id
            )
        )
        assert {centre_id: total for centre_id, total in counters} == dict.fromkeys(ids, CASES)
        certificates = list(_db.session.scalars(select(Certificate.number)))
        assert len(certificates) == len(set(certificates))
        # The copies' figures are the first centre's, and the region's their sum.
        month = fixtures.previous_month()
        first = month_stats(month, centre_by_code("330106"))
        assert month_stats(month, centre_by_code("330102"))["summary"] == first["summary"]
        by_centre = region_stats(month, "3301")["by_centre"]
        assert [c["centre"] for c in by_centre] == sorted(codes)
        assert all(c["summary"] == by_centre[0]["summary"] for c in by_centre)
        case_id = _db.session.scalar(select(func.max(Case.id)))
        assert _db.session.get(Case, case_id).centre_id == ids[2]


def test_the_pages_of_a_copied_centre_work(app, client, region):
    response = client.post_form(
        "/login", {"username": "bench-staff-330105", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    page = client.get("/cases/")
    assert page.status_code == 200
    assert "拱墅调〔" in page.get_data(as_text=True)
    assert "西湖调〔" not in page.get_data(as_text=True)
    with app.app_context():
        centre_id = centre_by_code("330105").id
        case_ids = list(_db.session.scalars(select(Case.id).filter_by(centre_id=centre_id)))
    for case_id in case_ids[::7]:
        assert client.get(f"/cases/{case_id}").status_code == 200
    assert client.get("/cases/dashboard").status_code == 200
    assert client.get("/cases/?state=mediating").status_code == 200


def test_a_run_on_the_base_is_undone(app, region):
    marked = undo.begin(region)
    with app.app_context():
        before = _db.session.scalar(select(func.count()).select_from(Party))
        # Every case of the centre: the fixed first case among them once, not twice.
        everyone = _db.session.scalar(
            select(func.count()).where(Case.centre_id == fixtures.demo_centre().id)
        )
        pairs = fixtures.issue_access_codes(everyone)
        assert len({number for number, _code in pairs}) == everyone
        fixtures.submit_applications(3)
        fixtures.make_deadlines_due(0.5)
        assert time_deadline_sweep().rows
        fixtures.add_bench_centre("339901", "基准测试台账导入中心", "台账")
        # A row of a table without an id, added and then changed (as an import's counters).
        counter = CaseCounter(centre_id=centre_by_code("339901").id, year=2020, last_seq=1)
        _db.session.add(counter)
        _db.session.commit()
        counter.last_seq = 2
        _db.session.commit()
        _db.session.remove()
    assert undo.check(region)  # the run changed the base
    outcome = undo.revert(region)
    assert outcome.restored["party"] == everyone
    assert outcome.removed["centre"] == 1
    assert undo.check(region) == []
    with app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Party)) == before
        assert centre_by_code("339901") is None
        _db.session.remove()
    undo.finish(region)
    # A run that died before its undo: the next one undoes it first.
    undo.begin(region)
    with app.app_context():
        fixtures.issue_access_codes(5)
        _db.session.remove()
    assert [t.rows for t in undo.begin(region)] == [t.rows for t in marked]
    undo.revert(region)
    assert undo.check(region) == []
    undo.finish(region)

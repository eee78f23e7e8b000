"""Case numbers (SPEC 3.1): per centre and year, gapless, unique under concurrency."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from mediation import clock
from mediation.auth.models import User
from mediation.cases.models import Case, CaseCounter
from mediation.cases.numbering import (
    NumberParts,
    canonical_case_number,
    format_case_number,
    normalise_case_number,
    parse_case_number,
)
from mediation.cases.workflow import Actor, IntakeData, register_case
from mediation.directory.models import Centre
from tests.case_factory import default_parties

MIDYEAR = datetime(2026, 6, 1, 2, tzinfo=UTC)


def test_the_format():
    assert format_case_number("西湖", 2026, 42) == "西湖调〔2026〕42号"


def test_numbers_run_per_centre_and_per_year(make_case):
    with clock.frozen_at(MIDYEAR):
        numbers = [make_case().number for _ in range(3)]
        other_centre = make_case(centre="330105").number
    last_2026 = make_case(at=datetime(2026, 12, 31, 15, 59, tzinfo=UTC)).number
    # 16:00 UTC on 31 December is midnight in Shanghai: the new year starts its own count.
    first_2027 = make_case(at=datetime(2026, 12, 31, 16, 0, tzinfo=UTC))
    assert numbers == ["西湖调〔2026〕1号", "西湖调〔2026〕2号", "西湖调〔2026〕3号"]
    assert other_centre == "拱墅调〔2026〕1号"
    assert last_2026 == "西湖调〔2026〕4号"
    assert (first_2027.number, first_2027.year, first_2027.seq) == ("西湖调〔2027〕1号", 2027, 1)


def test_a_rolled_back_registration_gives_its_number_back(db, make_case):
    with clock.frozen_at(MIDYEAR):
        first = make_case()
        staff = Actor.for_user(first.registered_by)
        data = IntakeData("walk_in", "family", default_parties())
        lost = register_case(first.centre, data, staff).case
        assert lost.number == "西湖调〔2026〕2号"
        db.session.rollback()
        numbers = [make_case().number, make_case().number]
    assert numbers == ["西湖调〔2026〕2号", "西湖调〔2026〕3号"]


@pytest.mark.parametrize(
    "typed",
    [
        "西湖调〔2026〕42号",
        "西湖调（2026）42号",
        "西湖调(2026)42号",
        "西湖调[2026]42号",
        "西湖调【2026】42号",
        " 西湖调 〔2026〕 42 号 ",
        "西湖调（２０２６）４２号",
        "西湖调\u3000［2026］42号",
    ],
)
def test_what_parties_type_is_normalised(typed):
    assert normalise_case_number(typed) == "西湖调〔2026〕42号"


@pytest.mark.parametrize(
    "typed",
    [
        "西湖调 2026 215号",
        "西湖调2026215号",
        "西湖调（2026）215",
        "西湖调 〔2026〕 0215 号",
        "西湖调2026-215",
        "西湖调２０２６年第２１５号",
    ],
)
def test_a_whole_number_typed_any_way_reads_as_the_stored_one(typed):
    assert canonical_case_number(typed) == "西湖调〔2026〕215号"


def test_what_is_no_whole_number_is_only_normalised():
    assert canonical_case_number(" 〔2026〕 215号 ") == "〔2026〕215号"
    assert canonical_case_number("张 三") == "张三"


def test_normalising_keeps_different_numbers_apart():
    assert normalise_case_number("西湖调(2026)4号") != normalise_case_number("西湖调(2026)42号")
    assert normalise_case_number("西湖调(2025)42号") != normalise_case_number("西湖调(2026)42号")


@pytest.mark.parametrize(
    "typed, parts",
    [
        ("西湖调〔2026〕42号", NumberParts(42, 2026, "西湖")),
        ("西湖调 2026 42号", NumberParts(42, 2026, "西湖")),
        ("西湖调202642号", NumberParts(42, 2026, "西湖")),
        ("西 湖 调 （ 2 0 2 6 ） 4 2 号", NumberParts(42, 2026, "西湖")),
        ("滨江矛调调〔2025〕7号", NumberParts(7, 2025, "滨江矛调")),
        ("〔2026〕42", NumberParts(42, 2026)),
        ("西湖调2026-42", NumberParts(42, 2026, "西湖")),
        ("西湖调2026年第42号", NumberParts(42, 2026, "西湖")),
        ("西湖调〔2026〕第42号", NumberParts(42, 2026, "西湖")),
        ("2026 42号", NumberParts(42, 2026)),
        ("2026年42号", NumberParts(42, 2026)),
        ("42号", NumberParts(42)),
        ("４２", NumberParts(42)),
    ],
)
def test_a_typed_number_is_read_into_its_parts(typed, parts):
    assert parse_case_number(typed) == parts
    assert parts.number is None or parts.number == normalise_case_number(parts.number)


@pytest.mark.parametrize(
    "typed",
    ["张三", "西湖调", "〔2026〕", "西湖调〔2026〕", "0", "42号号", "1234567890"],
)
def test_what_is_no_case_number_is_not_read_as_one(typed):
    assert parse_case_number(typed) is None


THREADS, EACH = 8, 5


def test_concurrent_registrations_get_distinct_gapless_numbers(app, db, make_user):
    # The test's own session stays idle meanwhile: on SQLite it would hold the write lock.
    user = make_user("staff")
    staff_id, centre_id = user.id, user.centre_id
    numbers, errors = [], []
    start = threading.Barrier(THREADS)

    def register_several():
        try:
            with app.app_context():
                staff = Actor.for_user(db.session.get(User, staff_id))
                centre = db.session.get(Centre, centre_id)
                db.session.commit()
                start.wait()
                for _ in range(EACH):
                    data = IntakeData("hotline", "labour", default_parties())
                    case = register_case(centre, data, staff).case
                    numbers.append((case.seq, case.number))
                    db.session.commit()
        except Exception as error:  # reported below; a thread's exception is otherwise lost
            errors.append(error)

    with clock.frozen_at(MIDYEAR):
        threads = [threading.Thread(target=register_several) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    total = THREADS * EACH
    assert sorted(seq for seq, _ in numbers) == list(range(1, total + 1))
    assert len({number for _, number in numbers}) == total
    stored = db.session.scalars(select(Case.seq).order_by(Case.seq)).all()
    assert stored == list(range(1, total + 1))
    assert db.session.get(CaseCounter, (centre_id, 2026)).last_seq == total

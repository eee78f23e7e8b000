"""The case list's search box (issue 19): a case by any part of its number, a party by mobile,
ID number or a name anywhere in it, with how many cases match; each read through an index."""

import re
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from mediation import clock
from mediation.auth.models import User
from mediation.cases import queries, search
from mediation.cases.models import CaseCounter, Party
from mediation.cases.workflow import PartyData
from tests.case_factory import CREDIT_CODE, LI_ID, ZHANG_ID, centre_for

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
LAST_YEAR = datetime(2025, 11, 3, 2, 0, tzinfo=UTC)
CASE_LINK = re.compile(r'href="/cases/(\d+)"')


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def person(role: str, name: str, id_number=None, phone=None) -> PartyData:
    return PartyData(role, "person", name, id_number, None, phone)


def organisation(role: str, name: str, credit_code=None) -> PartyData:
    return PartyData(role, "organization", name, None, credit_code)


@pytest.fixture
def register(db, make_case):
    """register(*names or PartyData, seq=None, at=NOW, centre="330106"): a registered case
    whose parties are these (a name is a natural person; the first an applicant, the rest
    respondents, 李四 when there is no other), numbered `seq` in its year when given (its
    centre's counter continues from there); returns the case's id."""

    def make(*parties, seq=None, at=NOW, centre="330106"):
        parties = (
            parties if len(parties) > 1 else (*parties, "李四") if parties else ("张三", "李四")
        )
        parties = [
            party if isinstance(party, PartyData) else person("respondent", party)
            for party in parties
        ]
        parties[0] = replace(parties[0], role="applicant")
        if seq is not None:
            centre_obj = centre_for(centre)
            year = at.astimezone(ZoneInfo(centre_obj.timezone)).year
            counter = db.session.get(CaseCounter, (centre_obj.id, year))
            if counter is None:
                counter = CaseCounter(centre_id=centre_obj.id, year=year, last_seq=0)
                db.session.add(counter)
            counter.last_seq = seq - 1
            db.session.commit()
        case_id = make_case(at=at, centre=centre, parties=parties).id
        # Reading the id began a transaction, which on SQLite holds the write lock.
        db.session.rollback()
        return case_id

    return make


def searched(client, q: str, **filters) -> tuple[list[int], str]:
    """The cases the list shows for `q` (ids, in the list's order) and what it says."""
    response = client.get("/cases/", query_string={"q": q, **filters})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return [int(i) for i in CASE_LINK.findall(page)], page


def found(client, q: str, **filters) -> list[int]:
    return searched(client, q, **filters)[0]


# --- what a search finds ----------------------------------------------------------------------


def test_a_case_is_found_by_any_part_of_its_number(client, login, register):
    this_year = register(seq=214)
    last_year = register(seq=214, at=LAST_YEAR)
    longer = register(seq=2140)
    register(seq=214, centre="330105")  # 拱墅调〔2026〕214号: another centre's
    login("staff")
    for typed in ("214", "214号", "２１４", " 214 号 "):
        assert found(client, typed) == [this_year, last_year], typed
    for typed in ("2026 214", "〔2026〕214", "（2026）214号", "2026年214号", "2026-214"):
        assert found(client, typed) == [this_year], typed
    assert found(client, "[2025]214") == [last_year]
    for typed in ("西湖调〔2026〕214号", "西湖调 2026 214号", "西湖调2026214号", "西湖调(2026)214"):
        assert found(client, typed) == [this_year], typed
    assert found(client, "拱墅调〔2026〕214号") == []
    assert found(client, "2140") == [longer]
    assert found(client, "21") == []


def test_a_case_is_found_by_a_partys_mobile_or_id_number(client, login, register):
    zhang = register(person("applicant", "张三", ZHANG_ID, "13812345678"), "李四")
    company = register("王五", organisation("respondent", "杭州某某物业服务有限公司", CREDIT_CODE))
    register(person("applicant", "赵六", LI_ID, "13987654321"))
    login("staff")
    for typed in ("13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678"):
        assert found(client, typed) == [zhang], typed
    for typed in (ZHANG_ID, ZHANG_ID.lower(), "110105 19491231 002X"):
        assert found(client, typed) == [zhang], typed
    assert found(client, CREDIT_CODE.lower()) == [company]
    # Exact only: the start of a mobile is not looked for as one.
    assert found(client, "1381234") == []


def test_a_party_is_found_by_a_name_anywhere_in_it(client, login, register):
    ouyang = register("欧阳明华", "王五")
    li = register("李张明", "赵六")
    zhang = register("张三", "李四")
    company = register("钱七", organisation("respondent", "杭州某某物业服务有限公司"))
    login("staff")
    # One character: a surname.
    assert found(client, "张") == [zhang]
    assert found(client, "欧") == [ouyang]
    assert found(client, "明") == []
    # Two: the start or the end of a name.
    assert found(client, "李张") == [li]
    assert found(client, "张明") == [li]
    assert found(client, "明华") == [ouyang]
    # Three or more: anywhere.
    assert found(client, "阳明华") == [ouyang]
    assert found(client, "物业服务") == [company]
    assert found(client, "某某物业服务有限公司") == [company]
    assert found(client, "李四") == [zhang]
    assert found(client, "李") == [zhang, li]
    # What the search box treats specially stays text.
    for typed in ("%", "_", '"张', "张%三", '物业"服务'):
        assert found(client, typed) == [], typed


def test_a_renamed_party_is_found_by_the_new_name_only(client, db, login, register):
    case_id = register("欧阳明华", "王五")
    party = db.session.scalar(select(Party).filter_by(case_id=case_id, name="欧阳明华"))
    party.name = "欧阳明辉"
    db.session.commit()
    login("staff")
    assert found(client, "阳明华") == [] and found(client, "明华") == []
    assert found(client, "阳明辉") == [case_id] and found(client, "明辉") == [case_id]


def test_a_search_keeps_the_other_filters_and_the_viewers_scope(client, login, register):
    first = register(person("applicant", "孙明华", None, "13812345678"), seq=7)
    phone = person("applicant", "孙明华", None, "13812345678")
    other_centre = register(phone, seq=7, centre="330105")
    login("staff")
    assert found(client, "13812345678") == [first]
    assert found(client, "孙明华", state="registered") == [first]
    assert found(client, "孙明华", state="mediating") == []
    assert found(client, "7", category="family") == []
    client.post_form("/logout")
    login("mediator")  # no case is theirs
    assert found(client, "孙明华") == [] and found(client, "7") == []
    client.post_form("/logout")
    login("admin", centre=None)  # every centre's
    assert sorted(found(client, "13812345678")) == sorted([first, other_centre])
    assert found(client, "13812345678", centre=centre_for("330106").id) == [first]


def test_the_list_says_how_many_cases_match_up_to_the_cap(client, login, register, monkeypatch):
    cases = [register("周明华", "李四") for _ in range(4)]
    login("staff")
    shown, page = searched(client, "周明华")
    assert shown == cases[::-1]
    assert "找到 4 件与“周明华”相符的案件" in page
    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    shown, page = searched(client, "周明华")
    assert shown == cases[::-1]
    assert "与“周明华”相符的案件超过 2 件" in page
    # A list without a search counts nothing.
    assert "相符的案件" not in client.get("/cases/").get_data(as_text=True)


def test_a_search_that_finds_many_parties_reads_the_list_in_order_alike(
    client, login, register, monkeypatch
):
    """Past MANY_PARTIES, SQLite tests the list's cases in order instead of reading what the
    search found: the same cases, in the same order, and the same count."""
    register(person("applicant", "周明华", ZHANG_ID, "13812345678"), "杭州某某物业服务有限公司")
    register("周明", "李四明华")
    register("明华周", "周五", seq=42)
    login("staff")
    searches = ("周", "周明", "明华", "物业服务", "13812345678", ZHANG_ID, "42")
    few = {q: searched(client, q) for q in searches}
    monkeypatch.setattr(search, "MANY_PARTIES", 0)
    many = {q: searched(client, q) for q in searches}
    for q in searches:
        assert many[q][0] == few[q][0] and few[q][0], q
        assert _count_line(many[q][1]) == _count_line(few[q][1]), q


def _count_line(page: str) -> str:
    return re.search(r'id="search-count"[^>]*>(.*?)</p>', page, re.S).group(1).strip()


# --- on an index --------------------------------------------------------------------------


SEARCH_INDEXES = {
    "214": "ix_case_seq_year",
    "2026 214": "ix_case_seq_year",
    "西湖调〔2026〕214号": "ix_case_seq_year",
    "13812345678": "ix_party_phone",
    ZHANG_ID: "ix_party_id_number",
    "张": "ix_party_name",
    "明华": "ix_party_name",
    "阳明华": "party_name_search",
}


@pytest.mark.parametrize("q", list(SEARCH_INDEXES))
def test_each_search_reads_its_index_not_the_tables(db, register, q):
    """The page's and the count's statements find the cases through the search's index,
    with no scan of the case or party table; on SQLite (without statistics) not by walking
    the centre's cases in list order either, but reading the found ones by their ids."""
    register(person("applicant", "欧阳明华", ZHANG_ID, "13812345678"), seq=214)
    staff = db.session.scalar(select(User).filter_by(username="staff-330106"))
    shape, params = queries._shape_and_params(staff, queries.CaseFilter(q=q), None, True, 25)
    first = replace(shape, cursor=None, forward=True, size=0)
    statements = [queries._page_statement(shape), queries._count_statement(first, 1000)]
    index = SEARCH_INDEXES[q]
    if db.engine.dialect.name == "sqlite":
        for statement in statements:
            plan = _plan(db, statement, params)
            assert index in plan and not re.search(r"^SCAN (dispute_case|party)\b", plan, re.M)
            assert "SEARCH dispute_case USING INTEGER PRIMARY KEY" in plan, plan
    else:
        for statement in statements:
            plan = _plan(db, statement, params)
            assert not re.search(r"Seq Scan on (dispute_case|party)\b", plan), plan
        # On a table of a few rows the planner may as well test them; what the search finds
        # comes from its index.
        index = "ix_party_name_trgm" if index == "party_name_search" else index
        found = search.found_cases(shape.search, "postgresql")
        assert index in _plan(db, found, params)


def _plan(db, statement, params) -> str:
    """The query plan: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN with sequential scans
    made the last resort (on a table of a few rows one costs less than any index)."""
    connection = db.session.connection()
    bound = statement.params(params).compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "sqlite":
        rows = connection.execute(text(f"EXPLAIN QUERY PLAN {bound}")).all()
        return "\n".join(row[3] for row in rows)
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    return "\n".join(row[0] for row in connection.execute(text(f"EXPLAIN {bound}")))

"""The party portal (SPEC 3.5): look-up, throttling, the party's view and the party's actions."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mediation import clock
from mediation.cases import workflow
from mediation.cases.models import Case, CaseEvent, Party
from mediation.cases.workflow import PartyData
from mediation.integrity.models import Obligation, ServiceRating
from mediation.portal import lookup
from mediation.web import language
from tests.conftest import recorded_statements

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
NO_MATCH = "没有与该案号和查询码相符的案件"
THROTTLED = "查询失败次数过多"
# The respondent of tests/case_factory.py: what the applicant must never see.
RESPONDENT_ID, RESPONDENT_PHONE = "440524188001010014", "13987654321"
APPLICANT_ID = "11010519491231002X"


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def code_of(case, role="applicant") -> str:
    party = next(p for p in case.parties if p.role == role)
    return case.access_codes[party.id]


def party_of(case, role="applicant") -> Party:
    return next(p for p in case.parties if p.role == role)


def look_up(client, number, code, **kwargs):
    return client.post_form("/status", {"case_number": number, "access_code": code}, **kwargs)


def sign_in(client, case, role="applicant"):
    response = look_up(client, case.number, code_of(case, role))
    assert response.status_code == 302 and response.headers["Location"] == "/status/case"
    return response


def page(response) -> str:
    return response.get_data(as_text=True)


def fresh(db, model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


# --- look-up ---------------------------------------------------------------------------------


def test_the_look_up_form_posts_and_is_never_cached(client):
    response = client.get("/status")
    html = page(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert re.search(r'<form method="post" action="/status"', html)
    assert "查询码" in html and "案号" in html


def test_a_party_sees_their_case_in_plain_words(client, db, make_case):
    case = make_case("mediating")
    case.organization.phone = "0571-88880000"
    db.session.commit()
    sign_in(client, case)
    response = client.get("/status/case")
    html = page(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert case.number in html and "调解中" in html
    assert "您的案件正在调解中" in html
    assert "西湖人民调解委员会" in html and "王调解" in html and "0571-88880000" in html
    assert "中心第一调解室" in html  # the session
    assert case.deadline_on.strftime("%Y年%-m月%-d日") in html
    # Their own identity masked, never in full.
    assert "1101**********002X" in html and APPLICANT_ID not in html


def test_an_unknown_number_and_a_wrong_code_get_the_same_answer(client, make_case):
    case = make_case("mediating")
    other_number = case.number.replace("〕", "〕9")
    unknown = look_up(client, other_number, code_of(case))
    wrong = look_up(client, case.number, "ABCDEFGH")
    assert unknown.status_code == wrong.status_code == 200
    assert NO_MATCH in page(unknown) and NO_MATCH in page(wrong)

    def normalised(html, number):
        html = html.replace(number, "NUMBER")
        html = re.sub(r'value="ABCDEFGH"|value="' + code_of(case) + '"', 'value="CODE"', html)
        # Every CSRF token (the form's and the language switch's) is signed with the time.
        return re.sub(r'<input[^>]*name="csrf_token"[^>]*>', "", html)

    assert normalised(page(unknown), other_number) == normalised(page(wrong), case.number)


def test_every_failed_look_up_does_the_same_work(db, make_case, monkeypatch, app):
    """Equal work, not equal wall-clock: the same keyed hashing and the same queries whether
    the number is unknown (at a known or unknown centre) or the code is wrong, so the time of
    the answer does not tell which case numbers exist."""
    case = make_case("mediating")
    hashes = []
    real_hash = lookup.hash_access_code
    monkeypatch.setattr(
        lookup, "hash_access_code", lambda *args: hashes.append(args) or real_hash(*args)
    )
    work = {}
    for label, number, code in (
        ("unknown at a known centre", case.number.replace("〕", "〕9"), code_of(case)),
        ("unknown centre", "某某调〔2026〕1号", code_of(case)),
        ("wrong code", case.number, "ABCDEFGH"),
    ):
        hashes.clear()
        with (
            recorded_statements(app) as statements,
            app.test_request_context("/status", method="POST"),
        ):
            assert lookup.look_up(number, code, "10.0.0.9") is None
        work[label] = (len(hashes), len(statements))
    assert set(work.values()) == {work["wrong code"]}, work
    assert work["wrong code"][0] >= 1  # the code was hashed where the spy sees it


def two_cases(make_case):
    """Two cases of the centre; the party looks up the second, whose applicant is 赵六一."""
    other = make_case("mediating")
    parties = [
        PartyData("applicant", "person", "赵六一", APPLICANT_ID, None, "13812345678"),
        PartyData("respondent", "person", "李四", RESPONDENT_ID, None, RESPONDENT_PHONE),
    ]
    return make_case("mediating", parties=parties), other


def the_same_answer(first, second) -> bool:
    """The two pages are the same but for the values typed into the form and its tokens."""

    def answer(response) -> str:
        return re.sub(r'value="[^"]*"', "", page(response))

    return first.status_code == second.status_code == 200 and answer(first) == answer(second)


def assert_sees_own_case(client, case, other):
    html = page(client.get("/status/case"))
    assert case.number in html and "赵六一" in html  # their case: its number, its applicant
    assert other.number not in html and "张三" not in html


@pytest.mark.parametrize(
    "typed",
    [
        lambda n: n.replace("〔", "（").replace("〕", "）"),
        lambda n: n.replace("〔", "(").replace("〕", ")"),
        lambda n: n.replace("〔", "[").replace("〕", "]"),
        lambda n: " ".join(n),
        lambda n: n.replace("〔", "［").replace("〕", "］").replace("2", "２"),
        lambda n: n.replace("〔", " ").replace("〕", " "),
        lambda n: n.replace("〔", "").replace("〕", ""),
        lambda n: n.replace("〔", "").replace("〕", "-").replace("号", ""),
        lambda n: n.replace("〔", " ").replace("〕", "年第"),
    ],
    ids=[
        "full-width round",
        "ascii round",
        "square",
        "spaces",
        "full-width square and digit",
        "no brackets",
        "no brackets nor spaces",
        "year-number",
        "year and ordinal",
    ],
)
def test_the_number_is_found_however_it_is_typed(client, make_case, typed):
    case, other = two_cases(make_case)
    response = look_up(client, typed(case.number), code_of(case))
    assert response.headers.get("Location") == "/status/case"
    assert_sees_own_case(client, case, other)
    client.post_form("/status/leave")
    # Typed the same way, a wrong code is refused as an unknown number is.
    wrong = look_up(client, typed(case.number), code_of(other))
    unknown = look_up(client, typed(case.number.replace("〕", "〕9")), code_of(case))
    assert NO_MATCH in page(wrong) and the_same_answer(wrong, unknown)
    assert client.get("/status/case").headers["Location"] == "/status"


def test_the_code_is_found_in_lower_case_with_spaces(client, make_case):
    case, other = two_cases(make_case)
    code = code_of(case)
    response = look_up(client, case.number, f" {code[:4].lower()} {code[4:].lower()} ")
    assert response.headers.get("Location") == "/status/case"
    assert_sees_own_case(client, case, other)
    client.post_form("/status/leave")
    # Another party's code, typed the same way, is a wrong code here.
    wrong_code = code_of(other)
    typed_wrong = f" {wrong_code[:4].lower()} {wrong_code[4:].lower()} "
    wrong = look_up(client, case.number, typed_wrong)
    unknown = look_up(client, case.number.replace("〕", "〕9"), typed_wrong)
    assert NO_MATCH in page(wrong) and the_same_answer(wrong, unknown)
    assert client.get("/status/case").headers["Location"] == "/status"


def test_a_replaced_code_stops_working_and_ends_the_session(client, db, make_case):
    case = make_case("mediating")
    old_code = code_of(case)
    sign_in(client, case)
    staff = workflow.Actor.for_user(case.registered_by)
    workflow.regenerate_access_code(case, party_of(case), staff)
    db.session.commit()
    assert client.get("/status/case").headers["Location"] == "/status"
    assert NO_MATCH in page(look_up(client, case.number, old_code))


def test_an_old_number_finds_its_case_after_the_abbreviation_changes(client, db, login, make_case):
    """A number keeps the abbreviation it was issued with (SPEC 3.1): after the centre's
    abbreviation changes, its parties still find their case with it, typed any way, and a
    wrong code with it still counts towards the number's lock-out."""
    case, other = two_cases(make_case)
    old_number, code = case.number, code_of(case)
    centre, mediator = {"id": case.centre_id, "name": case.centre.name}, case.mediator
    db.session.rollback()  # reading began a transaction: on SQLite it holds the write lock
    login("admin")
    response = client.post_form(
        f"/admin/centres/{centre['id']}/edit",
        {"name": centre["name"], "abbreviation": "西湖矛调", "timezone": "Asia/Shanghai"},
    )
    assert response.status_code == 302
    client.post_form("/logout")
    newer = make_case("mediating", mediator=mediator)
    assert old_number.startswith("西湖调〔2026〕") and newer.number.startswith("西湖矛调调〔2026〕")
    for typed in (old_number, old_number.replace("〔", " ").replace("〕", " ")):
        assert look_up(client, typed, code).headers.get("Location") == "/status/case"
        assert_sees_own_case(client, case, other)
        client.post_form("/status/leave")
    assert look_up(client, newer.number, code_of(newer)).headers.get("Location") == "/status/case"
    client.post_form("/status/leave")
    # Wrong codes with the old number are failures of that number, however it is typed.
    for n in range(10):
        typed = old_number.replace("〔", "(").replace("〕", ")") if n % 2 else old_number
        wrong = fail(client, typed, "10.0.3.1")
        assert wrong.status_code == 200 and NO_MATCH in page(wrong)
    blocked = look_up(client, old_number, code, environ_base={"REMOTE_ADDR": "10.0.3.1"})
    assert blocked.status_code == 429
    elsewhere = look_up(client, old_number, code, environ_base={"REMOTE_ADDR": "10.0.3.2"})
    assert elsewhere.headers.get("Location") == "/status/case"


# --- throttling ------------------------------------------------------------------------------


def fail(client, number, address, code="ABCDEFGH"):
    return look_up(client, number, code, environ_base={"REMOTE_ADDR": address})


def test_failed_look_ups_are_throttled_per_client(client, make_case):
    case = make_case("mediating")
    for n in range(10):
        assert fail(client, f"西湖调〔2026〕{900 + n}号", "10.0.0.1").status_code == 200
    blocked = look_up(client, case.number, code_of(case), environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert blocked.status_code == 429
    assert THROTTLED in page(blocked) and "15 分钟" in page(blocked)
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    # Another device is not blocked; the blocked one may try again once the window passed.
    other = look_up(client, case.number, code_of(case), environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 302
    with clock.frozen_at(NOW + timedelta(minutes=15, seconds=1)):
        again = look_up(
            client, case.number, code_of(case), environ_base={"REMOTE_ADDR": "10.0.0.1"}
        )
        assert again.status_code == 302


def test_failed_look_ups_of_a_number_are_throttled_per_client(client, make_case):
    case = make_case("mediating")
    typed = case.number.replace("〔", "(").replace("〕", ")")
    for n in range(10):
        # Typed differently each time: still the same number.
        assert fail(client, typed if n % 2 else case.number, "10.0.1.1").status_code == 200
    blocked = look_up(client, case.number, code_of(case), environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers
    # Whoever failed with the number cannot lock the parties out: they look up as usual.
    party = look_up(client, case.number, code_of(case), environ_base={"REMOTE_ADDR": "10.0.2.1"})
    assert party.status_code == 302


def test_a_stranger_with_many_addresses_cannot_lock_the_parties_out(client, make_case):
    case = make_case("mediating")
    for n in range(100):
        assert fail(client, case.number, f"10.1.{n // 9}.{n % 9}").status_code == 200
    # Each party, from its own device that has not failed, gets in with its right code.
    for n, role in enumerate(("applicant", "respondent")):
        address = {"REMOTE_ADDR": f"10.0.2.{n}"}
        party = look_up(client, case.number, code_of(case, role), environ_base=address)
        assert party.headers.get("Location") == "/status/case"
        client.post_form("/status/leave")
    # Other cases are looked up as usual.
    second = make_case("mediating")
    assert look_up(client, second.number, code_of(second)).status_code == 302


def test_guessing_a_guarded_number_costs_a_fresh_address_per_guess(client, make_case):
    """Unguarded, a client may fail 10 times with a number. Once the number has failed 20
    times in the window it is guarded: a client that has failed waits (even with the right
    code, which it may have guessed), a fresh one is heard once."""
    case = make_case("mediating")
    heard = 0
    for address in range(30):  # 30 addresses, 10 wrong codes each
        for _ in range(10):
            answer = fail(client, case.number, f"10.2.0.{address}")
            assert answer.status_code in (200, 429)
            heard += answer.status_code == 200
    assert heard == 20 + 28  # the first two addresses' 10 each, then one per address
    right = look_up(client, case.number, code_of(case), environ_base={"REMOTE_ADDR": "10.2.0.5"})
    assert right.status_code == 429
    with clock.frozen_at(NOW + timedelta(minutes=15, seconds=1)):  # the window has passed
        assert (
            look_up(
                client, case.number, code_of(case), environ_base={"REMOTE_ADDR": "10.2.0.5"}
            ).headers.get("Location")
            == "/status/case"
        )


def test_the_addresses_of_one_ipv6_network_are_one_client(client, make_case):
    case = make_case("mediating")
    for n in range(10):
        assert fail(client, case.number, f"2001:db8:1:2::{n + 1:x}").status_code == 200
    blocked = look_up(
        client, case.number, code_of(case), environ_base={"REMOTE_ADDR": "2001:db8:1:2::ffff"}
    )
    assert blocked.status_code == 429
    elsewhere = {"REMOTE_ADDR": "2001:db8:1:3::1"}  # another /64
    assert look_up(client, case.number, code_of(case), environ_base=elsewhere).status_code == 302


def test_after_the_fifth_failure_the_party_is_told_how_many_tries_are_left(client, make_case):
    case = make_case("mediating")
    for n in range(1, 11):
        html = page(fail(client, case.number, "10.5.0.1"))
        assert NO_MATCH in html
        if n < 5:
            assert "再失败" not in html and "需等待" not in html
        elif n < 10:
            assert f"本设备再失败 {10 - n} 次后将暂停查询" in html
        else:
            assert "本设备需等待一段时间后才能再次查询" in html


def test_a_failure_added_in_the_transaction_counts_before_it_is_flushed(db):
    """The count of recent failures reads rows without the ORM: a failure added and not yet
    flushed still counts."""
    throttles = lookup.LookupThrottles.from_config()
    number, client = "西湖调〔2026〕7号", "203.0.113.9"
    before = throttles.state(number, client).tries_left
    for throttle, key in throttles.keyed(number, client):
        throttle.hit(key)
    assert throttles.state(number, client).tries_left == before - 1
    db.session.rollback()


def test_the_throttled_page_says_when_to_try_again_and_whom_to_call(client, db, make_case):
    case = make_case("mediating")
    case.centre.phone = "0571-87001234"
    db.session.commit()
    for _ in range(10):
        fail(client, case.number, "10.6.0.1")
    with clock.frozen_at(NOW + timedelta(minutes=3)):
        blocked = look_up(
            client, case.number, code_of(case), environ_base={"REMOTE_ADDR": "10.6.0.1"}
        )
    html = page(blocked)
    assert blocked.status_code == 429 and 0 < int(blocked.headers["Retry-After"]) <= 12 * 60
    # The first failure was at 10:00 in Hangzhou (02:00 UTC): free again at 10:15, its time.
    assert "10:15" in html and "西湖区社会矛盾纠纷调处化解中心" in html
    assert 'href="tel:0571-87001234"' in html and "返回首页" in html
    # A number that names no centre: the page still says whom to call, in general.
    for _ in range(10):
        fail(client, "某某调〔2026〕1号", "10.6.0.2")
    unknown = page(fail(client, "某某调〔2026〕1号", "10.6.0.2"))
    assert "tel:" not in unknown and "请致电登记您案件的矛调中心" in unknown
    # In English too.
    client.post_form("/language", {"lang": "en", "next": "/status"})
    language.refresh()
    english = page(fail(client, case.number, "10.6.0.1"))
    assert "You can try again after" in english and "10:15" in english
    assert "0571-87001234" in english and "Need help now?" in english


def test_the_throttle_holds_across_web_workers(client, db, another_app, make_case):
    case = make_case("mediating")
    number, code = case.number, code_of(case)
    db.session.rollback()  # no transaction of the test's own holds the SQLite write lock
    worker_b = another_app().test_client()
    for n in range(10):
        worker = client if n % 2 else worker_b
        assert fail(worker, number, "10.0.3.1").status_code == 200
    for worker in (worker_b, client):
        response = look_up(worker, number, code, environ_base={"REMOTE_ADDR": "10.0.3.1"})
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0


# --- the portal session ----------------------------------------------------------------------


def test_the_case_view_closes_after_30_minutes_idle(client, make_case):
    case = make_case("mediating")
    sign_in(client, case)
    with clock.frozen_at(NOW + timedelta(minutes=29)):
        assert client.get("/status/case").status_code == 200
    # Activity keeps it open: 29 minutes after the last request, not after sign-in.
    with clock.frozen_at(NOW + timedelta(minutes=58)):
        assert client.get("/status/case").status_code == 200
    with clock.frozen_at(NOW + timedelta(minutes=88, seconds=1)):
        response = client.get("/status/case")
        assert response.headers["Location"] == "/status"
        assert "30 分钟" in page(client.get("/status"))
        assert client.get("/status/case").status_code == 302


def test_the_last_request_is_noted_to_the_minute_not_in_a_new_cookie_for_every_page(
    client, make_case
):
    case = make_case("mediating")
    sign_in(client, case)
    with clock.frozen_at(NOW + timedelta(seconds=59)):
        assert "Set-Cookie" not in client.get("/status/case").headers
    with clock.frozen_at(NOW + timedelta(minutes=1)):
        assert "Set-Cookie" in client.get("/status/case").headers
    # Noted at the minute: 30 minutes idle from then, not from the look-up.
    with clock.frozen_at(NOW + timedelta(minutes=30, seconds=30)):
        assert client.get("/status/case").status_code == 200


def test_the_case_view_closes_two_hours_after_the_look_up_however_active(client, make_case):
    case = make_case("mediating")
    sign_in(client, case)
    for minutes in (25, 50, 75, 100, 119):
        with clock.frozen_at(NOW + timedelta(minutes=minutes)):
            assert client.get("/status/case").status_code == 200
    with clock.frozen_at(NOW + timedelta(hours=2, seconds=1)):
        assert client.get("/status/case").headers["Location"] == "/status"


def test_leaving_ends_the_session_on_the_server_so_a_copied_cookie_stops_working(
    client, app, make_case
):
    case = make_case("mediating")
    sign_in(client, case)
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/status/case").status_code == 200  # a copy works while the party is in
    client.post_form("/status/leave", {})
    assert client.get("/status/case").status_code == 302
    assert thief.get("/status/case").headers["Location"] == "/status"
    # Signing in again opens a new session; the old cookie stays dead.
    sign_in(client, case)
    assert client.get("/status/case").status_code == 200
    assert thief.get("/status/case").status_code == 302


def test_a_copied_cookie_stops_working_at_the_latest_two_hours_after_the_look_up(
    client, app, make_case
):
    case = make_case("mediating")
    sign_in(client, case)  # and the party never leaves
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    for minutes in (20, 45, 70, 95, 119):  # kept active
        with clock.frozen_at(NOW + timedelta(minutes=minutes)):
            assert thief.get("/status/case").status_code == 200
    with clock.frozen_at(NOW + timedelta(minutes=121)):
        assert thief.get("/status/case").status_code == 302


def test_a_session_opened_before_a_new_code_was_issued_ends(client, db, make_case):
    case = make_case("mediating")
    sign_in(client, case)
    party = party_of(case)
    party.access_code_issued_at = NOW + timedelta(minutes=5)  # same code, issued anew
    db.session.commit()
    with clock.frozen_at(NOW + timedelta(minutes=6)):
        assert client.get("/status/case").headers["Location"] == "/status"


def test_without_a_look_up_there_is_no_case_view(client, make_case):
    make_case("mediating")
    for response in (
        client.get("/status/case"),
        client.get("/status/court"),
        client.post_form("/status/court"),
        client.post_form("/status/rating", {"stars": "5"}),
        client.post_form("/status/obligations/1/confirm", {"performed_on": "2026-03-10"}),
    ):
        assert response.status_code == 302 and response.headers["Location"] == "/status"


def test_a_tampered_session_cookie_opens_nothing(client, make_case):
    case = make_case("mediating")
    sign_in(client, case)
    client.set_cookie("session", "eyJwb3J0YWwiOnsicGFydHkiOjJ9fQ.forged.signature")
    assert client.get("/status/case").headers["Location"] == "/status"


def test_leaving_ends_the_case_view(client, make_case):
    case = make_case("mediating")
    sign_in(client, case)
    response = client.post_form("/status/leave")
    assert response.headers["Location"] == "/status"
    assert client.get("/status/case").headers["Location"] == "/status"


def test_a_party_sees_and_acts_only_on_their_own_case(client, db, make_case):
    mine, theirs = make_case("agreed"), make_case("agreed")
    their_obligation = theirs.agreement.obligations[0].id
    sign_in(client, mine)
    html = page(client.get("/status/case"))
    assert mine.number in html and theirs.number not in html
    response = client.post_form(
        f"/status/obligations/{their_obligation}/confirm", {"performed_on": "2026-03-10"}
    )
    assert response.status_code == 404
    assert fresh(db, Obligation, their_obligation).fulfilled_on is None
    assert client.post_form("/status/obligations/999999/confirm").status_code == 404


@pytest.mark.parametrize("state", ["registered", "mediating", "agreed", "transferred"])
def test_another_partys_id_number_and_phone_never_show(client, make_case, state):
    case = make_case(state)
    sign_in(client, case, "applicant")
    html = page(client.get("/status/case"))
    assert "李四" in html and "被申请人" in html
    for secret in (RESPONDENT_ID, RESPONDENT_PHONE, "4405**********0014", "139****4321"):
        assert secret not in html


# --- going to court --------------------------------------------------------------------------


def test_a_party_leaves_mediation_for_court_at_once(client, db, make_case):
    case = make_case("mediating")
    sign_in(client, case, "respondent")
    assert "/status/court" in page(client.get("/status/case"))
    confirmation = page(client.get("/status/court"))
    assert "立即结束" in confirmation and "无需任何人批准" in confirmation
    assert fresh(db, Case, case.id).state == "mediating"  # looking changes nothing

    response = client.post_form("/status/court", {"note": "希望尽快起诉"})
    assert response.headers["Location"] == "/status/case"
    stored = fresh(db, Case, case.id)
    assert stored.state == "transferred" and stored.transfer.reason == "party_request"
    assert stored.concluded_at == NOW
    last = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
    ).first()
    assert (last.action, last.actor_kind, last.actor_name) == (
        "request_litigation",
        "party",
        "李四",
    )
    html = page(client.get("/status/case"))
    assert "已转诉讼" in html and "当事人申请诉讼" in html
    assert "向人民法院提起诉讼" in html  # what happens next
    assert "/status/court" not in html


def test_after_an_agreement_going_to_court_is_not_offered_nor_possible(client, db, make_case):
    case = make_case("agreed")
    sign_in(client, case)
    assert "/status/court" not in page(client.get("/status/case"))
    assert client.get("/status/court").headers["Location"] == "/status/case"
    client.post_form("/status/court")
    assert fresh(db, Case, case.id).state == "agreed"


# --- performance -----------------------------------------------------------------------------


def test_the_obligee_confirms_performance_after_a_confirmation_step(client, db, make_case):
    case = make_case("agreed")
    obligation = case.agreement.obligations[0].id
    sign_in(client, case, "applicant")  # the applicant is owed the money
    html = page(client.get("/status/case"))
    assert f'href="/status/obligations/{obligation}/confirm"' in html  # a link, not a form
    assert "对方履行了对您的义务后，请在下方确认。" in html
    # One tap asks first: what confirming means, the date (today by default), yes or no.
    asked = page(client.get(f"/status/obligations/{obligation}/confirm"))
    assert "确认后无法在此撤销" in asked and "是的，对方已履行" in asked
    assert 'value="2026-03-10"' in asked and 'href="/status/case"' in asked
    assert fresh(db, Obligation, obligation).fulfilled_on is None  # looking changes nothing
    response = client.post_form(
        f"/status/obligations/{obligation}/confirm", {"performed_on": "2026-03-10"}
    )
    assert response.headers["Location"] == "/status/case"
    assert str(fresh(db, Obligation, obligation).fulfilled_on) == "2026-03-10"
    assert fresh(db, Case, case.id).state == "fulfilled"
    html = page(client.get("/status/case"))
    assert "已履行" in html
    # Nothing left to confirm: neither the prompt nor the button.
    assert "请在下方确认" not in html and f"/status/obligations/{obligation}/confirm" not in html
    again = client.get(f"/status/obligations/{obligation}/confirm")
    assert again.headers["Location"] == "/status/case"


def test_the_prompt_to_confirm_stays_while_another_obligation_is_owed(client, db, make_case):
    case = make_case("agreed")
    first = case.agreement.obligations[0]
    case.agreement.obligations.append(
        Obligation(
            case_id=case.id,
            centre_id=case.centre_id,
            obligor_id=first.obligor_id,
            obligee_id=first.obligee_id,
            description="第二期款项",
            due_on=first.due_on,
        )
    )
    db.session.commit()
    sign_in(client, case, "applicant")
    client.post_form(f"/status/obligations/{first.id}/confirm", {"performed_on": "2026-03-10"})
    html = page(client.get("/status/case"))
    assert "请在下方确认" in html and html.count('/confirm"') == 1


def test_a_bad_performance_date_is_refused_beside_the_field(client, db, make_case):
    case = make_case("agreed")
    obligation = case.agreement.obligations[0].id
    sign_in(client, case, "applicant")
    response = client.post_form(
        f"/status/obligations/{obligation}/confirm", {"performed_on": "2026-04-01"}
    )
    assert response.status_code == 200
    assert "履行日期" in page(response) and 'value="2026-04-01"' in page(response)
    assert "是的，对方已履行" in page(response)  # still the confirmation step
    assert fresh(db, Obligation, obligation).fulfilled_on is None


def test_the_obligor_cannot_confirm_their_own_performance(client, db, make_case):
    case = make_case("agreed")
    obligation = case.agreement.obligations[0].id
    sign_in(client, case, "respondent")
    assert f"/status/obligations/{obligation}/confirm" not in page(client.get("/status/case"))
    response = client.post_form(
        f"/status/obligations/{obligation}/confirm",
        {"performed_on": "2026-03-10"},
        follow_redirects=True,
    )
    assert "只有权利人" in page(response)
    assert fresh(db, Obligation, obligation).fulfilled_on is None


# --- rating ----------------------------------------------------------------------------------


def ratings(db, case) -> int:
    return db.session.scalar(
        select(func.count()).select_from(ServiceRating).filter_by(case_id=case.id)
    )


def test_rating_waits_until_the_case_has_concluded(client, db, make_case):
    case = make_case("mediating")
    sign_in(client, case)
    assert "/status/rating" not in page(client.get("/status/case"))
    assert client.get("/status/rating").headers["Location"] == "/status/case"
    response = client.post_form("/status/rating", {"stars": "5"}, follow_redirects=True)
    assert "案件办结后" in page(response)
    assert ratings(db, case) == 0


def test_each_party_rates_a_concluded_case_once(client, db, make_case):
    case = make_case("fulfilled")
    sign_in(client, case)
    assert 'href="/status/rating"' in page(client.get("/status/case"))
    form = page(client.get("/status/rating"))  # the form is a page of its own
    assert 'name="stars"' in form and 'href="/status/case"' in form
    response = client.post_form("/status/rating", {"stars": "4", "comment": "调解员很耐心"})
    assert response.headers["Location"] == "/status/case"
    html = page(client.get("/status/case"))
    assert "/status/rating" not in html and "4 分" in html
    assert client.get("/status/rating").headers["Location"] == "/status/case"
    again = client.post_form("/status/rating", {"stars": "1"}, follow_redirects=True)
    assert "已经评价" in page(again)
    rating = db.session.scalars(select(ServiceRating)).one()
    assert (rating.stars, rating.comment, rating.rated_at) == (4, "调解员很耐心", NOW)
    assert rating.party_id == party_of(case).id
    # The other party has a rating of its own.
    client.post_form("/status/leave")
    sign_in(client, case, "respondent")
    assert client.post_form("/status/rating", {"stars": "2"}).status_code == 302
    assert ratings(db, case) == 2


def test_a_rating_needs_a_choice(client, db, make_case):
    case = make_case("withdrawn")
    sign_in(client, case)
    response = client.post_form("/status/rating", {"stars": "9", "comment": "留言"})
    assert response.status_code == 200 and ratings(db, case) == 0
    assert "is-invalid" in page(response) and "留言</textarea>" in page(response)


def test_rate_service_refuses_a_party_of_another_case(db, make_case):
    first, second = make_case("fulfilled"), make_case("fulfilled")
    with pytest.raises(lookup.PortalError):
        lookup.rate_service(first, party_of(second), 5)


# --- language --------------------------------------------------------------------------------


def test_the_portal_speaks_english_on_request(client, make_case):
    case = make_case("assigned")
    client.post_form("/language", {"lang": "en", "next": "/status"})
    # The requests share the `db` fixture's app context, where Flask-Babel keeps the locale.
    language.refresh()
    assert "Check your case" in page(client.get("/status"))
    sign_in(client, case)
    assert "The mediator will contact you" in page(client.get("/status/case"))


def test_the_start_page_leads_parties_to_their_case(client):
    html = page(client.get("/"))
    assert 'href="/status"' in html and "查询案件" in html


# --- no query per row ------------------------------------------------------------------------


def test_the_case_page_costs_the_same_for_one_obligation_or_five(app, client, db, make_case):
    case = make_case("agreed")
    sign_in(client, case, "respondent")  # an obligor: its page also reads its certificates
    applicant, respondent = party_of(case), party_of(case, "respondent")
    counts = {}
    for obligations in (1, 5):
        while len(case.agreement.obligations) < obligations:
            n = len(case.agreement.obligations)
            # Each way round, so both the obligor and the obligee vary.
            obligor, obligee = (respondent, applicant) if n % 2 else (applicant, respondent)
            case.agreement.obligations.append(
                Obligation(
                    case_id=case.id,
                    centre_id=case.centre_id,
                    obligor_id=obligor.id,
                    obligee_id=obligee.id,
                    description=f"第{n + 1}项义务",
                    due_on=case.agreement.obligations[0].due_on,
                )
            )
        db.session.commit()
        client.get("/status/case")  # warm up
        with recorded_statements(app) as statements:
            html = page(client.get("/status/case"))
        assert html.count('class="obligation ') == obligations
        counts[obligations] = len(statements)
    assert counts[1] == counts[5], counts


# --- the printable certificate and the centre's time zone ------------------------------------


def test_a_party_prints_their_own_certificate(client, db, make_case):
    case = make_case("fulfilled")
    sign_in(client, case)  # the applicant: owed, not owing, so no certificate
    assert client.get("/status/certificate").headers["Location"] == "/status/case"
    client.post_form("/status/leave", {})
    sign_in(client, case, "respondent")
    assert "/status/certificate" in page(client.get("/status/case"))
    html = page(client.get("/status/certificate"))
    for text in ("诚信履行证明", "css/certificate.css", "data-print", "/verify"):
        assert text in html, text
    assert "李四" in html or party_of(case, "respondent").name in html
    # Without a portal session: back to the look-up.
    client.post_form("/status/leave", {})
    assert client.get("/status/certificate").headers["Location"] == "/status"


def test_the_portal_shows_times_in_the_case_centres_zone(client, db, make_case):
    case = make_case("mediating")
    case.centre.timezone = "Asia/Urumqi"  # UTC+6, two hours behind the configured zone
    for s in case.sessions:
        s.held_at = datetime(2026, 3, 12, 1, 30, tzinfo=UTC)
    db.session.commit()
    sign_in(client, case)
    html = page(client.get("/status/case"))
    assert "07:30" in html and "09:30" not in html

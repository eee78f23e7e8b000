"""The integration API (SPEC 9): each endpoint's answer and refusals, idempotent referrals
under a race, the feed of changes under concurrent writers, webhooks, clients."""

import json
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mediation import clock
from mediation.api.models import ApiClient
from mediation.audit.models import AuditEntry
from mediation.cases import workflow
from mediation.cases.models import Case, CaseEvent
from mediation.extensions import db as _db
from mediation.stats.snapshots import published_stats
from tests.case_factory import COURT, centre_for, user_for
from tests.double_click import double_click

APPLICANT_ID = "11010519491231002X"
REFERRAL = {
    "channel": "court",
    "category": "labour",
    "summary": "拖欠工资三个月，经法院诉前委派调解。",
    "claims": "支付工资人民币18000元。",
    "amount": "18000.00",
    "parties": [
        {"role": "applicant", "name": "张三", "id_number": APPLICANT_ID, "phone": "13812345678"},
        {"role": "respondent", "kind": "organization", "name": "杭州某某科技有限公司"},
    ],
}


def post_referral(client, headers, key="ref-1", body=None):
    return client.post(
        "/api/v1/cases", json=body or REFERRAL, headers={**headers, "Idempotency-Key": key}
    )


def is_problem(response, status):
    body = response.get_json(force=True)
    return (
        response.status_code == status
        and response.mimetype == "application/problem+json"
        and body["status"] == status
        and {"type", "title", "detail"} <= body.keys()
    )


def case_count(app) -> int:
    with app.app_context():
        return _db.session.scalar(select(func.count()).select_from(Case))


def settled(db, case):
    number = case.number
    db.session.commit()
    return number


# --- the document ---------------------------------------------------------------------------


def test_the_openapi_document_describes_every_endpoint_with_bearer_auth(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    assert operations == {
        ("post", "/api/v1/cases"),
        ("get", "/api/v1/cases"),
        ("get", "/api/v1/cases/{number}"),
        ("post", "/api/v1/cases/{number}/court-feedback"),
        ("get", "/api/v1/stats/{month}"),
    }
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    register = document["paths"]["/api/v1/cases"]["post"]
    assert {p["name"] for p in register["parameters"]} == {"Idempotency-Key"}
    assert "application/problem+json" in register["responses"]["422"]["content"]


def test_the_reference_page_is_served_by_the_app_without_script(client):
    response = client.get("/api/v1/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "text/html" in response.content_type
    # Only the app's own files: nothing from a CDN, no inline script.
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/vendor/bootstrap/bootstrap.bundle.min.js">'
    ] or all('src="/static/' in tag for tag in re.findall(r"<script[^>]*>", html))
    assert 'src="http' not in html and 'href="http' not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    for operation in ("registerReferral", "getCase", "listChanges", "recordCourtFeedback"):
        assert f'id="{operation}"' in html
    assert 'id="problem-idempotency"' in html and 'id="schema-Referral"' in html


# --- who may call ---------------------------------------------------------------------------


def test_a_call_without_a_valid_token_is_a_401_problem(client, make_api_client):
    make_api_client()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = client.get("/api/v1/cases", headers=headers)
        assert is_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_calls_without_a_valid_token_are_audited_until_the_address_must_wait(
    app, client, make_api_client, monkeypatch
):
    """Each refused call is in the audit log; past the address's limit the calls wait (429,
    not audited: a flood of bad tokens does not flood the log), but a valid token still works."""
    monkeypatch.setitem(app.config, "API_MAX_FAILURES_PER_CLIENT", 3)
    _id, headers = make_api_client()
    for sent in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer guess"}):
        assert is_problem(client.get("/api/v1/cases", headers=sent), 401)
    waiting = client.get("/api/v1/cases", headers={"Authorization": "Bearer again"})
    assert is_problem(waiting, 429)
    assert 0 < int(waiting.headers["Retry-After"]) <= 15 * 60
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    with app.app_context():
        refused = _db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "api.refused").order_by(AuditEntry.id)
        ).all()
        assert [(e.target, e.details["token"]) for e in refused] == [
            ("/api/v1/cases", False),
            ("/api/v1/cases", True),
            ("/api/v1/cases", True),
        ]
    with clock.frozen_at(clock.now() + timedelta(minutes=16)):
        assert is_problem(client.get("/api/v1/cases", headers={"Authorization": "x"}), 401)


def test_calls_without_a_valid_token_at_the_same_moment_are_each_a_401(app, db, make_api_client):
    """Both have read (the token, the address's failures) before either writes its failure:
    each still gets its 401, never an error of the database's (SQLite's reading transaction
    cannot write once another has)."""
    make_api_client()
    db.session.commit()
    clients = (app.test_client(), app.test_client())
    answers = double_click(
        db.engine,
        clients,
        lambda c: c.get("/api/v1/cases", headers={"Authorization": "Bearer nope"}),
        "INSERT INTO THROTTLE_HIT",
    )
    assert [answer.status_code for _c, answer in answers] == [401, 401]


def test_a_revoked_token_stops_working(app, client, make_api_client):
    client_id, headers = make_api_client()
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    with app.app_context():
        _db.session.get(ApiClient, client_id).revoked_at = clock.now()
        _db.session.commit()
    assert is_problem(client.get("/api/v1/cases", headers=headers), 401)


def test_each_endpoint_needs_its_scope(app, client, make_api_client):
    _id, reader = make_api_client("cases:read")
    _id, statistician = make_api_client("stats:read")
    assert is_problem(post_referral(client, reader), 403)
    assert is_problem(client.get("/api/v1/stats/2026-11", headers=reader), 403)
    assert is_problem(client.get("/api/v1/cases", headers=statistician), 403)
    assert client.get("/api/v1/stats/2026-11", headers=statistician).status_code == 200
    assert case_count(app) == 0


def test_too_many_calls_are_a_429_with_retry_after(app, client, make_api_client, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 2)
    _id, headers = make_api_client()
    _id, other = make_api_client()
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    refused = client.get("/api/v1/cases", headers=headers)
    assert is_problem(refused, 429)
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/cases", headers=other).status_code == 200  # per client
    with clock.frozen_at(clock.now() + timedelta(seconds=61)):
        assert client.get("/api/v1/cases", headers=headers).status_code == 200


def test_every_call_is_audited_and_the_client_last_use_kept(app, client, make_api_client):
    client_id, headers = make_api_client(name="西湖法院")
    client.get("/api/v1/cases", headers=headers)
    client.get("/api/v1/cases/西湖调〔2026〕9号", headers=headers)
    with app.app_context():
        entries = _db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "api.call").order_by(AuditEntry.id)
        ).all()
        assert [(e.details["api_client"], e.details["status"]) for e in entries] == [
            ("西湖法院", 200),
            ("西湖法院", 404),
        ]
        assert _db.session.get(ApiClient, client_id).last_used_at is not None


def test_errors_under_the_api_are_problems_never_pages(client, make_api_client, another_app):
    _id, headers = make_api_client()
    assert is_problem(client.get("/api/v1/nowhere", headers=headers), 404)
    assert is_problem(client.put("/api/v1/cases", headers=headers), 405)
    # A POST without a CSRF token is fine: the API is authenticated by its bearer token.
    assert is_problem(post_referral(client, headers, body={"channel": "fax"}), 422)
    broken = another_app()
    broken.config["PROPAGATE_EXCEPTIONS"] = False

    @broken.get("/api/v1/explode")
    def explode():
        raise RuntimeError("SELECT secret FROM api_client -- boom")

    response = broken.test_client().get("/api/v1/explode")
    assert is_problem(response, 500)
    assert "SELECT" not in response.get_data(as_text=True)


# --- referrals ------------------------------------------------------------------------------


def test_a_referral_registers_a_case_through_the_workflow(app, client, make_api_client):
    _id, headers = make_api_client(name="西湖法院")
    response = post_referral(client, headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    case = response.get_json()
    assert case["number"] == f"西湖调〔{clock.now().year}〕1号" or case["number"].endswith("〕1号")
    assert case["state"] == "registered" and case["channel"] == "court"
    applicant = case["parties"][0]
    assert applicant["id_number"] == "1101**********002X" and applicant["phone"] == "138****5678"
    assert APPLICANT_ID not in response.get_data(as_text=True)
    with app.app_context():
        event = _db.session.scalar(select(CaseEvent))
        assert (event.action, event.actor_kind, event.actor_name) == ("register", "api", "西湖法院")


def test_the_same_key_and_body_give_the_same_case_another_body_a_409(app, client, make_api_client):
    _id, headers = make_api_client()
    first = post_referral(client, headers)
    again = post_referral(client, headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["number"] == first.get_json()["number"]
    other = post_referral(client, headers, body={**REFERRAL, "summary": "另一件事"})
    assert is_problem(other, 409) and other.get_json()["type"].endswith("problem-idempotency")
    assert post_referral(client, headers, key="ref-2").status_code == 201
    assert case_count(app) == 2


def test_keys_belong_to_their_client(app, client, make_api_client):
    _id, first = make_api_client()
    _id, second = make_api_client()
    assert post_referral(client, first).status_code == 201
    assert post_referral(client, second).status_code == 201
    assert case_count(app) == 2


def test_a_referral_without_a_key_or_with_bad_fields_is_a_422_and_writes_nothing(
    app, client, make_api_client
):
    _id, headers = make_api_client()
    response = client.post("/api/v1/cases", json=REFERRAL, headers=headers)
    assert is_problem(response, 422)
    assert [e["field"] for e in response.get_json()["errors"]] == ["Idempotency-Key"]
    bad_id = json.loads(json.dumps(REFERRAL))
    bad_id["parties"][0]["id_number"] = "110105194912310021"
    response = post_referral(client, headers, body=bad_id)
    assert is_problem(response, 422)
    assert "身份证" in response.get_json()["detail"] or "ID" in response.get_json()["detail"]
    assert response.get_json()["errors"][0]["field"] == "parties"
    two_applicants = {**REFERRAL, "parties": [REFERRAL["parties"][0]] * 2}
    assert is_problem(post_referral(client, headers, "k3", two_applicants), 422)
    negative = {**REFERRAL, "amount": "-1"}
    response = post_referral(client, headers, "k4", negative)
    assert response.get_json()["errors"][0]["field"] == "amount"
    assert case_count(app) == 0
    form = client.post(
        "/api/v1/cases", data={"channel": "court"}, headers={**headers, "Idempotency-Key": "k5"}
    )
    assert is_problem(form, 422) and form.get_json()["errors"][0]["field"] == "body"
    # The same key works once the body is right: nothing was kept of the refused ones.
    assert post_referral(client, headers, "k4").status_code == 201


@pytest.mark.parametrize("same_body", [True, False])
def test_parallel_referrals_with_one_key_make_one_case(app, make_api_client, same_body):
    _id, headers = make_api_client()
    statuses, start = [], threading.Barrier(6)

    def send(position):
        body = REFERRAL if same_body else {**REFERRAL, "summary": f"第{position}次"}
        client = app.test_client()
        start.wait()
        response = post_referral(client, headers, key="race", body=body)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == sorted([201] + [200 if same_body else 409] * 5)
    assert case_count(app) == 1


# --- a case ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "{abbr}调〔{year}〕{seq}号",
        "{abbr}调 {year} {seq}号",
        "{abbr}调({year}){seq}",
        "{abbr}调[{year}]{seq}号",
    ],
)
def test_a_case_is_found_however_its_number_is_typed(db, client, make_case, make_api_client, typed):
    case = make_case("agreed")
    year, seq = case.year, case.seq
    number = settled(db, case)
    _id, headers = make_api_client()
    response = client.get(
        f"/api/v1/cases/{typed.format(abbr='西湖', year=year, seq=seq)}", headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    found = response.get_json()
    assert found["number"] == number and found["state"] == "agreed"
    assert found["organization"] and found["mediator"]
    obligation = found["agreement"]["obligations"][0]
    assert obligation["amount"] == "5000.00" and obligation["fulfilled_on"] is None
    assert found["parties"][1]["phone"] == "139****4321"


def test_another_centres_case_is_a_404(db, client, make_case, make_api_client):
    number = settled(db, make_case("registered", centre="330105"))
    _id, headers = make_api_client(centre="330106")
    assert is_problem(client.get(f"/api/v1/cases/{number}", headers=headers), 404)
    _id, theirs = make_api_client(centre="330105")
    assert client.get(f"/api/v1/cases/{number}", headers=theirs).status_code == 200


def test_a_transferred_case_shows_its_transfer(db, client, make_case, make_api_client):
    number = settled(db, make_case("transferred", transfer_reason="failed"))
    _id, headers = make_api_client()
    found = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()
    assert found["outcome"] == "transferred" and found["transfer_reason"] == "failed"
    assert found["transfer"]["court"] == COURT and found["transfer"]["filing_number"] is None


# --- court feedback -------------------------------------------------------------------------


def test_the_courts_filing_number_is_recorded_on_a_transferred_case(
    db, client, make_case, make_api_client
):
    number = settled(db, make_case("transferred", transfer_reason="failed"))
    _id, headers = make_api_client(name="西湖法院")
    response = client.post(
        f"/api/v1/cases/{number}/court-feedback",
        json={"filing_number": "（2026）浙0106民初1234号"},
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["transfer"]["filing_number"] == "（2026）浙0106民初1234号"
    again = client.post(
        f"/api/v1/cases/{number}/court-feedback", json={"filing_number": "x"}, headers=headers
    )
    assert is_problem(again, 409)


def test_feedback_in_a_state_that_does_not_allow_it_is_a_409(
    db, client, make_case, make_api_client
):
    number = settled(db, make_case("registered"))
    _id, headers = make_api_client()
    response = client.post(
        f"/api/v1/cases/{number}/court-feedback", json={"filing_number": "1"}, headers=headers
    )
    assert is_problem(response, 409) and response.get_json()["type"].endswith("problem-state")


def test_a_judicial_confirmation_is_recorded_on_an_agreement(
    db, client, make_case, make_api_client
):
    case = make_case("agreed")
    signed_on = case.agreement.signed_on
    number = settled(db, case)
    _id, headers = make_api_client()
    url = f"/api/v1/cases/{number}/court-feedback"
    partial = client.post(
        url, json={"confirmation_ruling": "（2026）浙0106民特1号"}, headers=headers
    )
    assert is_problem(partial, 422)
    assert {e["field"] for e in partial.get_json()["errors"]} == {
        "confirmation_court",
        "confirmed_on",
    }
    confirmation = {
        "confirmation_court": COURT,
        "confirmation_ruling": "（2026）浙0106民特1号",
        "confirmed_on": (signed_on - timedelta(days=1)).isoformat(),
    }
    early = client.post(url, json=confirmation, headers=headers)
    assert is_problem(early, 422) and early.get_json()["errors"][0]["field"] == "confirmed_on"
    confirmation["confirmed_on"] = signed_on.isoformat()
    response = client.post(url, json=confirmation, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["agreement"]["confirmed_on"] == signed_on.isoformat()


def test_feedback_on_another_centres_case_is_a_404(db, client, make_case, make_api_client):
    number = settled(db, make_case("transferred", centre="330105"))
    _id, headers = make_api_client()
    response = client.post(
        f"/api/v1/cases/{number}/court-feedback", json={"filing_number": "1"}, headers=headers
    )
    assert is_problem(response, 404)


# --- statistics -----------------------------------------------------------------------------


def test_the_months_statistics_are_the_exports_figures(app, db, client, make_case, make_api_client):
    case = make_case("agreed")
    month = case.registered_on.strftime("%Y-%m")
    settled(db, case)
    _id, headers = make_api_client()
    response = client.get(f"/api/v1/stats/{month}", headers=headers)
    assert response.status_code == 200
    figures = response.get_json()
    assert figures["summary"]["received"] == 1 and figures["summary"]["agreed"] == 1
    with app.test_request_context():
        exported = json.loads(json.dumps(published_stats(month, centre_for("330106"))))
    assert figures == exported
    assert is_problem(client.get("/api/v1/stats/2026-13", headers=headers), 404)


# --- the feed -------------------------------------------------------------------------------


def read_feed(client, headers, cursor=None, **query):
    seen = []
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {}), "limit": 3}
        page = client.get("/api/v1/cases", query_string=params, headers=headers).get_json()
        seen += page["changes"]
        if not page["changes"]:
            return seen, page["next_cursor"]
        cursor = page["next_cursor"]


def test_the_feed_gives_each_change_once_in_order_with_cursors(
    db, client, make_case, make_api_client
):
    first = settled(db, make_case("mediating"))
    settled(db, make_case("registered", centre="330105"))
    _id, headers = make_api_client()
    seen, cursor = read_feed(client, headers)
    assert [(c["number"], c["action"]) for c in seen] == [
        (first, "register"),
        (first, "route"),
        (first, "record_session"),
    ]
    assert seen[-1]["state"] == "mediating"
    second = settled(db, make_case("registered"))
    more, cursor = read_feed(client, headers, cursor)
    assert [(c["number"], c["action"]) for c in more] == [(second, "register")]
    assert read_feed(client, headers, cursor)[0] == []


def test_the_feed_starts_from_updated_since(db, client, make_case, make_api_client):
    with clock.frozen_at(clock.now() - timedelta(days=3)):
        settled(db, make_case("registered"))
    recent = settled(db, make_case("registered"))
    _id, headers = make_api_client()
    since = (clock.now() - timedelta(days=1)).isoformat()
    seen, _cursor = read_feed(client, headers, updated_since=since)
    assert [c["number"] for c in seen] == [recent]
    naive = client.get(
        "/api/v1/cases", query_string={"updated_since": "2026-01-01T00:00:00"}, headers=headers
    )
    assert is_problem(naive, 422)
    bad = client.get("/api/v1/cases", query_string={"cursor": "abc"}, headers=headers)
    assert is_problem(bad, 422) and bad.get_json()["errors"][0]["field"] == "cursor"


def test_a_sync_client_misses_no_change_and_sees_none_twice_under_concurrent_writers(
    app, client, make_api_client
):
    """Writers register and route cases in threads while a reader follows the cursor; then
    the reader has every event of the centre exactly once."""
    _id, headers = make_api_client()
    with app.app_context():
        centre = centre_for("330106")
        user_for(centre, "staff")
        _db.session.commit()
    done = threading.Event()

    def write(position):
        with app.app_context():
            centre = centre_for("330106")
            staff = workflow.Actor.for_user(user_for(centre, "staff"))
            for n in range(4):
                data = workflow.IntakeData(
                    "hotline",
                    "neighbour",
                    [
                        workflow.PartyData("applicant", "person", f"甲{position}{n}"),
                        workflow.PartyData("respondent", "person", f"乙{position}{n}"),
                    ],
                    summary="噪音",
                )
                case = workflow.register_case(centre, data, staff).case
                workflow.withdraw_case(case, "申请人撤回", staff)
                _db.session.commit()
            _db.session.remove()

    writers = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for writer in writers:
        writer.start()
    seen, cursor = [], None
    while not done.is_set():
        done.set() if not any(w.is_alive() for w in writers) else None
        page, cursor = read_feed(client, headers, cursor)
        seen += page
    seen += read_feed(client, headers, cursor)[0]
    with app.app_context():
        events = _db.session.execute(select(CaseEvent.action, Case.number).join(Case)).all()
    keys = [(c["number"], c["action"]) for c in seen]
    assert len(keys) == len(set(keys)) == len(events) == 24
    assert set(keys) == {(number, action) for action, number in events}


def test_an_event_committed_after_a_later_one_is_not_skipped(
    app, db, client, make_case, make_api_client
):
    """PostgreSQL commits transactions in any order: a change written first and committed
    last waits in the feed until its transaction ends, instead of being passed by."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time: ids are in commit order")
    slow, fast = make_case("registered"), make_case("registered")
    slow_id, fast_id = slow.id, fast.id
    db.session.commit()
    _id, headers = make_api_client()
    _seen, cursor = read_feed(client, headers)
    written, finish = threading.Event(), threading.Event()

    def withdraw_slowly():
        with app.app_context():
            case = _db.session.get(Case, slow_id)
            staff = workflow.Actor.for_user(user_for(case.centre, "staff"))
            workflow.withdraw_case(case, "申请人撤回", staff)
            written.set()
            finish.wait(10)
            _db.session.commit()
            _db.session.remove()

    thread = threading.Thread(target=withdraw_slowly)
    thread.start()
    written.wait(10)
    case = db.session.get(Case, fast_id)
    workflow.withdraw_case(case, "申请人撤回", workflow.Actor.for_user(user_for(case.centre)))
    db.session.commit()
    early, cursor_after = read_feed(client, headers, cursor)
    finish.set()
    thread.join()
    late, _cursor = read_feed(client, headers, cursor_after)
    assert early == []
    assert [(c["action"], c["number"]) for c in late] == [
        ("withdraw", slow.number),
        ("withdraw", fast.number),
    ]

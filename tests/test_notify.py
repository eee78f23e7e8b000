"""Notices through the outbox (SPEC 3.7): who is told what, SMS through the gateway with
retries, held messages for staff, and the in-app notices of a user."""

import json
import smtplib
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import flask_migrate
import pytest
from sqlalchemy import select, text

from mediation import clock
from mediation.audit.models import AuditEntry
from mediation.auth.accounts import add_user
from mediation.auth.models import Role, User
from mediation.cases import workflow
from mediation.cases.models import Case
from mediation.cases.workflow import Actor
from mediation.extensions import db as _db
from mediation.notify import outbox, sms
from mediation.notify.models import OutboxMessage
from mediation.web.language import force_locale
from mediation.web.language import lazy_gettext as _l
from tests.case_factory import COURT, build_case, centre_for, mediator_for, user_for

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def messages(db, **filters) -> list[OutboxMessage]:
    """The outbox rows as they are now, detached; the test's transaction is ended, so that
    the web client's writes are not kept waiting on SQLite."""
    db.session.commit()
    rows = list(
        db.session.scalars(select(OutboxMessage).filter_by(**filters).order_by(OutboxMessage.id))
    )
    for row in rows:
        db.session.expunge(row)
    db.session.commit()
    return rows


@pytest.fixture
def gateway(app, monkeypatch):
    """A local SMS gateway on 127.0.0.1: `mode` is ok (200), error (500) or slow (answers
    after the client's timeout). It keeps each request's JSON body and Idempotency-Key header.
    The app is configured to use it."""
    received, keys, state = [], [], {"mode": "ok"}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            keys.append(self.headers["Idempotency-Key"])
            if state["mode"] == "slow":
                time.sleep(0.6)
            status = 500 if state["mode"] == "error" else 200
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the client gave up waiting

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/"
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", url)
    monkeypatch.setitem(app.config, "SMS_TIMEOUT_SECONDS", 0.2)
    yield SimpleNamespace(received=received, keys=keys, state=state, url=url)
    server.shutdown()
    server.server_close()
    thread.join()


def send_due(at: datetime, batch: int = 100) -> int:
    """One run of the dispatcher at `at` (it reads the clock for every lease and retry)."""
    with clock.frozen_at(at):
        return outbox.dispatch(batch=batch)


def settled(db, case) -> SimpleNamespace:
    """What a web test needs of a case, with the test's transaction ended (see messages)."""
    facts = SimpleNamespace(id=case.id, number=case.number, centre_id=case.centre_id)
    db.session.commit()
    return facts


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- who is told what --------------------------------------------------------------------------


def test_registration_texts_each_party_without_the_access_code(db, make_case):
    case = make_case()
    sms = messages(db, channel="sms")
    assert sorted(m.address for m in sms) == ["13812345678", "13987654321"]
    for message in sms:
        assert case.number in message.body and "查询码" in message.body
        assert message.locale == "zh_Hans_CN"
        assert not any(code in message.body for code in case.access_codes.values())
        # No gateway configured: kept in the outbox for staff.
        assert message.state == "held"


def test_sms_in_chinese_even_when_staff_work_in_english(db, make_case):
    make_case()
    centre = centre_for()
    data = workflow.IntakeData(
        "walk_in",
        "neighbour",
        [
            workflow.PartyData("applicant", "person", "王五", phone="13811112222"),
            workflow.PartyData("respondent", "person", "赵六"),
        ],
    )
    with force_locale("en"):
        assert str(_l("Outbox")) == "Outbox"  # the person registering reads English
        workflow.register_case(centre, data, Actor.for_user(user_for(centre)))
        db.session.commit()
    [message] = messages(db, address="13811112222")
    assert "您的纠纷已登记" in message.body


def test_opted_out_or_phoneless_parties_get_no_sms(db, make_case):
    case = make_case("mediating")
    case.parties[0].sms_opt_out = True
    case.parties[1].phone = None
    db.session.commit()
    before = len(messages(db, channel="sms"))
    workflow.fail_case(case, COURT, "事实清楚", Actor.for_user(user_for(case.centre)))
    db.session.commit()
    assert len(messages(db, channel="sms")) == before
    assert outbox.queue_message("sms", "direct:1", "x", party=case.parties[0]) is None


def test_queueing_twice_queues_once_and_keeps_the_callers_transaction(db, make_case):
    case = make_case()
    party = case.parties[0]
    first = outbox.queue_message("sms", "same-notice", "一", party=party, case=case)
    case.summary = "改动"
    again = outbox.queue_message("sms", "same-notice", "二", party=party, case=case)
    db.session.commit()
    assert first is not None and again is None
    assert [m.body for m in messages(db, dedupe_key="same-notice")] == ["一"]
    assert db.session.get(Case, case.id).summary == "改动"


def test_routing_tells_the_mediator_in_the_app(db, make_case):
    case = make_case("assigned")
    [notice] = messages(db, channel="in_app")
    mediator = mediator_for(case.centre)
    assert notice.user_id == mediator.user_id and notice.state == "sent"
    assert case.number in notice.subject and case.number in notice.body


def test_a_mediator_without_a_login_is_not_told(db, make_case):
    mediator = mediator_for(centre_for(), name="无账号", username=None)
    make_case("assigned", mediator=mediator)
    assert messages(db, channel="in_app") == []


def test_a_future_session_is_texted_to_the_parties_a_past_one_is_not(db, make_case):
    case = make_case("mediating", at=T0)  # its session was recorded at the time it happened
    assert [m for m in messages(db, channel="sms") if "调解" in m.body and "定于" in m.body] == []
    staff = Actor.for_user(user_for(case.centre))
    with clock.frozen_at(T0 + timedelta(hours=1)):
        workflow.record_session(case, T0 + timedelta(days=3, hours=4), staff, place="第二调解室")
        db.session.commit()
    scheduled = [m for m in messages(db, channel="sms") if "定于" in m.body]
    assert len(scheduled) == 2
    assert "2026年11月5日 14:00" in scheduled[0].body and "第二调解室" in scheduled[0].body


def test_a_transfer_is_texted_to_the_parties(db, make_case):
    case = make_case("transferred", transfer_reason="failed")
    transfer = [m for m in messages(db, channel="sms") if "转诉讼" in m.body]
    assert len(transfer) == 2 and "调解不成" in transfer[0].body and case.number in transfer[0].body


def test_a_party_leaving_for_court_is_told_at_once_to_the_mediator_and_the_centres_staff(
    db, make_case
):
    case = make_case("mediating")
    centre = case.centre
    staff = user_for(centre, "staff")
    colleague = add_user("staff-2", "第二位工作人员", Role.STAFF, "pw-12345678", centre)
    gone = add_user("staff-gone", "已离职", Role.STAFF, "pw-12345678", centre)
    gone.is_active = False
    away = user_for(centre_for("330105"), "staff")  # another centre's staff
    messages(db)  # committed; the routing notice is not what this test looks at
    workflow.request_litigation(case, Actor.for_party(case.applicants[0]))
    db.session.commit()
    told = {m.user_id: m for m in messages(db, channel="in_app") if "诉讼" in m.subject}
    mediator = mediator_for(centre).user_id
    assert set(told) == {mediator, staff.id, colleague.id}
    assert away.id not in told and gone.id not in told
    notice = told[mediator]
    assert notice.state == "sent" and case.number in notice.subject
    assert "张三" in notice.body and "已转诉讼" in notice.body


def test_staff_recording_a_partys_exit_tell_the_mediator_not_themselves(db, make_case):
    case = make_case("assigned")
    staff = user_for(case.centre, "staff")
    workflow.request_litigation(case, Actor.for_user(staff), on_behalf_of=case.respondents[0])
    db.session.commit()
    told = [m.user_id for m in messages(db, channel="in_app") if "诉讼" in m.subject]
    assert told == [mediator_for(case.centre).user_id]


def test_an_issued_certificate_is_texted_to_its_holder(db, make_case):
    case = make_case("fulfilled")
    [notice] = [m for m in messages(db, channel="sms") if "诚信履行证明" in m.body]
    assert notice.party_id == case.respondents[0].id


# --- sending -------------------------------------------------------------------------------


def test_the_gateway_receives_phone_and_text_and_the_message_is_sent(db, make_case, gateway):
    with clock.frozen_at(T0):
        case = make_case()
    assert {m.state for m in messages(db, channel="sms")} == {"pending"}
    assert send_due(T0) == 2
    assert {m.state for m in messages(db, channel="sms")} == {"sent"}
    assert sorted(r["phone"] for r in gateway.received) == ["13812345678", "13987654321"]
    assert case.number in gateway.received[0]["text"]
    assert [set(r) for r in gateway.received] == [{"id", "phone", "text"}] * 2
    assert send_due(T0 + timedelta(minutes=5)) == 0  # nothing twice
    assert len(gateway.received) == 2


@pytest.mark.parametrize("failure", ["error", "slow", "closed"])
def test_a_failing_gateway_is_retried_with_backoff_then_failed_never_lost(
    app, db, make_case, gateway, failure, monkeypatch
):
    gateway.state["mode"] = failure
    if failure == "closed":
        monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", f"http://127.0.0.1:{closed_port()}/")
    with clock.frozen_at(T0):
        make_case()
    now, waits = T0, []
    for _attempt in range(5):
        while send_due(now):  # a gateway that is away ends a run after one message
            pass
        message = messages(db, channel="sms")[0]
        if message.state == "failed":
            break
        assert send_due(now + timedelta(seconds=30)) == 0  # not due before its next try
        waits.append(message.next_attempt_at - now)
        now = message.next_attempt_at
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    failed = messages(db, channel="sms")
    assert [(m.state, m.attempts) for m in failed] == [("failed", 5), ("failed", 5)]
    expected = {"error": "HTTP 500", "slow": "未在规定时间内应答", "closed": "无法连接"}[failure]
    assert all(expected in m.last_error for m in failed)


def test_a_pending_message_is_held_when_the_gateway_goes_away(
    app, db, make_case, gateway, monkeypatch
):
    make_case()
    assert {m.state for m in messages(db, channel="sms")} == {"pending"}
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", "")
    send_due(clock.now())
    assert {(m.state, m.attempts) for m in messages(db, channel="sms")} == {("held", 0)}
    assert gateway.received == []


def test_email_is_held_without_smtp_and_retried_when_the_server_is_away(app, db, monkeypatch):
    centre = centre_for()
    db.session.commit()
    outbox.queue_message(
        "email", "mail:1", "正文", "主题", address="a@example.org", centre_id=centre.id
    )
    db.session.commit()
    assert messages(db, channel="email")[0].state == "held"
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", closed_port())
    outbox.queue_message(
        "email", "mail:2", "正文", "主题", address="b@example.org", centre_id=centre.id
    )
    db.session.commit()
    send_due(clock.now())
    retried = messages(db, dedupe_key="mail:2")[0]
    assert (retried.state, retried.attempts) == ("pending", 1)
    assert "邮件服务器无法连接" in retried.last_error


def test_messages_held_without_a_gateway_are_sent_once_one_is_configured(
    app, db, make_case, gateway, monkeypatch
):
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", "")
    with clock.frozen_at(T0):
        make_case()
    assert send_due(T0) == 0
    assert {m.state for m in messages(db, channel="sms")} == {"held"}
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", gateway.url)
    assert send_due(T0 + timedelta(days=3)) == 2
    assert {m.state for m in messages(db, channel="sms")} == {"sent"}
    assert len(gateway.received) == 2


def test_a_bad_gateway_setting_is_a_failed_attempt_not_a_jammed_outbox(
    app, db, make_case, monkeypatch
):
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", "gateway.local")  # no http://
    with clock.frozen_at(T0):
        make_case()
    assert send_due(T0) == 2
    first = messages(db, channel="sms")
    assert {(m.state, m.attempts) for m in first} == {("pending", 1)}
    assert {m.next_attempt_at for m in first} == {T0 + timedelta(minutes=1)}
    assert all(m.last_error.startswith("ValueError: unknown url type") for m in first)
    now = T0
    for _attempt in range(4):
        now += timedelta(hours=1)
        send_due(now)
    assert {(m.state, m.attempts) for m in messages(db, channel="sms")} == {("failed", 5)}


def test_leases_and_retries_are_timed_when_they_are_set(app, db, make_case, monkeypatch):
    with clock.frozen_at(T0):
        make_case()
    seen = []

    class SlowGateway:
        SendError = type("SendError", (Exception,), {})
        Unreachable = type("Unreachable", (SendError,), {})

        @staticmethod
        def configured():
            return True

        @staticmethod
        def send(address, text, subject="", *, key):
            lease = db.session.scalar(
                select(OutboxMessage.next_attempt_at).filter_by(channel="sms", address=address)
            )
            seen.append(lease - clock.now())
            monkeypatch.setattr(clock, "_frozen", clock.now() + timedelta(minutes=20))
            raise SlowGateway.SendError("busy")

    monkeypatch.setitem(outbox.CHANNEL_SENDERS, "sms", SlowGateway)
    send_due(T0, batch=1)
    assert seen == [outbox.CLAIM_LEASE, outbox.CLAIM_LEASE]  # each leased when claimed
    retries = sorted(m.next_attempt_at for m in messages(db, channel="sms"))
    # each retry a minute after its own failure, not after the run's start
    assert retries == [T0 + timedelta(minutes=21), T0 + timedelta(minutes=41)]


def test_a_run_stops_when_the_gateway_cannot_be_reached(app, db, make_case, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", f"http://127.0.0.1:{closed_port()}/")
    with clock.frozen_at(T0):
        make_case()
    assert send_due(T0) == 1
    tried, untouched = messages(db, channel="sms")
    assert (tried.attempts, tried.next_attempt_at) == (1, T0 + timedelta(minutes=1))
    assert "无法连接" in tried.last_error
    assert (untouched.state, untouched.attempts, untouched.next_attempt_at) == ("pending", 0, T0)
    assert untouched.last_error is None


# --- the same message, sent again, has the same id ---------------------------------------------


def ids_by_phone(gateway) -> dict[str, list[tuple[str, str]]]:
    """Each phone's requests, in order, as (id in the body, Idempotency-Key header)."""
    requests = {}
    for body, key in zip(gateway.received, gateway.keys, strict=True):
        requests.setdefault(body["phone"], []).append((body["id"], key))
    return requests


def keys_by_phone(db) -> dict[str, str]:
    return {m.address: str(m.idempotency_key) for m in messages(db, channel="sms")}


def test_a_message_answered_after_the_time_out_is_sent_again_with_the_same_id(
    db, make_case, gateway
):
    with clock.frozen_at(T0):
        make_case()
    gateway.state["mode"] = "slow"  # takes the message, answers after the client gave up
    assert send_due(T0) == 1
    gateway.state["mode"] = "ok"
    assert send_due(T0 + timedelta(minutes=1)) == 2
    assert {(m.state, m.attempts) for m in messages(db, channel="sms")} == {
        ("sent", 1),
        ("sent", 2),
    }
    keys, requests = keys_by_phone(db), ids_by_phone(gateway)
    [retried] = [phone for phone, sent in requests.items() if len(sent) == 2]
    assert requests[retried] == [(keys[retried], keys[retried])] * 2
    assert len(set(keys.values())) == 2  # another message, another id


class Killed(BaseException):
    """The sender's process ending where it stands (not an error that the dispatcher handles)."""


def test_a_message_in_flight_when_its_sender_died_is_sent_again_with_the_same_id(
    db, make_case, gateway, monkeypatch
):
    with clock.frozen_at(T0):
        make_case()
    deliver = sms.send

    def deliver_then_die(*args, **kwargs):
        deliver(*args, **kwargs)
        raise Killed

    monkeypatch.setattr(sms, "send", deliver_then_die)
    with pytest.raises(Killed):
        send_due(T0)
    _db.session.rollback()
    monkeypatch.setattr(sms, "send", deliver)
    [in_flight] = gateway.received
    assert send_due(T0 + outbox.CLAIM_LEASE - timedelta(seconds=1)) == 0  # still leased
    assert send_due(T0 + outbox.CLAIM_LEASE) == 2
    assert {m.state for m in messages(db, channel="sms")} == {"sent"}
    keys, requests = keys_by_phone(db), ids_by_phone(gateway)
    phone = in_flight["phone"]
    assert requests[phone] == [(keys[phone], keys[phone])] * 2
    [other] = set(requests) - {phone}
    assert requests[other] == [(keys[other], keys[other])]


def test_an_email_sent_again_keeps_its_message_id(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.example.org")
    monkeypatch.setitem(app.config, "SMTP_FROM", "调解中心 <notice@xihu.example.org>")
    sent = []

    class MailServer:
        """Takes each message; the connection drops before its first answer."""

        def __init__(self, host, port, timeout):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent.append(message["Message-ID"])
            if len(sent) == 1:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(smtplib, "SMTP", MailServer)
    with clock.frozen_at(T0):
        outbox.queue_message("email", "mail:1", "正文", "主题", address="a@example.org")
        outbox.queue_message("email", "mail:2", "正文", "主题", address="b@example.org")
        db.session.commit()
    send_due(T0)
    send_due(T0 + timedelta(minutes=1))
    keys = {m.address: m.idempotency_key for m in messages(db, channel="email")}
    assert {m.state for m in messages(db, channel="email")} == {"sent"}
    first, second = (f"<{keys[a]}@xihu.example.org>" for a in ("a@example.org", "b@example.org"))
    assert sent == [first, second, first]


BEFORE_IDEMPOTENCY_KEYS = "029dad4162ed"  # the migration before messages had their own id


def test_messages_queued_before_the_migration_get_an_id_of_their_own(app, db):
    db.session.remove()
    flask_migrate.downgrade(revision=BEFORE_IDEMPOTENCY_KEYS)
    try:
        # The time as text: Python 3.12 deprecated sqlite3's own datetime adapter.
        created_at = T0.strftime("%Y-%m-%d %H:%M:%S")
        db.session.execute(
            text(
                "INSERT INTO outbox_message (channel, address, locale, subject, body, state,"
                " attempts, created_at, dedupe_key) VALUES ('sms', '13812345678', 'zh_Hans_CN',"
                " '', '正文', :state, 1, :created_at, :dedupe_key)"
            ),
            [
                {"state": state, "created_at": created_at, "dedupe_key": f"old:{n}"}
                for n, state in enumerate(["pending", "failed", "sent"])
            ],
        )
        db.session.commit()
    finally:
        db.session.rollback()
        flask_migrate.upgrade()  # the tests after this one need the whole schema
    keys = db.session.scalars(select(OutboxMessage.idempotency_key)).all()
    assert len(set(keys)) == 3 and {key.version for key in keys} == {4}


# --- pages: the web client runs its own app contexts, so data is set up and read in others ---


@pytest.fixture
def web_case(app):
    def make(state="registered", **overrides) -> SimpleNamespace:
        with app.app_context():
            case = build_case(state, **overrides)
            return SimpleNamespace(id=case.id, number=case.number, centre_id=case.centre_id)

    return make


def rows(app, **filters) -> list[OutboxMessage]:
    with app.app_context():
        return messages(_db, **filters)


def dispatch(app, now: datetime) -> int:
    with app.app_context():
        return send_due(now)


def queue_for(app, user_id: int, count: int, prefix: str) -> None:
    with app.app_context():
        user = _db.session.get(User, user_id)
        for n in range(count):
            text = f"第{n:02d}条"
            outbox.queue_message("in_app", f"{prefix}:{n}", text, text, user=user)
        _db.session.commit()


def test_staff_send_a_failed_message_again_once_the_gateway_is_back(
    app, client, login, web_case, gateway
):
    gateway.state["mode"] = "error"
    with clock.frozen_at(T0):
        web_case()
    dispatches, now = 0, T0
    while rows(app, channel="sms")[0].state != "failed":
        dispatch(app, now)
        now += timedelta(hours=1)
        dispatches += 1
    assert dispatches == 5
    login("staff")
    page = client.get("/outbox?state=failed").get_data(as_text=True)
    assert "HTTP 500" in page and "138****5678" in page and "13812345678" not in page
    assert "重新发送" in page
    gateway.state["mode"] = "ok"
    failed = rows(app, channel="sms")[0]
    assert client.post_form(f"/outbox/{failed.id}/requeue").status_code == 302
    dispatch(app, clock.now() + timedelta(seconds=1))
    [sent] = rows(app, id=failed.id)
    assert sent.state == "sent"
    # Sent again by staff, it is still the same message to the gateway.
    key = str(sent.idempotency_key)
    assert ids_by_phone(gateway)[sent.address] == [(key, key)] * 6


def test_without_a_gateway_sms_stay_held_and_admins_export_them(app, client, login, web_case):
    with clock.frozen_at(T0):
        case = web_case()
    assert dispatch(app, clock.now()) == 0
    assert {m.state for m in rows(app, channel="sms")} == {"held"}
    login("admin")
    page = client.get("/outbox").get_data(as_text=True)
    assert case.number in page and "138****5678" in page
    assert "重新发送" not in page  # nothing to send it with
    assert "/outbox/export.csv" in page and "仅管理员可以下载" in page
    export = client.get("/outbox/export.csv?state=held")
    text = export.get_data(as_text=True)
    assert export.mimetype == "text/csv" and text.startswith("\ufeff")
    assert "13812345678" in text and case.number in text
    assert "创建时间（Asia/Shanghai）" in text and ",2026-11-02 10:00," in text  # local time
    held_count = len(rows(app, state="held"))
    with app.app_context():
        entry = _db.session.scalars(select(AuditEntry).filter_by(action="outbox.export")).one()
        assert (entry.actor_name, entry.details["rows"]) == ("admin-330106", held_count)
    held = rows(app, channel="sms")[0]
    client.post_form(f"/outbox/{held.id}/requeue")
    assert rows(app, id=held.id)[0].state == "held"  # still no gateway to send it


def test_staff_see_the_outbox_masked_but_may_not_export_full_phones(app, client, login, web_case):
    with clock.frozen_at(T0):
        web_case()
    dispatch(app, clock.now())
    login("staff")
    page = client.get("/outbox").get_data(as_text=True)
    assert "138****5678" in page and "13812345678" not in page
    assert "/outbox/export.csv" not in page and "仅管理员可以下载" in page
    assert client.get("/outbox/export.csv?state=held").status_code == 403
    with app.app_context():
        assert _db.session.scalar(select(AuditEntry.id).filter_by(action="outbox.export")) is None


def test_unread_count_in_the_header_and_marking_read(app, client, login, web_case):
    case = web_case("assigned")
    login("mediator")
    page = client.get("/").get_data(as_text=True)
    assert "unread-notices" in page and ">1</span>" in page
    assert case.number in client.get("/notices").get_data(as_text=True)
    [notice] = rows(app, channel="in_app")
    response = client.post_form(f"/notices/{notice.id}/read", {"open": "1"})
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    assert rows(app, channel="in_app")[0].read_at is not None
    assert "unread-notices" not in client.get("/").get_data(as_text=True)


def test_an_unread_notice_says_so_after_its_subject(app, client, login, web_case):
    """The mark does not run into the subject: "新" before "案件…" read as "新案件"."""
    web_case("assigned")
    [notice] = rows(app, channel="in_app")
    login("mediator")
    page = client.get("/notices").get_data(as_text=True)
    assert f"<strong>{notice.subject}</strong>" in page
    assert page.index(notice.subject) < page.index(">未读</span>")
    client.post_form(f"/notices/{notice.id}/read")
    assert ">未读</span>" not in client.get("/notices").get_data(as_text=True)


def test_the_unread_count_stops_at_99_plus(app, client, login):
    user = login("staff")
    queue_for(app, user.id, 101, "many")
    assert ">99+</span>" in client.get("/").get_data(as_text=True)
    client.post_form("/notices/read")
    assert all(m.read_at is not None for m in rows(app))
    assert "unread-notices" not in client.get("/").get_data(as_text=True)


def test_notices_are_paged_newest_first(app, client, login):
    user = login("staff")
    queue_for(app, user.id, 55, "page")
    first = client.get("/notices").get_data(as_text=True)
    assert "第54条" in first and "第05条" in first and "第04条" not in first
    older = client.get(f"/notices?before={rows(app, dedupe_key='page:5')[0].id}")
    assert "第04条" in older.get_data(as_text=True)


def test_a_users_notice_is_theirs_alone(app, client, login, web_case):
    web_case("assigned")
    [notice] = rows(app, channel="in_app")
    login("staff")
    assert client.post_form(f"/notices/{notice.id}/read").status_code == 404
    assert "unread-notices" not in client.get("/").get_data(as_text=True)


def test_outbox_page_is_for_the_centres_staff(app, login, web_case):
    case = web_case()
    held = rows(app, channel="sms")[0]
    mediator = app.test_client()
    signed_in(mediator, login, "mediator")
    assert mediator.get("/outbox").status_code == 403
    other = app.test_client()
    signed_in(other, login, "staff", centre="330108", username="other-staff")
    assert case.number not in other.get("/outbox").get_data(as_text=True)
    assert other.post_form(f"/outbox/{held.id}/requeue").status_code == 404
    admin = app.test_client()
    signed_in(admin, login, "admin", centre=None)
    assert case.number in admin.get(f"/outbox?centre={case.centre_id}").get_data(as_text=True)


def signed_in(client, login, role, **kwargs):
    """`login` signs in the `client` fixture; this signs in another client the same way."""
    from tests.conftest import PASSWORD

    user = login(role, **kwargs)
    response = client.post_form("/login", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_replaying_history_queues_no_notices(db, make_case):
    with outbox.suppressed():
        make_case("transferred")
    assert messages(db) == []
    make_case()
    assert len(messages(db)) == 2

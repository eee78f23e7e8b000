"""Integration clients on the command line and the admin page, and their webhooks: transfers
and conclusions POSTed through the outbox, signed, retried, never lost."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import flask_migrate
import pytest
from sqlalchemy import select, text

from mediation import clock
from mediation.api.clients import hash_token
from mediation.api.models import ApiClient
from mediation.api.webhooks import signature, signing_key
from mediation.extensions import db as _db
from mediation.notify import outbox
from mediation.notify.models import OutboxMessage
from mediation.notify.webhook import SIGNATURE_HEADER
from tests.case_factory import centre_for

# The revision before webhook keys were derived (76f152230e36).
KEYS_STORED = "840d54eab8dc"


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def client_named(app, name) -> ApiClient:
    with app.app_context():
        client = _db.session.scalar(select(ApiClient).where(ApiClient.name == name))
        _db.session.expunge(client)
        return client


# --- the command line -----------------------------------------------------------------------


def test_add_prints_the_token_once_and_keeps_only_its_hash(app, client, make_centre):
    make_centre()
    result = run(
        app,
        "api",
        "client",
        "add",
        "西湖法院",
        "--centre",
        "330106",
        "--scopes",
        "cases:read,stats:read",
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    stored = client_named(app, "西湖法院")
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash
    assert stored.scope_list == ["cases:read", "stats:read"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    listed = run(app, "api", "client", "list").output
    assert "西湖法院\t330106\tcases:read stats:read" in listed and token not in listed


@pytest.mark.parametrize(
    "args, message",
    [
        (["--centre", "999999", "--scopes", "cases:read"], "999999"),
        (["--centre", "330106", "--scopes", "cases:delete"], "cases:delete"),
    ],
)
def test_add_refuses_an_unknown_centre_or_scope(app, make_centre, args, message):
    make_centre()
    result = run(app, "api", "client", "add", "x", *args)
    assert result.exit_code != 0 and message in result.output


def test_revoke_ends_the_token(app, client, make_api_client):
    _id, headers = make_api_client(name="网格系统")
    assert run(app, "api", "client", "revoke", "网格系统").exit_code == 0
    assert client.get("/api/v1/cases", headers=headers).status_code == 401
    assert (
        "revoked" in run(app, "api", "client", "list").output
        or "已撤销" in run(app, "api", "client", "list").output
    )
    assert run(app, "api", "client", "revoke", "nobody").exit_code != 0


def test_webhook_prints_its_secret_once(app, make_api_client):
    make_api_client(name="法院")
    result = run(app, "api", "client", "webhook", "法院", "https://court.example/hook")
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    stored = client_named(app, "法院")
    assert stored.webhook_url == "https://court.example/hook"
    with app.app_context():
        assert signing_key(stored.webhook_salt) == secret
    assert run(app, "api", "client", "webhook", "法院", "ftp://x").exit_code != 0
    assert run(app, "api", "client", "webhook", "法院").exit_code == 0
    assert client_named(app, "法院").webhook_url is None


# --- the admin page -------------------------------------------------------------------------


def test_an_admin_sees_the_clients_of_their_centre(client, login, make_api_client):
    make_api_client(name="西湖法院")
    make_api_client(name="拱墅法院", centre="330105")
    login("admin")
    page = client.get("/admin/api-clients/").get_data(as_text=True)
    assert "西湖法院" in page and "cases:write" in page and "拱墅法院" not in page


def test_staff_may_not_open_the_clients_page(client, login):
    login("staff")
    assert client.get("/admin/api-clients/").status_code == 403


def test_an_admin_revokes_a_client(app, client, login, make_api_client):
    client_id, headers = make_api_client(name="西湖法院")
    login("admin")
    response = client.post_form(f"/admin/api-clients/{client_id}/revoke")
    assert response.status_code == 302
    assert client.get("/api/v1/cases", headers=headers).status_code == 401
    assert "撤销" in client.get("/admin/api-clients/").get_data(as_text=True)


def test_revoking_needs_the_csrf_token_and_the_clients_centre(client, login, make_api_client):
    client_id, _headers = make_api_client(name="西湖法院")
    other_id, _headers = make_api_client(name="拱墅法院", centre="330105")
    login("admin")
    assert client.post(f"/admin/api-clients/{client_id}/revoke").status_code == 400
    assert client.post_form(f"/admin/api-clients/{other_id}/revoke").status_code == 404


def test_an_admin_registers_a_webhook_and_sees_its_secret_once(app, client, login, make_api_client):
    client_id, _headers = make_api_client(name="西湖法院")
    login("admin")
    url = f"/admin/api-clients/{client_id}/webhook"
    bad = client.post_form(url, {"url": "javascript:alert(1)"})
    assert bad.status_code == 422 and "javascript:alert(1)" in bad.get_data(as_text=True)
    assert client_named(app, "西湖法院").webhook_url is None
    response = client.post_form(url, {"url": "https://court.example/hook"})
    stored = client_named(app, "西湖法院")
    assert stored.webhook_url == "https://court.example/hook"
    with app.app_context():
        secret = signing_key(stored.webhook_salt)
    assert secret in response.get_data(as_text=True)
    assert secret not in client.get("/admin/api-clients/").get_data(as_text=True)


# --- webhooks -------------------------------------------------------------------------------


@pytest.fixture
def receiver():
    """A client's webhook endpoint on 127.0.0.1, keeping each body and signature; `status`
    is what it answers."""
    received, keys, state = [], [], {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers[SIGNATURE_HEADER]))
            keys.append(self.headers["Idempotency-Key"])
            self.send_response(state["status"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(
        url=f"http://127.0.0.1:{server.server_port}/hook",
        received=received,
        keys=keys,
        state=state,
    )
    server.shutdown()
    server.server_close()
    thread.join()


def with_webhook(app, make_api_client, url, centre="330106"):
    from mediation.api.clients import set_webhook

    client_id, _headers = make_api_client(centre=centre)
    with app.app_context():
        secret = set_webhook(_db.session.get(ApiClient, client_id), url)
        _db.session.commit()
    return secret


def webhook_messages(db):
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.channel == "webhook").order_by(OutboxMessage.id)
    ).all()


def test_a_transfer_is_posted_signed_to_the_centres_webhook(
    app, db, make_case, make_api_client, receiver
):
    secret = with_webhook(app, make_api_client, receiver.url)
    with_webhook(app, make_api_client, receiver.url + "/other", centre="330105")
    case = make_case("transferred", transfer_reason="failed")
    make_case("mediating")  # no transfer, no conclusion: nothing sent
    number = case.number
    db.session.commit()
    assert outbox.dispatch() >= 1
    assert len(receiver.received) == 1
    body, signed = receiver.received[0]
    assert signed == "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    event = json.loads(body)
    assert event["event"] == "case.transferred" and event["case"]["number"] == number
    assert event["case"]["transfer"]["reason"] == "failed"


def test_agreements_and_withdrawals_are_posted_as_conclusions(app, db, make_case, make_api_client):
    with_webhook(app, make_api_client, "http://127.0.0.1:9/hook")
    make_case("agreed")
    make_case("withdrawn")
    db.session.commit()
    events = [json.loads(m.body) for m in webhook_messages(db)]
    assert [(e["event"], e["case"]["outcome"]) for e in events] == [
        ("case.concluded", "agreed"),
        ("case.concluded", "withdrawn"),
    ]


def test_a_webhook_that_fails_is_retried_and_never_lost(
    app, db, make_case, make_api_client, receiver
):
    with_webhook(app, make_api_client, receiver.url)
    make_case("withdrawn")
    db.session.commit()
    receiver.state["status"] = 503
    outbox.dispatch()
    (message,) = webhook_messages(db)
    assert (message.state, message.attempts) == ("pending", 1) and "503" in message.last_error
    receiver.state["status"] = 200
    db.session.expire_all()
    with clock.frozen_at(clock.now() + timedelta(hours=1)):
        outbox.dispatch()
    db.session.expire_all()
    (message,) = webhook_messages(db)
    assert message.state == "sent" and len(receiver.received) == 2
    # Sent again with the same id, so that the client can drop a repeat (#23 point 4).
    assert receiver.keys == [str(message.idempotency_key)] * 2


def test_the_database_alone_holds_no_webhook_key(app, db, make_api_client, monkeypatch):
    """The key shown once is derived from SECRET_KEY and the client's salt: no column holds
    it, and with another SECRET_KEY (a copy of the database elsewhere) the key is another."""
    secret = with_webhook(app, make_api_client, "https://court.example/hook")
    row = db.session.execute(select(ApiClient.__table__)).one()
    assert not any(secret in str(value) for value in row)
    stored = db.session.scalar(select(ApiClient))
    assert signing_key(stored.webhook_salt) == secret
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-key")
    assert signing_key(stored.webhook_salt) != secret


def test_a_key_stored_before_keys_were_derived_still_signs(app, db, make_case, make_api_client):
    client_id, _headers = make_api_client()
    stored = db.session.get(ApiClient, client_id)
    stored.webhook_url, stored.webhook_secret = "http://127.0.0.1:9/hook", "an-old-key"
    db.session.commit()
    make_case("withdrawn")
    db.session.commit()
    (message,) = webhook_messages(db)
    assert message.subject == signature("an-old-key", message.body)  # the header it is sent with


def test_going_back_a_revision_writes_each_derived_key_out(app, db, make_api_client):
    secret = with_webhook(app, make_api_client, "https://court.example/hook")
    db.session.remove()
    flask_migrate.downgrade(revision=KEYS_STORED)
    try:
        assert db.session.scalar(text("select webhook_secret from api_client")) == secret
    finally:
        db.session.remove()
        flask_migrate.upgrade()


def test_the_signature_is_hmac_sha256_of_the_body():
    body = '{"a": 1}'
    expected = hmac.new(b"key", body.encode(), hashlib.sha256).hexdigest()
    assert signature("key", body) == f"sha256={expected}"


def test_a_revoked_clients_webhook_gets_nothing(app, db, make_case, make_api_client):
    with_webhook(app, make_api_client, "http://127.0.0.1:9/hook")
    run(app, "api", "client", "revoke", "client-1")
    make_case("withdrawn")
    db.session.commit()
    assert webhook_messages(db) == []
    assert centre_for("330106") is not None

"""Webhook events: a transfer or a conclusion of a case, queued in the outbox for each client
of the case's centre with a webhook, inside the transaction of the move (never lost: sent and
retried by the outbox job), each signed with HMAC-SHA256 of its body."""

import hashlib
import hmac
import json

from flask import current_app
from sqlalchemy import bindparam, select

from mediation.api.models import ApiClient
from mediation.extensions import db
from mediation.notify.outbox import queue_message


def signature(secret: str, body: str) -> str:
    """The X-Mediation-Signature header: sha256=<hex HMAC-SHA256 of the body's bytes>."""
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signing_key(salt: str) -> str:
    """A webhook's signing key: HMAC-SHA256 of its salt under the app's SECRET_KEY. A new
    SECRET_KEY gives every webhook a new key (register them again)."""
    secret_key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret_key, f"webhook:{salt}".encode(), hashlib.sha256).hexdigest()


def key_of(client) -> str:
    return signing_key(client.webhook_salt) if client.webhook_salt else client.webhook_secret


def queue_case_event(case, event_id: int, action: str, at, *, transferred: bool) -> None:
    """One message per client of the case's centre that registered a webhook."""
    clients = db.session.execute(_CLIENTS_WITH_WEBHOOK, {"centre_id": case.centre_id}).all()
    if not clients:
        return
    transfer = case.transfer if transferred else None
    payload = {
        "event": "case.transferred" if transferred else "case.concluded",
        "event_id": event_id,
        "action": action,
        "at": at.isoformat(),
        "case": {
            "number": case.number,
            "state": case.state,
            "outcome": case.outcome,
            "transfer_reason": case.transfer_reason,
            "concluded_on": case.concluded_on.isoformat() if case.concluded_on else None,
            "transfer": {
                "reason": transfer.reason,
                "court": transfer.court,
                "transferred_on": transfer.transferred_on.isoformat(),
            }
            if transfer is not None
            else None,
        },
    }
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    for client in clients:
        queue_message(
            "webhook",
            f"webhook:{client.id}:{event_id}",
            body,
            signature(key_of(client), body),
            address=client.webhook_url,
            case=case,
        )


_CLIENTS_WITH_WEBHOOK = select(
    ApiClient.id, ApiClient.webhook_url, ApiClient.webhook_salt, ApiClient.webhook_secret
).where(
    ApiClient.centre_id == bindparam("centre_id"),
    ApiClient.revoked_at.is_(None),
    ApiClient.webhook_url.is_not(None),
)

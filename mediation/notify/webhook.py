"""The webhook channel: a message's body, JSON, POSTed to an integration client's URL with
its HMAC-SHA256 signature (api.webhooks), like the SMS gateway with the standard library."""

import urllib.error
import urllib.request
import uuid

from flask import current_app

from mediation.notify.sms import SendError, Unreachable
from mediation.web.language import gettext as _

SIGNATURE_HEADER = "X-Mediation-Signature"
__all__ = ["SendError", "Unreachable", "configured", "send"]


def configured() -> bool:
    # Each message carries its own address: the client's registered URL.
    return True


def send(url: str, body: str, signature: str = "", *, key: uuid.UUID) -> None:
    """POST one event; returns when the client answered 2xx, else raises SendError.
    `signature` is "sha256=<hex>" of the body, made with the client's secret when queued."""
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": str(key),
            SIGNATURE_HEADER: signature,
        },
        method="POST",
    )
    try:
        timeout = current_app.config["SMS_TIMEOUT_SECONDS"]
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(1024)
    except urllib.error.HTTPError as error:
        raise SendError(_("Webhook answered HTTP %(code)d", code=error.code)) from None
    except TimeoutError:
        raise SendError(_("Webhook did not answer in time")) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        # One client's server being down stops no other message: SendError, not Unreachable.
        raise SendError(_("Webhook unreachable: %(reason)s", reason=reason)) from None

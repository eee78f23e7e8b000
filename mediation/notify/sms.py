"""The SMS gateway: a configurable HTTP endpoint taking {"id", "phone", "text"} as JSON.

Only the standard library: a government intranet's gateway needs nothing more, and nothing
here talks to anything but the configured address.
"""

import json
import urllib.error
import urllib.request
import uuid

from flask import current_app

from mediation.web.language import gettext as _


class SendError(Exception):
    """The gateway did not take the message; str() says why, for the outbox's last error
    (shown to staff: in the deployment's language, the remote server's own text as it is)."""


class Unreachable(SendError):
    """No answer from the gateway: the dispatcher stops its run and tries again next time."""


def configured() -> bool:
    return bool(current_app.config.get("SMS_GATEWAY_URL"))


def send(phone: str, text: str, subject: str = "", *, key: uuid.UUID) -> None:
    """POST one message; returns when the gateway answered 2xx, else raises SendError.

    `key` is the message's id, the same on every attempt: in the body and as the
    Idempotency-Key header, so that the gateway can drop a repeat.
    """
    config = current_app.config
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": str(key)}
    if config.get("SMS_GATEWAY_TOKEN"):
        headers["Authorization"] = f"Bearer {config['SMS_GATEWAY_TOKEN']}"
    request = urllib.request.Request(
        config["SMS_GATEWAY_URL"],
        data=json.dumps(
            {"id": str(key), "phone": phone, "text": text}, ensure_ascii=False
        ).encode(),
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=config["SMS_TIMEOUT_SECONDS"]) as response:
            response.read(1024)
    except urllib.error.HTTPError as error:
        raise SendError(_("SMS gateway answered HTTP %(code)d", code=error.code)) from None
    except TimeoutError:
        raise Unreachable(_("SMS gateway did not answer in time")) from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            raise Unreachable(_("SMS gateway did not answer in time")) from None
        raise Unreachable(_("SMS gateway unreachable: %(reason)s", reason=reason)) from None
    except OSError as error:
        raise Unreachable(_("SMS gateway connection failed: %(error)s", error=error)) from None

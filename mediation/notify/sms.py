"""The SMS gateway: a configurable HTTP endpoint taking {"phone", "text"} as JSON.

Only the standard library: a government intranet's gateway needs nothing more, and nothing
here talks to anything but the configured address.
"""

import json
import urllib.error
import urllib.request

from flask import current_app


class SendError(Exception):
    """The gateway did not take the message; str() says why, for the outbox's last error."""


def configured() -> bool:
    return bool(current_app.config.get("SMS_GATEWAY_URL"))


def send(phone: str, text: str, subject: str = "") -> None:
    """POST one message; returns when the gateway answered 2xx, else raises SendError."""
    config = current_app.config
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if config.get("SMS_GATEWAY_TOKEN"):
        headers["Authorization"] = f"Bearer {config['SMS_GATEWAY_TOKEN']}"
    request = urllib.request.Request(
        config["SMS_GATEWAY_URL"],
        data=json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode(),
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=config["SMS_TIMEOUT_SECONDS"]) as response:
            response.read(1024)
    except urllib.error.HTTPError as error:
        raise SendError(f"gateway answered HTTP {error.code}") from None
    except TimeoutError:
        raise SendError("gateway did not answer in time") from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            raise SendError("gateway did not answer in time") from None
        raise SendError(f"gateway unreachable: {reason}") from None
    except OSError as error:
        raise SendError(f"gateway connection failed: {error}") from None

"""E-mail through SMTP, when SMTP_HOST is configured; without it e-mails stay held."""

import smtplib
import uuid
from email.message import EmailMessage
from email.utils import parseaddr

from flask import current_app

from mediation.web.language import gettext as _


class SendError(Exception):
    """The mail server did not take the message; str() is shown to staff."""


class Unreachable(SendError):
    """No connection to the mail server: the dispatcher stops its run."""


def configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def send(address: str, text: str, subject: str = "", *, key: uuid.UUID) -> None:
    """Send one e-mail; its Message-ID is made of `key`, the same on every attempt, so that a
    copy sent again after a lost answer is recognised as the same message."""
    config = current_app.config
    sender = config["SMTP_FROM"] or config["SMTP_USER"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or config["SMTP_HOST"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = address
    message["Subject"] = subject
    message["Message-ID"] = f"<{key}@{domain}>"
    message.set_content(text)
    try:
        with smtplib.SMTP(
            config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMS_TIMEOUT_SECONDS"]
        ) as server:
            if config["SMTP_STARTTLS"]:
                server.starttls()
            if config["SMTP_USER"]:
                server.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
            server.send_message(message)
    except smtplib.SMTPException as error:
        raise SendError(_("Mail server refused: %(error)s", error=error)) from None
    except OSError as error:
        raise Unreachable(_("Mail server unreachable: %(error)s", error=error)) from None

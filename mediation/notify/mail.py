"""E-mail through SMTP, when SMTP_HOST is configured; without it e-mails stay held."""

import smtplib
from email.message import EmailMessage

from flask import current_app


class SendError(Exception):
    """The mail server did not take the message."""


def configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def send(address: str, text: str, subject: str = "") -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["SMTP_FROM"] or config["SMTP_USER"]
    message["To"] = address
    message["Subject"] = subject
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
    except (smtplib.SMTPException, OSError) as error:
        raise SendError(f"mail server: {error}") from None

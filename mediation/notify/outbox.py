"""Queueing notices and sending them: the outbox (SPEC 3.7).

`queue_message` writes one row per notice inside the caller's transaction, so a notice exists
exactly when the change it reports was committed; its dedupe key makes queueing the same
notice twice a no-op. `dispatch` is the body of the outbox job: it claims due messages, sends
them with no transaction open (a slow gateway never holds a database lock), and records the
result: sent, or retried later with backoff, and finally failed — never dropped.

Delivery is at least once: a message whose answer was lost (the gateway answered after the
time-out, or the sender died before recording it) is sent again. Every attempt carries the
message's own idempotency key, so that the gateway can tell a repeat from a new message.
"""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import TextClause, bindparam, select, text, update

from mediation import clock
from mediation.auth.models import User
from mediation.cases.models import Case, Party
from mediation.extensions import db
from mediation.notify import mail, sms, webhook
from mediation.notify.models import OutboxMessage
from mediation.web.language import force_locale, locale_name

log = logging.getLogger(__name__)

PARTY_LOCALE = "zh_Hans_CN"
# A claimed message is retried after this long if its sender died before recording a result.
CLAIM_LEASE = timedelta(minutes=10)
# A webhook message's subject is its signature header (api.webhooks), sent with its body.
CHANNEL_SENDERS = {"sms": sms, "email": mail, "webhook": webhook}
_suppressed: ContextVar[bool] = ContextVar("notices_suppressed", default=False)


@contextmanager
def suppressed() -> Iterator[None]:
    """Queue nothing inside: for replaying history through the workflow (a ledger import, the
    demo data), where "your case was registered" years later would only mislead."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def _render(text, locale: str) -> str:
    """A lazy string (msgid and its values) in the recipient's language. The language is
    forced only when it is not the current one already: forcing it has Flask-Babel find
    the translations again, on the way in and out."""
    if isinstance(text, str):
        return text
    if locale == locale_name():
        return str(text)
    with force_locale(locale):
        return str(text)


def queue_message(
    channel: str,
    dedupe_key: str,
    body,
    subject="",
    *,
    user: User | None = None,
    party: Party | None = None,
    address: str = "",
    case: Case | None = None,
    centre_id: int | None = None,
    locale: str | None = None,
) -> int | None:
    """Queue one notice; the new row's id, or None when it was queued before or has no way
    to reach its recipient (a party without a phone, or who declined SMS).

    `body` and `subject` are lazy strings, rendered here in the recipient's language. The
    insert skips a taken dedupe key in the database (ON CONFLICT DO NOTHING), so the caller's
    transaction is never broken, also when two processes queue the same notice at once.
    """
    if _suppressed.get():
        return None
    if party is not None and channel == "sms":
        if party.sms_opt_out or not party.phone:
            return None
        address = party.phone
    locale = locale or (PARTY_LOCALE if party is not None else _user_locale())
    now = clock.now()
    state, sent_at = "pending", None
    if channel == "in_app":
        # In-app notices are delivered by being there; the user reads them in the app.
        state, sent_at = "sent", now
    elif not CHANNEL_SENDERS[channel].configured():
        state = "held"
    if case is not None:
        centre_id = centre_id or case.centre_id
    values = {
        "centre_id": centre_id,
        "case_id": case.id if case is not None else None,
        "channel": channel,
        "user_id": user.id if user is not None else None,
        "party_id": party.id if party is not None else None,
        "address": address,
        "locale": locale,
        "subject": _render(subject, locale)[:200],
        "body": _render(body, locale),
        "state": state,
        "attempts": 0,
        "next_attempt_at": now if state == "pending" else None,
        "created_at": now,
        "sent_at": sent_at,
        "dedupe_key": dedupe_key[:120],
        "idempotency_key": uuid.uuid4(),
    }
    return db.session.execute(_insert_statement(tuple(values)), values).scalar_one_or_none()


@cache
def _insert_statement(columns: tuple[str, ...]) -> TextClause:
    """INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, in the syntax SQLite and
    PostgreSQL share, with the columns as typed parameters. As text, and built once: the
    dialects' own ON CONFLICT constructs cannot be cached, so each notice compiled its
    statement again (registration queues one per party)."""
    table = OutboxMessage.__table__
    statement = text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join(f':{name}' for name in columns)}) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
    )
    return statement.bindparams(*(bindparam(name, type_=table.c[name].type) for name in columns))


def _user_locale() -> str:
    # Users have no language of their own: notices are in the deployment's default language.
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@dataclass(frozen=True)
class Outgoing:
    id: int
    channel: str
    address: str
    subject: str
    body: str
    attempts: int
    key: uuid.UUID


def dispatch(now: datetime | None = None, batch: int = 100) -> int:
    """Send every due message, `batch` at a time; the number of messages handled.

    Held messages of a channel whose sender is configured now are due too (SPEC 3.7: nothing
    is lost). Every lease and retry time is taken from the clock when it is set, so a slow
    run never hands out a lease that has run out already. A run stops early when the gateway
    cannot be reached: the rest stays due for the next run. `now` is unused (the job's start).
    """
    handled, started = 0, clock.now()
    _release_held(started)
    while True:
        claimed = _claim(started, batch)
        for position, message in enumerate(claimed):
            if not _deliver(message):
                _release(claimed[position + 1 :])
                return handled + position + 1
        handled += len(claimed)
        if len(claimed) < batch:
            return handled


def _release_held(now: datetime) -> None:
    """Held messages of a channel that can be sent now become due (on ix_outbox_message_due)."""
    channels = [name for name, sender in CHANNEL_SENDERS.items() if sender.configured()]
    if channels:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == "held", OutboxMessage.channel.in_(channels))
            .values(state="pending", next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


def _claim(due_by: datetime, batch: int) -> list[Outgoing]:
    """Take up to `batch` messages due by `due_by` (the run's start: a retry that falls due
    during the run waits for the next one): the UPDATE moves their next try past the lease,
    taken from the clock now, so a second dispatcher running at the same time does not pick
    them too."""
    now = clock.now()
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= due_by)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
    )
    ids = list(db.session.scalars(due))
    if not ids:
        db.session.commit()
        return []
    rows = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.state == "pending",
            OutboxMessage.next_attempt_at <= due_by,
        )
        .values(next_attempt_at=now + CLAIM_LEASE, attempts=OutboxMessage.attempts + 1)
        .returning(
            OutboxMessage.id,
            OutboxMessage.channel,
            OutboxMessage.address,
            OutboxMessage.subject,
            OutboxMessage.body,
            OutboxMessage.attempts,
            OutboxMessage.idempotency_key,
        )
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted((Outgoing(*row) for row in rows), key=lambda message: ids.index(message.id))


def _release(messages: list[Outgoing]) -> None:
    """Give claimed but unsent messages back: due now, the attempt not counted."""
    for message in messages:
        _set(message.id, next_attempt_at=clock.now(), attempts=message.attempts - 1)


def _deliver(message: Outgoing) -> bool:
    """Send one message and record the result; False when the gateway could not be reached
    (the run stops there)."""
    sender = CHANNEL_SENDERS.get(message.channel)
    if sender is None or not sender.configured():
        _set(message.id, state="held", next_attempt_at=None, attempts=message.attempts - 1)
        return True
    try:
        sender.send(message.address, message.body, message.subject, key=message.key)
    except sender.Unreachable as error:
        _failed_attempt(message, str(error))
        return False
    except sender.SendError as error:
        _failed_attempt(message, str(error))
        return True
    except Exception as error:
        # A bad setting (e.g. a gateway address without http://) is this message's failed
        # attempt, never a run that stops with messages leased.
        current_app.logger.exception("outbox message %s could not be sent", message.id)
        _failed_attempt(message, _error_text(error))
        return True
    _set(message.id, state="sent", sent_at=clock.now(), next_attempt_at=None, last_error=None)
    return True


def _error_text(error: Exception) -> str:
    """A short text of an unexpected error: its class and the first line of its message."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _failed_attempt(message: Outgoing, error: str) -> None:
    config, now = current_app.config, clock.now()
    log.warning("outbox message %s, attempt %s: %s", message.id, message.attempts, error)
    if message.attempts >= config["NOTIFY_MAX_ATTEMPTS"]:
        _set(message.id, state="failed", next_attempt_at=None, last_error=error[:2000])
        return
    wait = timedelta(seconds=config["NOTIFY_RETRY_SECONDS"] * 2 ** (message.attempts - 1))
    _set(message.id, next_attempt_at=now + wait, last_error=error[:2000])


def _set(message_id: int, **values) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def requeue(message: OutboxMessage, now: datetime) -> None:
    """Send a held or failed message again, from its first attempt. The caller commits."""
    message.state = "pending"
    message.attempts = 0
    message.next_attempt_at = now
    message.last_error = None

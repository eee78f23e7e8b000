"""Who is told what, and when (SPEC 3.3, 3.7): one function per kind of notice.

The workflow calls these after a move, the scheduled sweeps after a check; each queues its
messages in the caller's transaction under a dedupe key naming what the notice is about, so
calling one twice queues nothing more. Parties get SMS (never their access code), users get
in-app notices.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from flask_babel import get_locale
from flask_babel.speaklater import LazyString
from sqlalchemy import and_, or_, select

from mediation.auth.models import Role, User
from mediation.cases.models import Case, MediationSession, Party
from mediation.cases.states import TRANSFER_REASONS
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.integrity.models import Certificate, Obligation
from mediation.notify.outbox import queue_message
from mediation.web.language import lazy_gettext as _l


def _day(value: date) -> LazyString:
    """A date in the words of whoever reads it, decided when the text is rendered."""
    return LazyString(lambda: babel_format_date(value, "long", locale=get_locale()))


def _moment(value: datetime, timezone: str) -> LazyString:
    local = value.astimezone(ZoneInfo(timezone))

    def render():
        locale = get_locale()
        time = babel_format_time(local, "HH:mm", locale=locale)
        return f"{babel_format_date(local.date(), 'long', locale=locale)} {time}"

    return LazyString(render)


def _text_parties(case: Case, key: str, body, parties: list[Party] | None = None) -> int:
    queued = 0
    for party in parties if parties is not None else case.parties:
        if queue_message("sms", f"{key}:party:{party.id}", body, party=party, case=case):
            queued += 1
    return queued


def _tell_users(case: Case, key: str, users: list[User], subject, body) -> int:
    queued = 0
    for user in users:
        if user.is_active and queue_message(
            "in_app", f"{key}:user:{user.id}", body, subject, user=user, case=case
        ):
            queued += 1
    return queued


def mediator_user(case: Case) -> User | None:
    """The login of the case's mediator, if the mediator has one."""
    if case.mediator is None or case.mediator.user_id is None:
        return None
    return db.session.get(User, case.mediator.user_id)


def centre_staff(centre_id: int) -> list[User]:
    """The active staff of a centre: they hear of every deadline in it."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.centre_id == centre_id, User.role == Role.STAFF, User.is_active)
            .order_by(User.id)
        )
    )


# --- from the workflow -------------------------------------------------------------------------


def case_registered(case: Case, parties: list[Party] | None = None) -> int:
    """Every party (or those given) told that the case is registered."""
    body = _l(
        "%(centre)s: your dispute is registered as case %(number)s. Check its progress on the "
        "case status page with the case number and the access code on your acceptance notice.",
        centre=case.centre.name,
        number=case.number,
    )
    return _text_parties(case, f"registered:{case.id}", body, parties)


def case_assigned(case: Case, event_id: int) -> int:
    """Routing or a change of mediator: the mediator who now has the case is told."""
    user = mediator_user(case)
    if user is None:
        return 0
    subject = _l("Case %(number)s assigned to you", number=case.number)
    body = _l(
        "Case %(number)s has been assigned to you. The mediation deadline is %(deadline)s.",
        number=case.number,
        deadline=_day(case.deadline_on),
    )
    return _tell_users(case, f"assigned:{case.id}:{event_id}", [user], subject, body)


def session_scheduled(case: Case, session: MediationSession) -> int:
    place = _l("online") if session.is_online else session.place
    body = _l(
        "%(centre)s: a mediation session of case %(number)s is scheduled for %(time)s, %(place)s.",
        centre=case.centre.name,
        number=case.number,
        time=_moment(session.held_at, case.centre.timezone),
        place=place,
    )
    return _text_parties(case, f"session:{session.id}", body)


def case_transferred(case: Case) -> int:
    reason = case.transfer.reason
    body = _l(
        "%(centre)s: case %(number)s has been transferred to litigation (%(reason)s). You may "
        "bring your claim before the court.",
        centre=case.centre.name,
        number=case.number,
        reason=TRANSFER_REASONS.get(reason, reason),
    )
    return _text_parties(case, f"transfer:{case.id}", body)


def party_went_to_court(case: Case, party_name: str, recorded_by: User | None) -> int:
    """A party left mediation for court (SPEC 3.9): the mediator, if they have a login, and
    the centre's active staff are told at once, but not whoever recorded it for the party."""
    subject = _l("Case %(number)s: a party went to court", number=case.number)
    body = _l(
        "%(party)s has left mediation for court: mediation of case %(number)s has ended and "
        "the case is transferred to litigation.",
        party=party_name,
        number=case.number,
    )
    mediator_login = case.mediator.user_id if case.mediator is not None else None
    told = db.session.scalars(
        select(User)
        .where(
            User.is_active,
            or_(
                and_(User.centre_id == case.centre_id, User.role == Role.STAFF),
                User.id == mediator_login,
            ),
        )
        .order_by(User.id)
    )
    users = [user for user in told if recorded_by is None or user.id != recorded_by.id]
    return _tell_users(case, f"went_to_court:{case.id}", users, subject, body)


def case_moved(case: Case, event_id: int, move: dict) -> int:
    """A case moved here from another centre (移送): the receiving centre's active staff are
    told in the app; the parties by SMS, with the new number (their access codes stay)."""
    subject = _l(
        "Case %(number)s moved here from %(centre)s", number=case.number, centre=move["from_centre"]
    )
    body = _l(
        "Case %(number)s (formerly %(former)s at %(centre)s) has been moved to your centre: "
        "%(reason)s. It awaits triage here by %(due)s.",
        number=case.number,
        former=move["former_number"],
        centre=move["from_centre"],
        reason=move["reason"],
        due=_day(case.triage_due_on),
    )
    told = _tell_users(
        case, f"moved:{case.id}:{event_id}", centre_staff(case.centre_id), subject, body
    )
    text = _l(
        "%(centre)s: your case %(former)s has been moved to %(centre)s as case %(number)s. "
        "Your access code stays the same.",
        centre=case.centre.name,
        former=move["former_number"],
        number=case.number,
    )
    return told + _text_parties(case, f"moved:{case.id}:{event_id}", text)


def certificate_issued(certificate: Certificate) -> int:
    record = certificate.record
    body = _l(
        "%(centre)s: integrity certificate %(certificate)s has been issued to you for performing "
        "your mediation agreement on time; valid until %(until)s, verification code %(code)s.",
        centre=_centre_name(certificate.centre_id),
        certificate=certificate.number,
        until=_day(certificate.valid_until),
        code=certificate.verification_code,
    )
    case = db.session.get(Case, record.case_id)
    return _text_parties(case, f"certificate:{certificate.id}", body, [record.party])


# --- from the scheduled sweeps -----------------------------------------------------------------


def triage_overdue(case: Case, staff: list[User]) -> int:
    subject = _l("Case %(number)s is waiting for triage", number=case.number)
    body = _l(
        "Case %(number)s has not been routed yet; triage was due on %(due)s.",
        number=case.number,
        due=_day(case.triage_due_on),
    )
    return _tell_users(case, f"triage:{case.id}", staff, subject, body)


def deadline_warning(case: Case, staff: list[User], days_left: int) -> int:
    """To the mediator and the centre's staff, once per deadline (an extension is a new one)."""
    subject = _l("Mediation deadline of case %(number)s is near", number=case.number)
    body = _l(
        "The mediation deadline of case %(number)s is %(deadline)s (%(days)s days left). "
        "Without an agreement or an extension agreed by every party, the case is transferred "
        "to litigation automatically the day after.",
        number=case.number,
        deadline=_day(case.deadline_on),
        days=days_left,
    )
    mediator = mediator_user(case)
    users = [mediator, *(u for u in staff if mediator is None or u.id != mediator.id)]
    users = [u for u in users if u is not None]
    return _tell_users(case, f"warning:{case.id}:{case.deadline_on}", users, subject, body)


def obligation_reminder(obligation: Obligation, case: Case) -> int:
    body = _l(
        "%(centre)s: under the mediation agreement of case %(number)s, “%(obligation)s” is due "
        "on %(due)s. Performing on time earns an integrity certificate.",
        centre=case.centre.name,
        number=case.number,
        obligation=obligation.description,
        due=_day(obligation.due_on),
    )
    key = f"reminder:{obligation.id}:{obligation.due_on}"
    return _text_parties(case, key, body, [obligation.obligor])


def certificate_expired(certificate: Certificate) -> int:
    record = certificate.record
    body = _l(
        "%(centre)s: your integrity certificate %(certificate)s was valid until %(until)s and "
        "has expired.",
        centre=_centre_name(certificate.centre_id),
        certificate=certificate.number,
        until=_day(certificate.valid_until),
    )
    case = db.session.get(Case, record.case_id)
    return _text_parties(case, f"certificate_expired:{certificate.id}", body, [record.party])


def _centre_name(centre_id: int) -> str:
    return db.session.get(Centre, centre_id).name

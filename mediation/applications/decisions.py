"""Online applications (SPEC 8): submitting one, following it with its number and code, and
the centre's decision — accepted (a case registered through the workflow with channel
`online`) or declined with a reason. The caller commits."""

import hmac
import zlib
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from flask import current_app
from sqlalchemy import Row, bindparam, select, text, update

from mediation import clock
from mediation.applications.models import DECLINE_REASONS, Application, SubmittedFile
from mediation.audit import log
from mediation.auth.models import User
from mediation.auth.throttle import Throttle, longest_wait
from mediation.cases import workflow as wf
from mediation.cases.access_codes import (
    carried_over,
    hash_access_code,
    new_access_code,
    normalise_code,
)
from mediation.cases.models import Case
from mediation.database import begin_writing, read
from mediation.directory.calendar import add_working_days, local_date
from mediation.directory.models import Centre
from mediation.documents import dossier, storage
from mediation.extensions import db
from mediation.notify import notices
from mediation.notify.outbox import queue_message, suppressed
from mediation.portal.lookup import (
    KEY_LENGTH,
    LookupThrottled,
    LookupThrottles,
    throttle_client,
)
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l

# Staff decide within this many working days of the centre's calendar.
DECISION_DAYS = 3
MOST_FILES = 5

DECLINE_LABELS = {
    "unsuitable": _l("Not suitable for mediation"),
    "outside_remit": _l("Outside the centre's remit"),
    "duplicate": _l("A duplicate of another application or case"),
    "missing_information": _l("Information is missing"),
}
assert tuple(DECLINE_LABELS) == DECLINE_REASONS


class ApplicationError(Exception):
    """A refusal with a message for the person; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ApplicationThrottled(Exception):
    def __init__(self, wait_seconds: int):
        super().__init__(wait_seconds)
        self.wait_seconds = wait_seconds


@dataclass
class ApplicationData:
    centre: Centre
    parties: list[wf.PartyData]  # the applicant first, then the respondents
    category_code: str
    street: str
    summary: str
    claims: str


@dataclass
class Submitted:
    application: Application
    code: str | None  # shown once; None when the form had been sent before


def _submission_throttles() -> tuple[Throttle, Throttle]:
    """Applications per client and per mobile number in a day (SPEC 8: at most 5 a mobile)."""
    config, day = current_app.config, timedelta(days=1)
    return (
        Throttle("apply-client", config.get("APPLY_MAX_PER_CLIENT", 20), day),
        Throttle("apply-mobile", config.get("APPLY_MAX_PER_MOBILE", 5), day),
    )


def submit_application(
    data: ApplicationData, uploads: list[tuple[BinaryIO, str]], client: str, token: str
) -> Submitted:
    """Store the application, its files and its code's hash. Raises ApplicationThrottled when
    the client or the mobile has applied too often today, ApplicationError (field "files")
    for a file the dossier would not take: then nothing is kept, on disk either."""
    made = _made_by(token)
    if made is not None:
        return Submitted(made, None)
    applicant = data.parties[0]
    by_client, by_mobile = _submission_throttles()
    keyed = [(by_client, client[:KEY_LENGTH]), (by_mobile, applicant.phone)]
    if wait := longest_wait(keyed):
        raise ApplicationThrottled(wait)
    if len(uploads) > MOST_FILES:
        raise ApplicationError(_("Choose at most %(n)d files.", n=MOST_FILES), "files")
    stored: list[storage.StoredContent] = []
    try:
        # The files go to disk before the write lock is taken: a phone's 100 MB must not
        # hold every other writer up.
        for stream, filename in uploads:
            try:
                stored.append(storage.store(stream))
            except storage.UploadRefused as refusal:
                name = storage.clean_filename(filename)
                message = _("%(name)s: %(reason)s", name=name, reason=refusal)
                raise ApplicationError(message, "files") from None
        begin_writing()
        _lock_token(token)
        # Inside the lock, what another request may have written meanwhile.
        made = _made_by(token)
        if made is not None:
            # The other post's files are these same bytes: only what no saved row holds goes.
            dossier.discard_unsaved(stored)
            return Submitted(made, None)
        if wait := longest_wait(keyed):
            raise ApplicationThrottled(wait)
        for content in stored:
            dossier.remember_content(content)
        application = _write_application(data, token)
        code = new_access_code()
        application.code_hash = hash_access_code(application.number, code)
        for content, (_stream, filename) in zip(stored, uploads, strict=True):
            db.session.add(
                SubmittedFile(
                    application_id=application.id,
                    sha256=content.sha256,
                    filename=storage.clean_filename(filename),
                    submitted_at=application.submitted_at,
                )
            )
        for throttle, key in keyed:
            throttle.hit(key)
        db.session.flush()
    except BaseException:
        dossier.discard_unsaved(stored)
        raise
    return Submitted(application, code)


def _made_by(token: str) -> Application | None:
    return db.session.scalar(select(Application).filter_by(submission_token=token))


# The first key of the lock a form's token is looked for under (PostgreSQL), the second its hash.
TOKEN_LOCK = zlib.crc32(b"mediation.application.submission_token") & 0x7FFFFFFF


def _lock_token(token: str) -> None:
    """On PostgreSQL, hold a lock on the form's token until the transaction ends: a double
    click's second post waits here for the first to commit, then finds its application
    (SQLite's write lock, taken by begin_writing, does the same there)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("select pg_advisory_xact_lock(:key, hashtext(:token))"),
            {"key": TOKEN_LOCK, "token": token},
        )


def _write_application(data: ApplicationData, token: str) -> Application:
    centre, at = data.centre, clock.now()
    submitted_on = local_date(at, centre)
    application = Application(
        submission_token=token,
        centre_id=centre.id,
        parties=[vars(party) for party in data.parties],
        phone=data.parties[0].phone,
        category_code=data.category_code,
        street=data.street,
        summary=data.summary,
        claims=data.claims,
        code_hash="",
        submitted_at=at,
        submitted_on=submitted_on,
        due_on=add_working_days(centre.id, submitted_on, DECISION_DAYS),
    )
    db.session.add(application)
    db.session.flush()
    application.number = f"WS{submitted_on:%Y%m%d}{application.id:06d}"
    return application


# --- following an application -----------------------------------------------------------


def look_up_application(number: str, code: str, client: str) -> Row | None:
    """What the applicant's page shows of the application with this number and code (its
    centre's name and its case's number with it); None when the number is unknown or the code
    wrong (both counted as failures, with the portal's throttles: SPEC 8 asks for its rules).
    Raises LookupThrottled."""
    number, client = normalise_code(number)[:KEY_LENGTH], throttle_client(client)
    throttles = LookupThrottles.from_config()
    wait = throttles.state(number, client).wait_seconds
    if wait:
        raise LookupThrottled(wait)
    # The same query and one keyed hash whether or not the number exists.
    digest = hash_access_code(number, code)
    application = read(_APPLICATION_BY_NUMBER, {"number": number}).one_or_none()
    if application is not None and hmac.compare_digest(digest, application.code_hash):
        return application
    # Only a failure writes; the look-up read without holding the write lock.
    begin_writing()
    for throttle, key in throttles.keyed(number, client):
        throttle.hit(key)
    db.session.flush()
    return None


_APPLICATION_BY_NUMBER = (
    select(
        Application.number,
        Application.code_hash,
        Application.state,
        Application.submitted_on,
        Application.category_code,
        Application.due_on,
        Application.decline_reason,
        Application.decline_note,
        Centre.name.label("centre_name"),
        Case.number.label("case_number"),
    )
    .join(Centre, Centre.id == Application.centre_id)
    .outerjoin(Case, Case.id == Application.case_id)
    .where(Application.number == bindparam("number"))
)


# --- the centre's decision -----------------------------------------------------------------


def intake_data_of(application: Application) -> wf.IntakeData:
    return wf.IntakeData(
        channel_code="online",
        category_code=application.category_code,
        parties=[wf.PartyData(**party) for party in application.parties],
        summary=application.summary,
        claims=application.claims,
        street=application.street,
    )


def accept_application(application: Application, user: User) -> wf.Registration:
    """Register the application as a case through the workflow (its data checked again as at
    intake), move its files into the dossier as submitted by the applicant, and make the
    application's code the applicant's access code. The registration's codes are the
    respondents' (the applicant keeps the code it has). Raises WorkflowError or
    ApplicationError (decided meanwhile)."""
    _check_pending(application)
    data = intake_data_of(application)
    wf.check_intake_data(data)
    centre = db.session.get(Centre, application.centre_id)
    # The applicant hears of the case once, below, with how to sign in; the respondents
    # as at intake.
    with suppressed():
        registration = wf.register_case(centre, data, wf.Actor.for_user(user))
    case = registration.case
    applicant = case.parties[0]
    notices.case_registered(case, parties=case.respondents)
    applicant.access_code_hash = carried_over(application.number, application.code_hash)
    applicant.access_code_issued_at = clock.now()
    registration.access_codes.pop(applicant.id, None)
    _decide(application, user, state="accepted", case_id=case.id)
    for submitted in files_of(application):
        attachment = dossier.add_submitted_file(
            case, submitted.sha256, submitted.filename, applicant.id, user
        )
        submitted.state, submitted.case_id, submitted.party_id = "accepted", case.id, applicant.id
        submitted.attachment_id = attachment.id
        submitted.decided_at, submitted.decided_by_id = clock.now(), user.id
    queue_message(
        "sms",
        f"application:{application.id}:accepted",
        _l(
            "%(centre)s: your application %(application)s is accepted as case %(number)s. "
            "Follow it on the case status page with the case number and the code you got "
            "when you applied.",
            centre=centre.name,
            application=application.number,
            number=case.number,
        ),
        party=applicant,
        case=case,
    )
    log.record(
        "application.accept",
        target=application.number,
        centre_id=centre.id,
        actor=user,
        case=case.number,
    )
    db.session.flush()
    return registration


def decline_application(application: Application, reason: str, note: str, user: User) -> None:
    """Decline with one of the SPEC's reasons and a note the applicant reads at /apply/status;
    the applicant is told by SMS."""
    _check_pending(application)
    if reason not in DECLINE_REASONS:
        raise ApplicationError(_("Choose why the application is declined."), "reason")
    if not note.strip():
        raise ApplicationError(_("Write a note for the applicant."), "note")
    _decide(
        application,
        user,
        state="declined",
        decline_reason=reason,
        decline_note=note.strip()[:2000],
    )
    for submitted in files_of(application):
        submitted.state, submitted.decided_at = "rejected", clock.now()
        submitted.decided_by_id = user.id
    centre = db.session.get(Centre, application.centre_id)
    queue_message(
        "sms",
        f"application:{application.id}:declined",
        _l(
            "%(centre)s: your application %(application)s was not accepted (%(reason)s). The "
            "note from the centre is on the application status page.",
            centre=centre.name,
            application=application.number,
            reason=DECLINE_LABELS[reason],
        ),
        address=application.phone,
        centre_id=centre.id,
    )
    log.record(
        "application.decline",
        target=application.number,
        centre_id=centre.id,
        actor=user,
        reason=reason,
    )
    db.session.flush()


def _check_pending(application: Application) -> None:
    if application.state != "pending":
        raise ApplicationError(_("This application has been decided already."))


def _decide(application: Application, user: User, **values) -> None:
    """Mark the application decided, if no one decided it meanwhile (a conditional update:
    two people deciding at once cannot both win)."""
    at = clock.now()
    centre = db.session.get(Centre, application.centre_id)
    result = db.session.execute(
        update(Application)
        .where(Application.id == application.id, Application.state == "pending")
        .values(decided_at=at, decided_on=local_date(at, centre), decided_by_id=user.id, **values)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        raise ApplicationError(_("This application has been decided already."))


def files_of(application: Application) -> list[SubmittedFile]:
    """The application's files, in the order they were chosen."""
    return list(
        db.session.scalars(
            select(SubmittedFile)
            .where(SubmittedFile.application_id == application.id)
            .order_by(SubmittedFile.id)
        )
    )

"""The only code that decides a case's state (SPEC 3.2).

`MOVES` is the table of legal moves. Each move is decided by one `decide_*` function: it
checks the table, the actor's access to the case and the move's guards, and returns a
`Change` — the case's new state and columns, the event's details, the rows written beside
the case and the certificates earned — as plain data, or raises WorkflowError with a message
for the user. Two appliers write a Change: `apply_change`, into the session for one case
(the `*_case` functions below, which views, jobs and the portal call), and
`bulk.BulkWriter`, as batched rows for the ledger import and the demo generator. The
appliers flush; the caller (view, job, CLI, import) commits.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property, partial
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, inspect, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from mediation import clock
from mediation.api import webhooks
from mediation.auth.models import Role, User
from mediation.cases.access import Access, case_with_parties, scope_of
from mediation.cases.access_codes import hash_access_code, new_access_code
from mediation.cases.identity import (
    is_valid_credit_code,
    is_valid_mobile,
    is_valid_resident_id,
    mask_id,
    mask_phone,
)
from mediation.cases.models import (
    Agreement,
    Case,
    CaseEvent,
    Extension,
    FollowUp,
    FormerNumber,
    MediationSession,
    Party,
    Transfer,
)
from mediation.cases.numbering import issue_case_number
from mediation.cases.states import HIGH_RISKS, IN_MEDIATION, OPEN_STATES, RISK_ORDER, State
from mediation.database import begin_writing
from mediation.directory.calendar import WorkingCalendar, add_working_days
from mediation.directory.models import Centre, Mediator, Organization
from mediation.directory.settings import incentive_measures, mediation_periods, settings_for
from mediation.extensions import db
from mediation.integrity.models import Certificate, IntegrityRecord, Obligation
from mediation.integrity.records import CertificateGrant, certificate_for, issue_certificate
from mediation.notify import notices
from mediation.web.language import format_date
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l

STAFF, MEDIATOR, PARTY, SCHEDULER = "staff", "mediator", "party", "scheduler"
# An administrator acts as staff, and besides corrects a case after it concluded (SPEC 3.9).
ADMIN = "admin"
# Entering one of these for the first time concludes a case (SPEC 3.2).
CONCLUSION_STATES = (State.AGREED, State.FULFILLED, State.TRANSFERRED, State.WITHDRAWN)
# The outcome a case concludes with, by the state it concludes in.
OUTCOMES = {
    State.AGREED: "agreed",
    State.FULFILLED: "agreed",
    State.TRANSFERRED: "transferred",
    State.WITHDRAWN: "withdrawn",
}
# Every state a case can be in once concluded: a follow-up visit is possible in each.
AFTER_CONCLUSION = (*CONCLUSION_STATES, State.DEFAULTED)
AFTER_AGREEMENT = (State.AGREED, State.FULFILLED, State.DEFAULTED)


@dataclass(frozen=True)
class Move:
    sources: tuple[State, ...]
    target: State | None  # None: the case stays in its state
    roles: frozenset[str]
    label: object  # what happened, on the timeline
    verb: object  # what to do, on buttons, form titles and refusals


def _move(sources, target, roles, label, verb) -> Move:
    return Move(tuple(sources), target, frozenset(roles), label, verb)


STAFF_ONLY = {STAFF}
MEDIATOR_OR_STAFF = {MEDIATOR, STAFF}
PARTY_OR_STAFF = {PARTY, STAFF}
SCHEDULER_ONLY = {SCHEDULER}
# action: from-states → to-state, by whom. (agree may end in FULFILLED, fulfil in FULFILLED.)
# fmt: off
MOVES: dict[str, Move] = {
    "register": _move((), State.REGISTERED, STAFF_ONLY, _l("Registered"), _l("Register")),
    "route": _move([State.REGISTERED], State.ASSIGNED, STAFF_ONLY, _l("Routed"),
                   _l("Route to a mediator")),
    "divert": _move([State.REGISTERED], State.TRANSFERRED, STAFF_ONLY,
                    _l("Diverted to litigation"), _l("Send to court without mediation")),
    "reassign": _move(IN_MEDIATION, None, STAFF_ONLY, _l("Mediator changed"),
                      _l("Change the mediator")),
    "record_session": _move(IN_MEDIATION, State.MEDIATING, MEDIATOR_OR_STAFF, _l("Session"),
                            _l("Record a session")),
    "extend": _move(IN_MEDIATION, None, MEDIATOR_OR_STAFF, _l("Mediation period extended"),
                    _l("Extend the mediation period")),
    "agree": _move([State.MEDIATING], State.AGREED, MEDIATOR_OR_STAFF, _l("Agreement reached"),
                   _l("Record the agreement")),
    "fail": _move(IN_MEDIATION, State.TRANSFERRED, MEDIATOR_OR_STAFF, _l("Mediation failed"),
                  _l("Close as failed")),
    "request_litigation": _move(OPEN_STATES, State.TRANSFERRED, PARTY_OR_STAFF,
                                _l("Party went to court"), _l("Go to court for a party")),
    "expire": _move(IN_MEDIATION, State.TRANSFERRED, SCHEDULER_ONLY,
                    _l("Mediation period expired"), _l("Expire the mediation period")),
    "withdraw": _move(OPEN_STATES, State.WITHDRAWN, STAFF_ONLY, _l("Withdrawn"), _l("Withdraw")),
    "confirm": _move(AFTER_AGREEMENT, None, STAFF_ONLY, _l("Judicial confirmation"),
                     _l("Record judicial confirmation")),
    "fulfil": _move([State.AGREED, State.DEFAULTED], State.AGREED, PARTY_OR_STAFF,
                    _l("Obligation performed"), _l("Record performance")),
    "default": _move([State.AGREED], State.DEFAULTED, SCHEDULER_ONLY, _l("Performance overdue"),
                     _l("Mark performance overdue")),
    "enforce": _move([State.DEFAULTED], State.TRANSFERRED, STAFF_ONLY,
                     _l("Transferred for enforcement"), _l("Transfer for enforcement")),
    "follow_up": _move(AFTER_CONCLUSION, None, STAFF_ONLY, _l("Follow-up visit"),
                       _l("Record a follow-up visit")),
    "record_filing": _move([State.TRANSFERRED], None, STAFF_ONLY, _l("Court filing recorded"),
                           _l("Record the court's filing number")),
    "new_access_code": _move(tuple(State), None, STAFF_ONLY, _l("Access code regenerated"),
                             _l("Issue a new access code")),
    # Staff until the case concludes, an administrator after (the guard): SPEC 3.9.
    "correct": _move(tuple(State), None, STAFF_ONLY, _l("Case details corrected"),
                     _l("Correct the case details")),
    "complete_transfer": _move([State.TRANSFERRED], None, STAFF_ONLY, _l("Transfer completed"),
                               _l("Complete the court and the record")),
    # To another centre (移送), to be triaged there afresh: SPEC 10, issue 22.
    "move": _move(OPEN_STATES, State.REGISTERED, STAFF_ONLY, _l("Moved to another centre"),
                  _l("Move to another centre")),
}
# fmt: on

# The records a move writes beside the case, by the case's relationship holding them: a case
# has such a record only once its events show one of these moves.
RECORDS_WRITTEN_BY = {
    "sessions": frozenset({"record_session"}),
    "agreement": frozenset({"agree"}),
    "transfer": frozenset({"divert", "fail", "request_litigation", "expire", "enforce"}),
    "follow_ups": frozenset({"follow_up"}),
}


class WorkflowError(Exception):
    """A move the rules refuse; str() is the message for the user, `field` the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class StaleCase(WorkflowError):
    def __init__(self):
        super().__init__(
            _(
                "Someone else changed this case meanwhile. Your input is kept below; check the "
                "case and save again."
            )
        )


@dataclass
class Actor:
    """Who acts: a signed-in user, a party on the portal, the scheduler, a ledger import, or
    an integration client of the API (for its one centre)."""

    kind: str
    user: User | None = None
    party: "PartyFacts | None" = None  # a Party, or the bulk writer's row of one
    name: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    centre_id: int | None = None  # an integration client's centre

    @classmethod
    def for_user(cls, user: User) -> "Actor":
        # A regional administrator reads only: no role of the table, so every action is
        # refused and no page offers one.
        roles = {
            Role.MEDIATOR: {MEDIATOR},
            Role.ADMIN: {STAFF, ADMIN},
            Role.STAFF: {STAFF},
            Role.REGIONAL_ADMIN: set(),
        }[Role(user.role)]
        return cls("user", user=user, name=user.display_name, roles=frozenset(roles))

    @classmethod
    def for_party(cls, party) -> "Actor":
        return cls("party", party=party, name=party.name, roles=frozenset({PARTY}))

    @classmethod
    def api_client(cls, name: str, centre_id: int) -> "Actor":
        """A court's or platform's system: staff's moves of intake and court feedback, on the
        cases of its centre."""
        return cls("api", name=name, roles=frozenset({STAFF}), centre_id=centre_id)

    @classmethod
    def scheduler(cls) -> "Actor":
        return cls("scheduler", name="scheduler", roles=frozenset({SCHEDULER}))

    @classmethod
    def ledger_import(cls, user: User | None = None) -> "Actor":
        return cls(
            "import",
            user=user,
            name=user.display_name if user else "import",
            roles=frozenset({STAFF, MEDIATOR, SCHEDULER}),
        )

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None


# --- what the rules read of a case ----------------------------------------------------------


class PartyFacts(Protocol):
    id: int
    case_id: int
    name: str


class ObligationFacts(Protocol):
    id: int
    case_id: int
    obligor_id: int
    obligee_id: int
    description: str
    due_on: date
    fulfilled_on: date | None
    defaulted_at: datetime | None


class AgreementFacts(Protocol):
    id: int
    signed_on: date
    confirmed_on: date | None
    obligations: Sequence[ObligationFacts]


class GuardedCase(Protocol):
    """What the guards of the buttons read: a Case, the case page's CaseView, or a case the
    bulk writer holds in memory."""

    id: int
    centre_id: int
    state: str
    concluded_at: datetime | None
    extension_days: int
    mediator_user_id: int | None
    agreement: AgreementFacts | None
    transfer: object | None  # with its filing_number


class CaseFacts(GuardedCase, Protocol):
    """What the decisions read besides: a Case, or a case the bulk writer holds."""

    number: str
    version: int
    category_code: str
    registered_on: date
    routed_at: datetime | None
    deadline_on: date | None
    organization_id: int | None
    mediator_id: int | None
    mediator: Mediator | None
    parties: Sequence  # each with id, case_id, role, name, id_number, credit_code


class CentreRules:
    """What a centre's directory tells the workflow: its business dates and working days, its
    mediation periods, settings and incentive measures, each read when first asked."""

    def __init__(self, centre: Centre, calendar: WorkingCalendar | None = None):
        self.centre = centre
        self.zone = ZoneInfo(centre.timezone)
        self.calendar = calendar  # the whole calendar, for many dates; else read as needed

    def local_date(self, at: datetime) -> date:
        """The business date of a moment in the centre's time zone (SPEC 3.3)."""
        return at.astimezone(self.zone).date()

    def add_working_days(self, start: date, days: int) -> date:
        if self.calendar is not None:
            return self.calendar.add_working_days(start, days)
        return add_working_days(self.centre.id, start, days)

    @cached_property
    def settings(self):
        return settings_for(self.centre.id)

    @cached_property
    def periods(self) -> dict[str, int]:
        return mediation_periods(self.centre.id)

    @cached_property
    def measures(self) -> list[str]:
        return incentive_measures(self.centre.id)


# --- what a move writes ---------------------------------------------------------------------


@dataclass
class NewRow:
    """A row a move writes beside the case: its model and columns (not its id), and rows
    belonging to it by the name of its relationship to them (an agreement's obligations)."""

    model: type
    values: dict
    children: dict[str, list["NewRow"]] = field(default_factory=dict)


@dataclass(frozen=True)
class RowUpdate:
    """New values for columns of a row the case has already (an obligation, its agreement)."""

    model: type
    id: int
    values: dict


@dataclass
class Change:
    """What one move writes, as plain data: decided here, written by an applier."""

    action: str
    actor: Actor
    at: datetime
    from_state: str
    to_state: str
    columns: dict = field(default_factory=dict)  # the case's, besides its state
    details: dict = field(default_factory=dict)  # the event's
    rows: list[NewRow] = field(default_factory=list)
    updates: list[RowUpdate] = field(default_factory=list)
    certificates: list[CertificateGrant] = field(default_factory=list)
    handed_to: Mediator | None = None  # the mediator now handling the case

    def event_row(self, case_id: int, centre_id: int) -> dict:
        return {
            "case_id": case_id,
            "centre_id": centre_id,
            "at": self.at,
            "action": self.action,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "actor_id": self.actor.user_id,
            "actor_kind": self.actor.kind,
            "actor_name": self.actor.name,
            "details": stored_details(self.details),
        }


def stored_details(details: dict) -> dict:
    """An event's details as stored: JSON values, empty ones left out."""
    return {key: _stored(value) for key, value in details.items() if value not in (None, "")}


def _stored(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dict):
        return {str(k): _stored(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_stored(v) for v in value]
    return value


# --- access and guards ----------------------------------------------------------------------


def may_access(case: GuardedCase, actor: Actor) -> bool:
    """Whether the actor may see and act on this case at all: a user within their scope
    (access.scope_of), a party on its own case, the scheduler and an import on any."""
    if actor.kind in ("scheduler", "import"):
        return True
    if actor.kind == "party":
        return actor.party is not None and actor.party.case_id == case.id
    if actor.kind == "api":
        return case.centre_id == actor.centre_id
    if actor.user is None:
        return False
    access = scope_of(actor.user).access_to(case.centre_id, case.mediator_user_id)
    return access is Access.GRANTED


def allowed_actions(case: GuardedCase, actor: Actor) -> list[str]:
    """The actions this actor may take on the case now: the buttons a page shows."""
    if not may_access(case, actor):
        return []
    return [
        action
        for action, move in MOVES.items()
        if action != "register"
        and case.state in move.sources
        and move.roles & actor.roles
        and _guard_allows(case, action, actor)
    ]


def _guard_allows(case: GuardedCase, action: str, actor: Actor) -> bool:
    """Guards that depend only on the case and the actor, so pages hide what would be
    refused anyway."""
    if action == "fulfil":
        return case.agreement is not None and any(
            obligation.fulfilled_on is None
            and (actor.kind != "party" or obligation.obligee_id == actor.party.id)
            for obligation in case.agreement.obligations
        )
    if action == "extend":
        settings = settings_for(case.centre_id)
        return settings.extensions_allowed and case.extension_days < settings.extension_max_days
    if action == "confirm":
        return case.agreement is not None and case.agreement.confirmed_on is None
    if action == "follow_up":
        return case.concluded_at is not None
    if action in ("record_filing", "complete_transfer"):
        return case.transfer is not None and not case.transfer.filing_number
    if action == "correct":
        return case.concluded_at is None or ADMIN in actor.roles
    if action == "move":
        return bool(db.session.scalar(_ANOTHER_CENTRE, {"centre_id": case.centre_id}))
    return True


_ANOTHER_CENTRE = select(Centre.id).where(Centre.id != bindparam("centre_id")).limit(1)


def _check(case: CaseFacts, action: str, actor: Actor, expected_version: int | None) -> Move:
    move = MOVES[action]
    if not may_access(case, actor):
        raise WorkflowError(_("You may not act on this case."))
    if not move.roles & actor.roles:
        raise WorkflowError(_("Your role may not do this: %(action)s.", action=move.verb))
    if case.state not in move.sources:
        raise WorkflowError(
            _(
                "“%(action)s” is not possible while the case is “%(state)s”.",
                action=move.verb,
                state=State(case.state).label,
            )
        )
    if expected_version is not None and expected_version != case.version:
        raise StaleCase()
    return move


def _change(
    case: CaseFacts,
    action: str,
    actor: Actor,
    rules: CentreRules,
    at: datetime,
    *,
    target: State | None = None,
    transfer_reason: str | None = None,
    columns: dict | None = None,
    **parts,
) -> Change:
    """The change of a move that passed its checks, with the case's conclusion when it
    enters a concluding state for the first time (it never moves after that)."""
    to_state = target or MOVES[action].target or State(case.state)
    columns = dict(columns or {})
    if to_state in CONCLUSION_STATES and case.concluded_at is None:
        outcome = OUTCOMES[to_state]
        columns |= {
            "concluded_at": at,
            "concluded_on": rules.local_date(at),
            "outcome": outcome,
            "transfer_reason": transfer_reason if outcome == "transferred" else None,
            "concluded_organization_id": case.organization_id,
            "concluded_mediator_id": case.mediator_id,
        }
    return Change(action, actor, at, case.state, to_state.value, columns, **parts)


# Every table a registration and the moves write, parents before children.
WRITTEN_TABLES = (
    Case,
    Party,
    CaseEvent,
    MediationSession,
    Extension,
    Transfer,
    Agreement,
    Obligation,
    FollowUp,
    IntegrityRecord,
    Certificate,
)

# --- the applier for one case ---------------------------------------------------------------

# The case's relationship holding a new row of these models, once written.
ON_THE_CASE = {
    Agreement: "agreement",
    Transfer: "transfer",
    MediationSession: "sessions",
    Extension: "extensions",
    FollowUp: "follow_ups",
}


@dataclass
class Applied:
    """What `apply_change` wrote: the event, each new row by model, the certificates."""

    event: CaseEvent
    rows: dict[type, object]
    certificates: list[Certificate]


def apply_change(case: Case, change: Change) -> Applied:
    """Write a change into the session for one case, and flush. The event carries the centre
    the case was at (a move's: the centre it left)."""
    centre_id = case.centre_id
    case.state = change.to_state
    for name, value in change.columns.items():
        setattr(case, name, value)
    if change.handed_to is not None:
        case.organization, case.mediator = change.handed_to.organization, change.handed_to
    # Every move bumps the version, even one that leaves the row as it was, so that two
    # concurrent moves on one case conflict (e.g. two obligations performed at once).
    flag_modified(case, "state")
    written = {row.model: _add(case, row) for row in change.rows}
    for update in change.updates:
        row = db.session.get(update.model, update.id)
        for name, value in update.values.items():
            setattr(row, name, value)
    event = CaseEvent(**change.event_row(case.id, centre_id))
    db.session.add(event)
    db.session.flush()
    issued = (issue_certificate(grant) for grant in change.certificates)
    return Applied(event, written, [certificate for certificate in issued if certificate])


def _add(case: Case, row: NewRow):
    entity = row.model(**row.values)
    for relationship, children in row.children.items():
        getattr(entity, relationship).extend(child.model(**child.values) for child in children)
    db.session.add(entity)
    key = ON_THE_CASE.get(row.model)
    if key is not None and not inspect(Case).relationships[key].uselist:
        setattr(case, key, entity)
    elif key is not None and key not in inspect(case).unloaded:
        getattr(case, key).append(entity)
    return entity


def act(case: Case, decide: Callable[..., Change], *args, at: datetime | None = None, **options):
    """Decide a move for one case (`decide`, one of the decide_* functions, with the case's
    centre's rules and `at`, now by default) and write it into the session with its
    notices. The `*_case` functions below are this for each move."""
    change = decide(case, *args, CentreRules(case.centre), at=at or clock.now(), **options)
    applied = apply_change(case, change)
    _queue_notices(case, change, applied)
    return applied


def _queue_notices(case: Case, change: Change, applied: Applied) -> None:
    transferred = Transfer in applied.rows
    if transferred or "concluded_at" in change.columns:
        webhooks.queue_case_event(
            case, applied.event.id, change.action, change.at, transferred=transferred
        )
    if change.handed_to is not None:
        notices.case_assigned(case, applied.event.id)
    if Transfer in applied.rows:
        notices.case_transferred(case)
    if change.action == "request_litigation":
        notices.party_went_to_court(case, change.details["party"], change.actor.user)
    session = applied.rows.get(MediationSession)
    if session is not None and session.held_at > change.at:
        notices.session_scheduled(case, session)
    for certificate in applied.certificates:
        notices.certificate_issued(certificate)


# --- intake ---------------------------------------------------------------------------------


@dataclass
class PartyData:
    role: str
    kind: str
    name: str
    id_number: str | None = None
    credit_code: str | None = None
    phone: str | None = None
    address: str = ""


@dataclass
class IntakeData:
    channel_code: str
    category_code: str
    parties: list[PartyData]
    amount: Decimal | None = None
    summary: str = ""
    claims: str = ""
    street: str = ""
    address: str = ""
    people_involved: int = 1
    risk_level: str = "low"
    is_extreme: bool = False


def suggest_risk(amount: Decimal | None, people_involved: int, is_extreme: bool) -> str:
    """SPEC 3.1: ≥ 1,000,000 yuan → at least medium; ≥ 10 people → at least high (a mass
    dispute); an extreme tendency → critical."""
    if is_extreme:
        return "critical"
    if people_involved >= 10:
        return "high"
    if amount is not None and amount >= Decimal("1000000"):
        return "medium"
    return "low"


def _higher_risk(first: str, second: str) -> str:
    return max(first, second, key=RISK_ORDER.index)


@dataclass
class RegistrationPlan:
    """A registration that passed its checks: the new case's columns and its parties' (all
    but the case number and the access codes, which the applier issues) and the event."""

    actor: Actor
    at: datetime
    columns: dict
    parties: list[dict]

    def event(self, number: str) -> "Change":
        """The registration's event, once the case has its number."""
        details = {"number": number, "risk": self.columns["risk_level"]}
        return Change(
            "register", self.actor, self.at, None, State.REGISTERED.value, details=details
        )


def decide_registration(
    rules: CentreRules, data: IntakeData, actor: Actor, *, at: datetime
) -> RegistrationPlan:
    """Check a registration (who may register, the parties a case needs) and work out its
    columns: the risk raised from the facts and never lowered, the triage due date by the
    working-day calendar (SPEC 3.1, 3.3)."""
    centre = rules.centre
    elsewhere = (actor.user and not actor.user.may_see_centre(centre.id)) or (
        actor.kind == "api" and actor.centre_id != centre.id
    )
    if STAFF not in actor.roles or elsewhere:
        raise WorkflowError(
            _("Your role may not do this: %(action)s.", action=MOVES["register"].verb)
        )
    if {party.role for party in data.parties} != {"applicant", "respondent"}:
        raise WorkflowError(_("A case needs at least one applicant and one respondent."), "parties")
    for party in data.parties:
        _check_identity(party)
    risk = _higher_risk(
        suggest_risk(data.amount, data.people_involved, data.is_extreme), data.risk_level
    )
    settings = rules.settings
    triage_days = settings.triage_days_high_risk if risk in HIGH_RISKS else settings.triage_days
    registered_on = rules.local_date(at)
    columns = {
        "centre_id": centre.id,
        "state": State.REGISTERED.value,
        "channel_code": data.channel_code,
        "category_code": data.category_code,
        "amount": data.amount,
        "summary": data.summary,
        "claims": data.claims,
        "street": data.street,
        "address": data.address,
        "people_involved": data.people_involved,
        "risk_level": risk,
        "is_extreme": data.is_extreme,
        "registered_at": at,
        "registered_on": registered_on,
        "received_at": at,
        "received_on": registered_on,
        "registered_by_id": actor.user_id,
        "triage_due_on": rules.add_working_days(registered_on, triage_days),
    }
    parties = [{**vars(party), "position": position} for position, party in enumerate(data.parties)]
    return RegistrationPlan(actor, at, columns, parties)


@dataclass
class Registration:
    case: Case
    access_codes: dict[int, str]  # party id → the code, shown once
    is_repeat: bool = False  # the form was submitted before: `case` is the one it made


def register_case(
    centre: Centre,
    data: IntakeData,
    actor: Actor,
    *,
    at: datetime | None = None,
    intake_token: str | None = None,
) -> Registration:
    """Register a case: its number, the case, its parties each with an access code, the
    event and the notices. A form submitted again (`intake_token` seen before) registers
    nothing and gives the case it made."""
    plan = decide_registration(CentreRules(centre), data, actor, at=at or clock.now())
    # Everything above only read; on SQLite the write lock is taken from here on.
    begin_writing()
    year = plan.columns["registered_on"].year
    seq, number = issue_case_number(centre, year)
    # Looked for only now that the centre's counter row is locked: a double click's second
    # post waited here for the first to commit, and sees its case (the number goes back
    # with the caller's rollback).
    if intake_token:
        made = db.session.scalar(_CASE_BY_INTAKE_TOKEN, {"token": intake_token})
        if made is not None and may_access(made, actor):
            return Registration(made, {}, is_repeat=True)
    return _write_registration(plan, seq, number, intake_token)


def _write_registration(
    plan: RegistrationPlan, seq: int, number: str, intake_token: str | None
) -> Registration:
    """The case, parties and event are inserted as rows, then the case is loaded with its
    parties for the caller (the counter row, or on SQLite the write lock, is held meanwhile)."""
    year = plan.columns["registered_on"].year
    connection = db.session.connection()
    case_row = {**plan.columns, "number": number, "year": year, "seq": seq}
    case_id = connection.execute(
        _INSERT_CASE, {**case_row, "intake_token": intake_token}
    ).scalar_one()
    codes = [new_access_code() for _party in plan.parties]
    party_rows = [
        {
            **party,
            "case_id": case_id,
            "access_code_hash": hash_access_code(number, code),
            "access_code_issued_at": plan.at,
        }
        for party, code in zip(plan.parties, codes, strict=True)
    ]
    party_ids = connection.execute(_INSERT_PARTIES, party_rows).scalars().all()
    connection.execute(_INSERT_EVENT, plan.event(number).event_row(case_id, case_row["centre_id"]))
    case = case_with_parties(case_id)
    notices.case_registered(case)
    return Registration(case, dict(zip(party_ids, codes, strict=True)))


_CASE_BY_INTAKE_TOKEN = select(Case).where(Case.intake_token == bindparam("token"))
_INSERT_CASE = insert(Case.__table__).returning(Case.__table__.c.id)
_INSERT_PARTIES = insert(Party.__table__).returning(
    Party.__table__.c.id, sort_by_parameter_order=True
)
_INSERT_EVENT = insert(CaseEvent.__table__)


def decide_new_access_code(
    case: CaseFacts,
    party,
    code: str,
    actor: Actor,
    *,
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    if party.case_id != case.id:
        raise WorkflowError(_("That party does not belong to this case."), "party")
    _check(case, "new_access_code", actor, expected_version)
    columns = {"access_code_hash": hash_access_code(case.number, code), "access_code_issued_at": at}
    return Change(
        "new_access_code",
        actor,
        at,
        case.state,
        case.state,
        details={"party": party.name},
        updates=[RowUpdate(Party, party.id, columns)],
    )


def regenerate_access_code(
    case: Case, party: Party, actor: Actor, *, expected_version: int | None = None
) -> str:
    """A new code for one party, shown once; the old one stops working at once."""
    code = new_access_code()
    change = decide_new_access_code(
        case, party, code, actor, at=clock.now(), expected_version=expected_version
    )
    apply_change(case, change)
    return code


# --- triage ---------------------------------------------------------------------------------


def _check_mediator(case: CaseFacts, organization: Organization, mediator: Mediator) -> None:
    if organization.centre_id != case.centre_id or not organization.is_active:
        raise WorkflowError(_("Choose an active organisation of this centre."), "organization")
    if mediator.organization_id != organization.id:
        raise WorkflowError(_("The mediator does not belong to that organisation."), "mediator")
    if not mediator.is_active:
        raise WorkflowError(_("That mediator is not active."), "mediator")


def _handing_to(mediator: Mediator) -> dict:
    return {"organization_id": mediator.organization_id, "mediator_id": mediator.id}


def decide_route(
    case: CaseFacts,
    organization: Organization,
    mediator: Mediator,
    actor: Actor,
    rules: CentreRules,
    *,
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """Route to a mediator of an organisation: the deadline is the routing date plus the
    category's mediation period (SPEC 3.3). A case moved here after it was first routed
    keeps the deadline it had (see `decide_move`)."""
    _check(case, "route", actor, expected_version)
    _check_mediator(case, organization, mediator)
    routed_on = rules.local_date(at)
    deadline_on = case.deadline_on or routed_on + timedelta(days=rules.periods[case.category_code])
    return _change(
        case,
        "route",
        actor,
        rules,
        at,
        columns={
            **_handing_to(mediator),
            "routed_at": at,
            "routed_on": routed_on,
            "deadline_on": deadline_on,
        },
        handed_to=mediator,
        details={
            "organization": organization.name,
            "mediator": mediator.name,
            "deadline_on": deadline_on,
        },
    )


def route_case(
    case: Case, organization: Organization, mediator: Mediator, actor: Actor, **options
) -> CaseEvent:
    return act(case, decide_route, organization, mediator, actor, **options).event


def decide_reassign(
    case: CaseFacts,
    mediator: Mediator,
    reason: str,
    actor: Actor,
    rules: CentreRules,
    *,
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """Another mediator takes the case over; its deadline does not change."""
    _check(case, "reassign", actor, expected_version)
    organization = mediator.organization
    _check_mediator(case, organization, mediator)
    if mediator.id == case.mediator_id:
        raise WorkflowError(_("The case is already with this mediator."), "mediator")
    _require_change_reason(reason)
    return _change(
        case,
        "reassign",
        actor,
        rules,
        at,
        columns=_handing_to(mediator),
        handed_to=mediator,
        details={
            "previous": case.mediator.name if case.mediator else "",
            "mediator": mediator.name,
            "organization": organization.name,
            "reason": reason.strip(),
        },
    )


def _require_change_reason(reason: str) -> None:
    if not reason.strip():
        raise WorkflowError(_("Give the reason for the change."), "reason")


def reassign_case(
    case: Case, mediator: Mediator, reason: str, actor: Actor, **options
) -> CaseEvent:
    return act(case, decide_reassign, mediator, reason, actor, **options).event


# --- transfers to litigation ----------------------------------------------------------------


def _decide_transfer(
    case: CaseFacts,
    action: str,
    reason: str,
    actor: Actor,
    rules: CentreRules,
    at: datetime,
    expected_version: int | None,
    *,
    court: str = "",
    undisputed_facts: str = "",
    documents: str = "",
    require_court: bool = True,
    **details,
) -> Change:
    _check(case, action, actor, expected_version)
    if require_court and not court.strip():
        raise WorkflowError(_("Name the court the case goes to."), "court")
    transfer = NewRow(
        Transfer,
        {
            "case_id": case.id,
            "reason": reason,
            "court": court.strip(),
            "undisputed_facts": undisputed_facts.strip(),
            "documents": documents.strip(),
            "transferred_on": rules.local_date(at),
        },
    )
    return _change(
        case,
        action,
        actor,
        rules,
        at,
        transfer_reason=reason,
        rows=[transfer],
        details={"reason": reason, "court": court.strip(), **details},
    )


def decide_divert(
    case: CaseFacts,
    reason: str,
    court: str,
    actor: Actor,
    rules: CentreRules,
    *,
    note: str = "",
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """To court without mediation: not suitable, or the respondent refused."""
    if reason not in ("unsuitable", "respondent_refused"):
        raise WorkflowError(_("Choose why the case goes to court."), "reason")
    return _decide_transfer(
        case,
        "divert",
        reason,
        actor,
        rules,
        at,
        expected_version,
        court=court,
        undisputed_facts=note,
    )


def divert_case(case: Case, reason: str, court: str, actor: Actor, **options) -> CaseEvent:
    return act(case, decide_divert, reason, court, actor, **options).event


def decide_fail(
    case: CaseFacts,
    court: str,
    undisputed_facts: str,
    actor: Actor,
    rules: CentreRules,
    *,
    documents: str = "",
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """Mediation failed: to court with the record of undisputed facts."""
    if not undisputed_facts.strip():
        raise WorkflowError(_("Record the undisputed facts for the court."), "undisputed_facts")
    return _decide_transfer(
        case,
        "fail",
        "failed",
        actor,
        rules,
        at,
        expected_version,
        court=court,
        undisputed_facts=undisputed_facts,
        documents=documents,
    )


def fail_case(case: Case, court: str, undisputed_facts: str, actor: Actor, **options) -> CaseEvent:
    return act(case, decide_fail, court, undisputed_facts, actor, **options).event


def decide_request_litigation(
    case: CaseFacts,
    actor: Actor,
    rules: CentreRules,
    *,
    court: str = "",
    note: str = "",
    on_behalf_of=None,
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """A party leaves mediation for court: no approval step, it takes effect at once. Staff
    may record it for a party (`on_behalf_of`), who asked at the counter or by phone."""
    if actor.kind != "party" and on_behalf_of is None:
        raise WorkflowError(_("Choose the party who asks to go to court."), "party")
    if on_behalf_of is not None and on_behalf_of.case_id != case.id:
        raise WorkflowError(_("That party does not belong to this case."), "party")
    party = actor.party if actor.kind == "party" else on_behalf_of
    return _decide_transfer(
        case,
        "request_litigation",
        "party_request",
        actor,
        rules,
        at,
        expected_version,
        court=court,
        require_court=False,
        party=party.name,
        note=note.strip(),
    )


def request_litigation(case: Case, actor: Actor, **options) -> CaseEvent:
    return act(case, decide_request_litigation, actor, **options).event


def decide_expire(case: CaseFacts, actor: Actor, rules: CentreRules, *, at: datetime) -> Change:
    """The day after the mediation deadline the case goes to court by itself (SPEC 3.3)."""
    _check(case, "expire", actor, None)
    if case.deadline_on is None or rules.local_date(at) <= case.deadline_on:
        raise WorkflowError(_("The mediation period has not run out yet."))
    return _decide_transfer(
        case, "expire", "deadline_expired", actor, rules, at, None, require_court=False
    )


def expire_case(case: Case, actor: Actor, **options) -> CaseEvent:
    return act(case, decide_expire, actor, **options).event


def decide_enforce(
    case: CaseFacts,
    court: str,
    actor: Actor,
    rules: CentreRules,
    *,
    note: str = "",
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    return _decide_transfer(
        case,
        "enforce",
        "enforcement",
        actor,
        rules,
        at,
        expected_version,
        court=court,
        undisputed_facts=note,
    )


def enforce_agreement(case: Case, court: str, actor: Actor, **options) -> CaseEvent:
    return act(case, decide_enforce, court, actor, **options).event


# --- mediation ------------------------------------------------------------------------------


def decide_withdraw(
    case: CaseFacts,
    reason: str,
    actor: Actor,
    rules: CentreRules,
    *,
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    if not reason.strip():
        raise WorkflowError(_("Give the applicant's reason for withdrawing."), "reason")
    _check(case, "withdraw", actor, expected_version)
    return _change(case, "withdraw", actor, rules, at, details={"reason": reason.strip()})


def withdraw_case(case: Case, reason: str, actor: Actor, **options) -> CaseEvent:
    return act(case, decide_withdraw, reason, actor, **options).event


def decide_record_session(
    case: CaseFacts,
    held_at: datetime,
    actor: Actor,
    rules: CentreRules,
    *,
    place: str = "",
    is_online: bool = False,
    attendance: str = "",
    minutes: str = "",
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    _check(case, "record_session", actor, expected_version)
    if not is_online and not place.strip():
        raise WorkflowError(_("Give the place, or mark the session as online."), "place")
    if rules.local_date(held_at) < case.registered_on:
        raise WorkflowError(
            _(
                "The session cannot be before the case was registered (%(date)s).",
                date=format_date(case.registered_on, "long"),
            ),
            "held_at",
        )
    if case.routed_at and held_at < case.routed_at - timedelta(days=1):
        raise WorkflowError(_("The session cannot be before the case was routed."), "held_at")
    # A session still to come is an appointment (the parties are told); one held has its record.
    if held_at <= at:
        if not attendance.strip():
            raise WorkflowError(_("Record who attended the session."), "attendance")
        if not minutes.strip():
            raise WorkflowError(_("Write the minutes of the session."), "minutes")
    session = NewRow(
        MediationSession,
        {
            "case_id": case.id,
            "held_at": held_at,
            "place": place.strip(),
            "is_online": is_online,
            "attendance": attendance.strip(),
            "minutes": minutes.strip(),
            "recorded_by_id": actor.user_id,
            "recorded_at": at,
        },
    )
    return _change(
        case,
        "record_session",
        actor,
        rules,
        at,
        rows=[session],
        details={"held_at": held_at, "place": place.strip() or None, "online": is_online or None},
    )


def record_session(case: Case, held_at: datetime, actor: Actor, **options) -> MediationSession:
    return act(case, decide_record_session, held_at, actor, **options).rows[MediationSession]


def decide_extend(
    case: CaseFacts,
    days: int,
    consents: dict[int, str],
    actor: Actor,
    rules: CentreRules,
    *,
    reason: str = "",
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """More days for mediation, with every party's consent recorded (by party id), within the
    centre's allowance (SPEC 3.3)."""
    _check(case, "extend", actor, expected_version)
    settings = rules.settings
    if not settings.extensions_allowed:
        raise WorkflowError(_("This centre does not allow extensions."), "days")
    remaining = settings.extension_max_days - case.extension_days
    if remaining < 1:
        raise WorkflowError(
            _(
                "No extension is left: the %(n)d days allowed have all been used.",
                n=settings.extension_max_days,
            ),
            "days",
        )
    if days < 1 or days > remaining:
        raise WorkflowError(
            _("The extension must be between 1 and %(n)d days.", n=remaining), "days"
        )
    missing = [p.name for p in case.parties if not (consents.get(p.id) or "").strip()]
    if missing:
        raise WorkflowError(
            _(
                "Every party must consent to an extension; missing: %(names)s.",
                names="、".join(missing),
            ),
            "consents",
        )
    deadline_on = case.deadline_on + timedelta(days=days)
    extension = NewRow(
        Extension,
        {
            "case_id": case.id,
            "days": days,
            "reason": reason.strip(),
            "previous_deadline_on": case.deadline_on,
            "deadline_on": deadline_on,
            "consents": {str(k): v.strip() for k, v in consents.items()},
            "at": at,
        },
    )
    return _change(
        case,
        "extend",
        actor,
        rules,
        at,
        # A new deadline deserves a new warning.
        columns={
            "deadline_on": deadline_on,
            "extension_days": case.extension_days + days,
            "warned_at": None,
        },
        rows=[extension],
        details={"days": days, "deadline_on": deadline_on, "reason": reason.strip()},
    )


def extend_deadline(
    case: Case, days: int, consents: dict[int, str], actor: Actor, **options
) -> Extension:
    return act(case, decide_extend, days, consents, actor, **options).rows[Extension]


@dataclass
class ObligationData:
    obligor_id: int
    obligee_id: int
    description: str
    due_on: date
    amount: Decimal | None = None


def decide_agree(
    case: CaseFacts,
    signed_on: date,
    terms: str,
    obligations: list[ObligationData],
    actor: Actor,
    rules: CentreRules,
    *,
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """The agreement with its obligations; a case with none is performed at once."""
    _check(case, "agree", actor, expected_version)
    if signed_on > rules.local_date(at) or signed_on < case.registered_on:
        raise WorkflowError(
            _("The signing date must be between registration and today."), "signed_on"
        )
    if not terms.strip():
        raise WorkflowError(_("Write down the terms of the agreement."), "terms")
    party_ids = {p.id for p in case.parties}
    for item in obligations:
        if item.obligor_id not in party_ids or item.obligee_id not in party_ids:
            raise WorkflowError(
                _("Obligor and obligee must be parties of this case."), "obligations"
            )
        if item.obligor_id == item.obligee_id:
            raise WorkflowError(_("A party cannot owe an obligation to itself."), "obligations")
        if item.due_on < signed_on:
            raise WorkflowError(_("A due date cannot be before the signing date."), "obligations")
        if not item.description.strip():
            raise WorkflowError(_("Say what each obligation is."), "obligations")
    owed = [
        NewRow(
            Obligation,
            {
                "case_id": case.id,
                "centre_id": case.centre_id,
                "obligor_id": item.obligor_id,
                "obligee_id": item.obligee_id,
                "description": item.description.strip(),
                "amount": item.amount,
                "due_on": item.due_on,
            },
        )
        for item in obligations
    ]
    agreement = NewRow(
        Agreement,
        {
            "case_id": case.id,
            "centre_id": case.centre_id,
            "signed_on": signed_on,
            "terms": terms.strip(),
        },
        children={"obligations": owed},
    )
    return _change(
        case,
        "agree",
        actor,
        rules,
        at,
        target=State.AGREED if obligations else State.FULFILLED,
        rows=[agreement],
        columns={"agreed_amount": _total_amount(obligations)},
        details={"signed_on": signed_on, "obligations": len(obligations)},
    )


def _total_amount(obligations: list[ObligationData]) -> Decimal | None:
    """The obligations' amounts added up, as SQL's sum: None when none has an amount."""
    amounts = [item.amount for item in obligations if item.amount is not None]
    return sum(amounts, Decimal(0)) if amounts else None


def agree_case(
    case: Case,
    signed_on: date,
    terms: str,
    obligations: list[ObligationData],
    actor: Actor,
    **options,
) -> Agreement:
    return act(case, decide_agree, signed_on, terms, obligations, actor, **options).rows[Agreement]


# --- after the agreement --------------------------------------------------------------------


def decide_confirm(
    case: CaseFacts,
    court: str,
    ruling: str,
    confirmed_on: date,
    actor: Actor,
    rules: CentreRules,
    *,
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """Judicial confirmation (司法确认) of the agreement."""
    _check(case, "confirm", actor, expected_version)
    agreement = case.agreement
    if agreement is None or agreement.confirmed_on is not None:
        raise WorkflowError(_("This agreement has no confirmation to record."))
    if not court.strip() or not ruling.strip():
        raise WorkflowError(_("Give the court and the ruling number."), "court")
    if confirmed_on < agreement.signed_on or confirmed_on > rules.local_date(at):
        raise WorkflowError(
            _("The confirmation date must be between signing and today."), "confirmed_on"
        )
    confirmation = {
        "confirmation_court": court.strip(),
        "confirmation_ruling": ruling.strip(),
        "confirmed_on": confirmed_on,
    }
    return _change(
        case,
        "confirm",
        actor,
        rules,
        at,
        updates=[RowUpdate(Agreement, agreement.id, confirmation)],
        details={"court": court.strip(), "ruling": ruling.strip(), "confirmed_on": confirmed_on},
    )


def confirm_agreement(
    case: Case, court: str, ruling: str, confirmed_on: date, actor: Actor, **options
) -> CaseEvent:
    return act(case, decide_confirm, court, ruling, confirmed_on, actor, **options).event


def decide_fulfil(
    case: CaseFacts,
    obligation: ObligationFacts,
    performed_on: date,
    actor: Actor,
    rules: CentreRules,
    *,
    is_voluntary: bool | None = None,
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """A performance: staff say whether the obligor performed of its own accord
    (`is_voluntary`); an obligee confirming on the portal does not know, so it stays None.
    The last obligation performed makes the case performed; the obligor's last one, all on
    time, earns it a certificate (SPEC 3.4)."""
    _check(case, "fulfil", actor, expected_version)
    if obligation.case_id != case.id:
        raise WorkflowError(_("That obligation does not belong to this case."), "obligation")
    if actor.kind == "party" and obligation.obligee_id != actor.party.id:
        raise WorkflowError(_("Only the obligee can confirm this performance."), "obligation")
    if obligation.fulfilled_on is not None:
        raise WorkflowError(_("This obligation is already recorded as performed."), "obligation")
    if performed_on < case.agreement.signed_on or performed_on > rules.local_date(at):
        raise WorkflowError(
            _("The date performed must be between signing and today."), "performed_on"
        )
    remaining = [
        o for o in case.agreement.obligations if o.fulfilled_on is None and o.id != obligation.id
    ]
    grant = certificate_for(
        case, obligation, performed_on, rules.centre, rules.measures, at, rules.local_date(at)
    )
    return _change(
        case,
        "fulfil",
        actor,
        rules,
        at,
        target=State.AGREED if remaining else State.FULFILLED,
        updates=[
            RowUpdate(
                Obligation,
                obligation.id,
                {"fulfilled_on": performed_on, "is_voluntary": is_voluntary},
            )
        ],
        certificates=[grant] if grant else [],
        details={
            "obligation": obligation.description,
            "performed_on": performed_on,
            "on_time": performed_on <= obligation.due_on,
            "voluntary": is_voluntary,
        },
    )


def fulfil_obligation(
    case: Case, obligation: Obligation, performed_on: date, actor: Actor, **options
) -> CaseEvent:
    return act(case, decide_fulfil, obligation, performed_on, actor, **options).event


def decide_default(case: CaseFacts, actor: Actor, rules: CentreRules, *, at: datetime) -> Change:
    """An obligation past its due date and unmet: performance is overdue (SPEC 3.3)."""
    _check(case, "default", actor, None)
    today = rules.local_date(at)
    overdue = [o for o in case.agreement.obligations if o.fulfilled_on is None and o.due_on < today]
    if not overdue:
        raise WorkflowError(_("No obligation of this case is overdue."))
    return _change(
        case,
        "default",
        actor,
        rules,
        at,
        updates=[
            RowUpdate(Obligation, o.id, {"defaulted_at": o.defaulted_at or at}) for o in overdue
        ],
        details={"obligations": [o.description for o in overdue]},
    )


def default_case(case: Case, actor: Actor, **options) -> CaseEvent:
    return act(case, decide_default, actor, **options).event


def decide_follow_up(
    case: CaseFacts,
    is_satisfied: bool,
    note: str,
    actor: Actor,
    rules: CentreRules,
    *,
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """A follow-up visit (回访) after the case concluded."""
    _check(case, "follow_up", actor, expected_version)
    if case.concluded_at is None:
        raise WorkflowError(_("A follow-up visit comes after the case has concluded."))
    visit = NewRow(
        FollowUp,
        {
            "case_id": case.id,
            "centre_id": case.centre_id,
            "visited_on": rules.local_date(at),
            "is_satisfied": is_satisfied,
            "note": note.strip(),
            "recorded_by_id": actor.user_id,
            "recorded_at": at,
        },
    )
    return _change(
        case,
        "follow_up",
        actor,
        rules,
        at,
        rows=[visit],
        details={"satisfied": is_satisfied, "note": note.strip()},
    )


def record_follow_up(
    case: Case, is_satisfied: bool, note: str, actor: Actor, **options
) -> FollowUp:
    return act(case, decide_follow_up, is_satisfied, note, actor, **options).rows[FollowUp]


def decide_court_filing(
    case: CaseFacts,
    filing_number: str,
    actor: Actor,
    rules: CentreRules,
    *,
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """The court's own filing number of a transferred case (its feedback)."""
    _check(case, "record_filing", actor, expected_version)
    if not _guard_allows(case, "record_filing", actor):
        raise WorkflowError(_("The court's filing number is recorded already."))
    if not filing_number.strip():
        raise WorkflowError(_("Give the court's filing number."), "filing_number")
    filing = {"filing_number": filing_number.strip()}
    return _change(
        case,
        "record_filing",
        actor,
        rules,
        at,
        updates=[RowUpdate(Transfer, case.transfer.id, filing)],
        details=filing,
    )


def record_court_filing(case: Case, filing_number: str, actor: Actor, **options) -> CaseEvent:
    return act(case, decide_court_filing, filing_number, actor, **options).event


# --- corrections and completions (SPEC 3.9) ------------------------------------------------

# What a correction may change, the case's columns and each party's, in the order the event
# lists them.
CORRECTED_CASE_COLUMNS = (
    "channel_code",
    "category_code",
    "amount",
    "people_involved",
    "is_extreme",
    "risk_level",
    "street",
    "address",
    "summary",
    "claims",
)
CORRECTED_PARTY_COLUMNS = ("kind", "name", "id_number", "credit_code", "phone", "address")
# Shown masked in an event, as everywhere but the edit form.
MASKS = {"id_number": mask_id, "credit_code": mask_id, "phone": mask_phone}


def _changed(field: str, old, new, **about) -> dict:
    """One line of a correction's event: the field, its old and new value (masked)."""
    mask = MASKS.get(field)
    if mask is not None:
        old, new = mask(old), mask(new)
    return {**about, "field": field, "old": old, "new": new}


def _check_identity(party: PartyData) -> None:
    """The checks of intake again (SPEC 3.1): a name, and checksums of what is given."""
    if not party.name.strip():
        raise WorkflowError(_("Give the party's name."), "parties")
    if party.id_number and (party.kind != "person" or not is_valid_resident_id(party.id_number)):
        raise WorkflowError(
            _("%(name)s: the resident ID number is not valid.", name=party.name), "parties"
        )
    if party.credit_code and (
        party.kind != "organization" or not is_valid_credit_code(party.credit_code)
    ):
        raise WorkflowError(
            _("%(name)s: the unified social credit code is not valid.", name=party.name),
            "parties",
        )
    if party.phone and not is_valid_mobile(party.phone):
        raise WorkflowError(
            _("%(name)s: the mobile number is not valid.", name=party.name), "parties"
        )


def _corrected_risk(case: CaseFacts, data: IntakeData, rules: CentreRules) -> dict:
    """The risk columns after a correction: raised, never lowered, and at least what the
    corrected facts suggest; fixed once the case has concluded (SPEC 3.1, 3.9)."""
    if case.concluded_at is not None:
        if (data.risk_level, data.is_extreme) != (case.risk_level, case.is_extreme):
            raise WorkflowError(
                _("The risk cannot change once the case has concluded."), "risk_level"
            )
        return {}
    if RISK_ORDER.index(data.risk_level) < RISK_ORDER.index(case.risk_level):
        raise WorkflowError(_("The risk can be raised, not lowered."), "risk_level")
    suggested = suggest_risk(data.amount, data.people_involved, data.is_extreme)
    risk = _higher_risk(suggested, data.risk_level)
    columns = {"risk_level": risk, "is_extreme": data.is_extreme}
    if case.state == State.REGISTERED and risk in HIGH_RISKS:
        # A high risk is routed sooner (SPEC 3.3): the earlier triage date, never a later one.
        due_on = rules.add_working_days(case.registered_on, rules.settings.triage_days_high_risk)
        columns["triage_due_on"] = min(due_on, case.triage_due_on)
    return columns


def decide_correct(
    case: CaseFacts,
    data: IntakeData,
    actor: Actor,
    rules: CentreRules,
    *,
    records: Sequence = (),
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """A correction of the intake data: `data` as the case and its parties should read, the
    parties in the case's order. Staff correct until the case concludes, an administrator
    after; the event lists each field changed, old and new, IDs and phones masked. The
    parties' `records` (integrity records, each with its certificate or None) follow a
    corrected identity, so that a party's profile finds them under its true ID number."""
    _check(case, "correct", actor, expected_version)
    if not _guard_allows(case, "correct", actor):
        raise WorkflowError(_("Only an administrator may correct a case that has concluded."))
    if [p.role for p in data.parties] != [p.role for p in case.parties]:
        raise StaleCase()
    check_intake_data(data)
    columns, changes = _case_corrections(case, data, rules)
    updates = []
    for party, new in zip(case.parties, data.parties, strict=True):
        values = {
            name: getattr(new, name)
            for name in CORRECTED_PARTY_COLUMNS
            if (getattr(new, name) or None) != (getattr(party, name) or None)
        }
        if values:
            updates += [
                RowUpdate(Party, party.id, values),
                *_records_following(party, new, records),
            ]
            about = {"party": new.name, "role": party.role, "kind": new.kind}
            changes += [
                _changed(name, getattr(party, name), values[name], **about) for name in values
            ]
    if not changes:
        raise WorkflowError(_("Nothing differs from what is recorded: there is nothing to save."))
    details = {"changes": changes}
    return _change(
        case, "correct", actor, rules, at, columns=columns, updates=updates, details=details
    )


def intake_data_of(case: CaseFacts) -> IntakeData:
    """The case's intake data as it stands: what a correction starts from."""
    parties = [
        PartyData(**{name: getattr(party, name) for name in ("role", *CORRECTED_PARTY_COLUMNS)})
        for party in case.parties
    ]
    columns = {name: getattr(case, name) for name in CORRECTED_CASE_COLUMNS}
    return IntakeData(parties=parties, **columns)


def is_in_yuan(amount: Decimal) -> bool:
    """Yuan and fen: 12.34, not 12.345 (SPEC 3.1)."""
    return amount.is_finite() and amount.normalize().as_tuple().exponent >= -2


def check_intake_data(data: IntakeData) -> None:
    """What intake checks, checked again: by a correction (SPEC 3.9) and when an online
    application is accepted (SPEC 8)."""
    for party in data.parties:
        _check_identity(party)
    if data.amount is not None and (not is_in_yuan(data.amount) or data.amount < 0):
        raise WorkflowError(_("Give the amount in yuan with at most two decimals."), "amount")
    if data.people_involved < 1:
        raise WorkflowError(_("At least one person is involved."), "people_involved")
    if not data.summary.strip():
        raise WorkflowError(_("Write a summary of the dispute."), "summary")


def _case_corrections(case: CaseFacts, data: IntakeData, rules: CentreRules):
    """The case's columns a correction changes, and the event's lines for them."""
    wanted = {name: getattr(data, name) for name in CORRECTED_CASE_COLUMNS}
    wanted |= _corrected_risk(case, data, rules)
    columns = {name: value for name, value in wanted.items() if value != getattr(case, name)}
    changes = [
        _changed(name, getattr(case, name), value)
        for name, value in columns.items()
        if name in CORRECTED_CASE_COLUMNS
    ]
    return columns, changes


def _records_following(party, new: PartyData, records: Sequence) -> list[RowUpdate]:
    """The integrity records of a corrected party carry its identity and, on their
    certificates, its name."""
    updates = []
    identity = new.id_number or new.credit_code or None
    for record in records:
        if record.party_id != party.id:
            continue
        if identity != record.identity_key:
            updates.append(RowUpdate(IntegrityRecord, record.id, {"identity_key": identity}))
        certificate = record.certificate
        if certificate is not None and certificate.holder_name != new.name:
            updates.append(RowUpdate(Certificate, certificate.id, {"holder_name": new.name}))
    return updates


def correct_case(case: Case, data: IntakeData, actor: Actor, **options) -> CaseEvent:
    records = db.session.scalars(
        select(IntegrityRecord)
        .where(IntegrityRecord.case_id == case.id)
        .options(selectinload(IntegrityRecord.certificate))
    ).all()
    return act(case, decide_correct, data, actor, records=records, **options).event


def decide_complete_transfer(
    case: CaseFacts,
    court: str,
    undisputed_facts: str,
    actor: Actor,
    rules: CentreRules,
    *,
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """The court and the record of undisputed facts of a transfer, added or put right
    afterwards (a party's exit and an expiry have neither at first), until the court's filing
    number is recorded (SPEC 3.9). The event lists what changed."""
    _check(case, "complete_transfer", actor, expected_version)
    transfer = case.transfer
    if transfer is None or transfer.filing_number:
        raise WorkflowError(
            _("The court has recorded its filing number: the transfer can no longer change.")
        )
    court, undisputed_facts = court.strip(), undisputed_facts.strip()
    if not court:
        raise WorkflowError(_("Name the court the case goes to."), "court")
    if transfer.reason == "failed" and not undisputed_facts:
        raise WorkflowError(_("Record the undisputed facts for the court."), "undisputed_facts")
    values = {
        name: value
        for name, value in (("court", court), ("undisputed_facts", undisputed_facts))
        if value != getattr(transfer, name)
    }
    if not values:
        raise WorkflowError(_("Nothing differs from what is recorded: there is nothing to save."))
    return _change(
        case,
        "complete_transfer",
        actor,
        rules,
        at,
        updates=[RowUpdate(Transfer, transfer.id, values)],
        details={"changes": [_changed(k, getattr(transfer, k), v) for k, v in values.items()]},
    )


def complete_transfer(
    case: Case, court: str, undisputed_facts: str, actor: Actor, **options
) -> CaseEvent:
    return act(case, decide_complete_transfer, court, undisputed_facts, actor, **options).event


# --- moving a case to another centre (移送) ---------------------------------------------------


def decide_move(
    case: CaseFacts,
    to_centre: Centre | None,
    reason: str,
    actor: Actor,
    rules: CentreRules,
    *,
    at: datetime,
    expected_version: int | None = None,
) -> Change:
    """A case registered at the wrong centre goes to another (SPEC 10), before it concludes,
    by the staff or an administrator of its centre. It keeps its parties, access codes,
    history and files; its organisation and mediator were the old centre's, so it is
    triaged afresh at the new centre (registered, due by that centre's working days). Its
    mediation deadline, once set, stays: it is the parties' assurance of when mediation
    ends (SPEC 1, 3.3), which a centre's mistake must not lengthen; only the parties'
    consent can (an extension). The new number is issued by `move_case`."""
    _check(case, "move", actor, expected_version)
    if to_centre is None or to_centre.id == case.centre_id:
        raise WorkflowError(_("Choose another centre to move the case to."), "centre")
    if not reason.strip():
        raise WorkflowError(_("Give the reason for the move."), "reason")
    receiving = CentreRules(to_centre)
    received_on = receiving.local_date(at)
    settings = receiving.settings
    triage_days = (
        settings.triage_days_high_risk if case.risk_level in HIGH_RISKS else settings.triage_days
    )
    columns = {
        "centre_id": to_centre.id,
        "organization_id": None,
        "mediator_id": None,
        "routed_at": None,
        "routed_on": None,
        "received_at": at,
        "received_on": received_on,
        "triage_due_on": receiving.add_working_days(received_on, triage_days),
        "triage_warned_at": None,
    }
    details = {
        "from_centre": rules.centre.name,
        "to_centre": to_centre.name,
        "former_number": case.number,
        "previous": case.mediator.name if case.mediator else None,
        "deadline_on": case.deadline_on,
        "reason": reason.strip(),
    }
    return _change(case, "move", actor, rules, at, columns=columns, details=details)


def move_case(
    case: Case,
    to_centre: Centre | None,
    reason: str,
    actor: Actor,
    *,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> CaseEvent:
    """Move a case to another centre: a number from that centre's sequence (its counter row
    locked as at registration, so the two never issue one number twice), the old number
    kept as a former number that still finds the case, the event, and the notices: the
    receiving centre's staff in the app, the parties by SMS with the new number."""
    at = at or clock.now()
    rules = CentreRules(case.centre)
    change = decide_move(
        case, to_centre, reason, actor, rules, at=at, expected_version=expected_version
    )
    if case.ledger_ref and db.session.scalar(
        select(Case.id).where(Case.centre_id == to_centre.id, Case.ledger_ref == case.ledger_ref)
    ):
        raise WorkflowError(
            _(
                "The other centre has a case with the same ledger number (%(ref)s): it may be "
                "this dispute already. Check with that centre before moving the case.",
                ref=case.ledger_ref,
            )
        )
    begin_writing()
    # The case's row locked (PostgreSQL) and its version read again: a double click's second
    # post waits here for the first to commit and is told the case changed, before it writes
    # the former number the first one wrote (SQLite's write lock, just taken, does the same).
    written = db.session.scalar(select(Case.version).where(Case.id == case.id).with_for_update())
    if written != case.version:
        raise StaleCase()
    year = change.columns["received_on"].year
    seq, number = issue_case_number(to_centre, year)
    former = NewRow(
        FormerNumber,
        {
            "case_id": case.id,
            "centre_id": case.centre_id,
            "number": case.number,
            "year": case.year,
            "seq": case.seq,
            "moved_at": at,
            "to_centre_id": to_centre.id,
        },
    )
    change.columns |= {"year": year, "seq": seq, "number": number}
    change.details["number"] = number
    change.rows.append(former)
    applied = apply_change(case, change)
    # The columns changed under the relationships: read them again from the new ones.
    db.session.expire(case, ["centre", "organization", "mediator"])
    notices.case_moved(case, applied.event.id, change.details)
    return applied.event


# --- many cases at once ---------------------------------------------------------------------


def route_cases(
    cases: Sequence[Case], organization: Organization, mediator: Mediator, actor: Actor
) -> list[str]:
    """Route many cases to one mediator: the refusals, one line per case (none: all routed).
    The caller rolls back on any refusal: all or nothing."""
    route = partial(route_case, organization=organization, mediator=mediator, actor=actor)
    return _for_each_case(cases, route)


def reassign_cases(
    cases: Sequence[Case], mediator: Mediator, reason: str, actor: Actor
) -> list[str]:
    """Hand many cases to another mediator, as `route_cases`; a missing reason is said once,
    not once per case."""
    try:
        _require_change_reason(reason)
    except WorkflowError as error:
        return [str(error)]
    move = partial(reassign_case, mediator=mediator, reason=reason.strip(), actor=actor)
    return _for_each_case(cases, move)


def _for_each_case(cases: Sequence[Case], move) -> list[str]:
    refusals = []
    for case in cases:
        try:
            move(case)
        except WorkflowError as error:
            refusals.append(_("%(number)s: %(reason)s", number=case.number, reason=str(error)))
    return refusals

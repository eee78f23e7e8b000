"""The only code that changes a case's state (SPEC 3.2).

`MOVES` is the table of legal moves. Each operation below checks the table, the actor's right
to the case and the action's own guards, applies the change with its milestone dates, and
writes one immutable CaseEvent. It flushes; the caller (view, job, CLI, import) commits.
Anything not allowed raises WorkflowError with a message for the user.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm.attributes import flag_modified

from mediation import clock
from mediation.auth.models import Role, User
from mediation.cases.access_codes import hash_access_code, new_access_code
from mediation.cases.models import (
    Agreement,
    Case,
    CaseEvent,
    Extension,
    FollowUp,
    MediationSession,
    Party,
    Transfer,
)
from mediation.cases.numbering import issue_case_number
from mediation.cases.states import (
    HIGH_RISKS,
    IN_MEDIATION,
    OPEN_STATES,
    RISK_ORDER,
    State,
)
from mediation.database import with_children
from mediation.directory.calendar import add_working_days, local_date
from mediation.directory.models import Centre, Mediator, Organization
from mediation.directory.settings import mediation_days, settings_for
from mediation.extensions import db
from mediation.integrity.models import Obligation
from mediation.integrity.records import issue_for_performance
from mediation.notify import notices

STAFF, MEDIATOR, PARTY, SCHEDULER = "staff", "mediator", "party", "scheduler"
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


@dataclass(frozen=True)
class Move:
    sources: tuple[State, ...]
    target: State | None  # None: the case stays in its state
    roles: frozenset[str]
    label: object  # what happened, on the timeline
    verb: object  # what to do, on buttons, form titles and refusals


def _move(sources, target, roles, label, verb) -> Move:
    return Move(tuple(sources), target, frozenset(roles), label, verb)


S, M, P, J = {STAFF}, {MEDIATOR, STAFF}, {PARTY, STAFF}, {SCHEDULER}
AFTER_AGREEMENT = (State.AGREED, State.FULFILLED, State.DEFAULTED)
# action: from-states → to-state, by whom. (agree may end in FULFILLED, fulfil in FULFILLED.)
# fmt: off
MOVES: dict[str, Move] = {
    "register": _move((), State.REGISTERED, S, _l("Registered"), _l("Register")),
    "route": _move([State.REGISTERED], State.ASSIGNED, S, _l("Routed"),
                   _l("Route to a mediator")),
    "divert": _move([State.REGISTERED], State.TRANSFERRED, S, _l("Diverted to litigation"),
                    _l("Send to court without mediation")),
    "reassign": _move(IN_MEDIATION, None, S, _l("Mediator changed"), _l("Change the mediator")),
    "record_session": _move(IN_MEDIATION, State.MEDIATING, M, _l("Session"),
                            _l("Record a session")),
    "extend": _move(IN_MEDIATION, None, M, _l("Mediation period extended"),
                    _l("Extend the mediation period")),
    "agree": _move([State.MEDIATING], State.AGREED, M, _l("Agreement reached"),
                   _l("Record the agreement")),
    "fail": _move(IN_MEDIATION, State.TRANSFERRED, M, _l("Mediation failed"),
                  _l("Close as failed")),
    "request_litigation": _move(OPEN_STATES, State.TRANSFERRED, P, _l("Party went to court"),
                                _l("Go to court for a party")),
    "expire": _move(IN_MEDIATION, State.TRANSFERRED, J, _l("Mediation period expired"),
                    _l("Expire the mediation period")),
    "withdraw": _move(OPEN_STATES, State.WITHDRAWN, S, _l("Withdrawn"), _l("Withdraw")),
    "confirm": _move(AFTER_AGREEMENT, None, S, _l("Judicial confirmation"),
                     _l("Record judicial confirmation")),
    "fulfil": _move([State.AGREED, State.DEFAULTED], State.AGREED, P, _l("Obligation performed"),
                    _l("Record performance")),
    "default": _move([State.AGREED], State.DEFAULTED, J, _l("Performance overdue"),
                     _l("Mark performance overdue")),
    "enforce": _move([State.DEFAULTED], State.TRANSFERRED, S, _l("Transferred for enforcement"),
                     _l("Transfer for enforcement")),
    "follow_up": _move(AFTER_CONCLUSION, None, S, _l("Follow-up visit"),
                       _l("Record a follow-up visit")),
    "record_filing": _move([State.TRANSFERRED], None, S, _l("Court filing recorded"),
                           _l("Record the court's filing number")),
    "new_access_code": _move(tuple(State), None, S, _l("Access code regenerated"),
                             _l("Issue a new access code")),
}
# fmt: on

# The records a move writes beside the case, by the case's relationship holding them: a case
# has such a record only once its events show one of these moves (the case page reads
# only what exists).
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
    """Who acts: a signed-in user, a party on the portal, the scheduler, or a ledger import."""

    kind: str
    user: User | None = None
    party: Party | None = None
    name: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_user(cls, user: User) -> "Actor":
        role = MEDIATOR if user.role == Role.MEDIATOR else STAFF
        return cls("user", user=user, name=user.display_name, roles=frozenset({role}))

    @classmethod
    def for_party(cls, party: Party) -> "Actor":
        return cls("party", party=party, name=party.name, roles=frozenset({PARTY}))

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


def may_access(case: Case, actor: Actor) -> bool:
    """Whether the actor may see and act on this case at all (centre and assignment)."""
    if actor.kind in ("scheduler", "import"):
        return True
    if actor.kind == "party":
        return actor.party is not None and actor.party.case_id == case.id
    user = actor.user
    if user is None or not user.may_see_centre(case.centre_id):
        return False
    if user.role == Role.MEDIATOR:
        return case.mediator_user_id == user.id
    return True


def allowed_actions(case: Case, actor: Actor) -> list[str]:
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


def _guard_allows(case: Case, action: str, actor: Actor) -> bool:
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
    if action == "record_filing":
        return case.transfer is not None and not case.transfer.filing_number
    return True


def _check(case: Case, action: str, actor: Actor, expected_version: int | None) -> Move:
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
                state=case.state_enum.label,
            )
        )
    if expected_version is not None and expected_version != case.version:
        raise StaleCase()
    return move


def _record(
    case: Case, action: str, actor: Actor, from_state: str | None, at: datetime, **details
) -> CaseEvent:
    event = CaseEvent(**_event_row(case, action, actor, from_state, at, **details))
    db.session.add(event)
    db.session.flush()
    return event


def _event_row(
    case: Case, action: str, actor: Actor, from_state: str | None, at: datetime, **details
) -> dict:
    return {
        "case_id": case.id,
        "at": at,
        "action": action,
        "from_state": from_state,
        "to_state": case.state,
        "actor_id": actor.user.id if actor.user else None,
        "actor_kind": actor.kind,
        "actor_name": actor.name,
        "details": event_details(details),
    }


def event_details(details: dict) -> dict:
    """An event's details as stored: JSON values, empty ones left out."""

    def convert(value):
        if isinstance(value, date | datetime):
            return value.isoformat()
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        if isinstance(value, dict):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [convert(v) for v in value]
        return value

    return {key: convert(value) for key, value in details.items() if value not in (None, "")}


def _apply(
    case: Case,
    action: str,
    actor: Actor,
    at: datetime | None,
    expected_version: int | None,
    target: State | None = None,
    **details,
) -> CaseEvent:
    move = _check(case, action, actor, expected_version)
    at = at or clock.now()
    from_state = case.state
    new_state = target or move.target
    if new_state is not None:
        case.state = new_state.value
    # Every action bumps the version, even one that leaves the row as it was, so that two
    # concurrent actions on one case conflict (e.g. two obligations performed at once).
    flag_modified(case, "state")
    if new_state in CONCLUSION_STATES and case.concluded_at is None:
        _conclude(case, at)
    return _record(case, action, actor, from_state, at, **details)


def _conclude(case: Case, at: datetime) -> None:
    """The first entry into agreed, fulfilled, transferred or withdrawn; it never moves."""
    # Everything is computed before anything is set: a lazy load in between would autoflush
    # a half-concluded row into the database's conclusion constraint.
    concluded_on = local_date(at, case.centre)
    outcome = OUTCOMES[case.state_enum]
    reason = case.transfer.reason if outcome == "transferred" else None
    case.concluded_at, case.concluded_on, case.outcome = at, concluded_on, outcome
    case.transfer_reason = reason
    case.concluded_organization_id = case.organization_id
    case.concluded_mediator_id = case.mediator_id


def _today(case: Case, at: datetime | None) -> date:
    return local_date(at or clock.now(), case.centre)


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
class Registration:
    case: Case
    access_codes: dict[int, str]  # party id → the code, shown once


def check_registration(centre: Centre, data: IntakeData, actor: Actor) -> None:
    """Who may register a case in the centre, and the parties a case needs."""
    if STAFF not in actor.roles or (actor.user and not actor.user.may_see_centre(centre.id)):
        raise WorkflowError(
            _("Your role may not do this: %(action)s.", action=MOVES["register"].verb)
        )
    roles = {party.role for party in data.parties}
    if roles != {"applicant", "respondent"}:
        raise WorkflowError(_("A case needs at least one applicant and one respondent."), "parties")


def intake_columns(data: IntakeData, settings) -> tuple[dict, int]:
    """The case's columns from its intake, with the risk raised from the facts and never
    lowered, and the working days it has until triage (SPEC 3.1, 3.3)."""
    risk = _higher_risk(
        suggest_risk(data.amount, data.people_involved, data.is_extreme), data.risk_level
    )
    triage_days = settings.triage_days_high_risk if risk in HIGH_RISKS else settings.triage_days
    columns = {
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
    }
    return columns, triage_days


@dataclass
class RegistrationPlan:
    """What a registration writes that reading alone decides: the checks passed, the case's
    columns, and its dates. A view plans before it takes the write lock."""

    centre: Centre
    data: IntakeData
    actor: Actor
    columns: dict


def plan_registration(
    centre: Centre, data: IntakeData, actor: Actor, at: datetime | None = None
) -> RegistrationPlan:
    """Check a registration and work out its case's columns (risk, dates, triage due);
    raises WorkflowError when it may not be made."""
    check_registration(centre, data, actor)
    at = at or clock.now()
    registered_on = local_date(at, centre)
    columns, triage_days = intake_columns(data, settings_for(centre.id))
    columns |= {
        "registered_at": at,
        "registered_on": registered_on,
        "triage_due_on": add_working_days(centre.id, registered_on, triage_days),
    }
    return RegistrationPlan(centre, data, actor, columns)


def register_case(
    centre: Centre,
    data: IntakeData,
    actor: Actor,
    at: datetime | None = None,
    intake_token: str | None = None,
) -> Registration:
    return write_registration(plan_registration(centre, data, actor, at), intake_token)


def write_registration(plan: RegistrationPlan, intake_token: str | None = None) -> Registration:
    """Register a planned case: its number, the case, its parties with their access codes,
    the event and the parties' notices. The case, parties and event are inserted as rows,
    then the case is loaded for the caller: the unit of work's flush of a new case with its
    parties cost three times their inserts, and on SQLite all of it holds the write lock."""
    centre, actor, at = plan.centre, plan.actor, plan.columns["registered_at"]
    year = plan.columns["registered_on"].year
    seq, number = issue_case_number(centre, year)
    connection = db.session.connection()
    case_row = {
        **plan.columns,
        "centre_id": centre.id,
        "number": number,
        "year": year,
        "seq": seq,
        "state": State.REGISTERED.value,
        "registered_by_id": actor.user.id if actor.user else None,
        "intake_token": intake_token,
    }
    case_id = connection.execute(_INSERT_CASE, case_row).scalar_one()
    codes = [new_access_code() for _party in plan.data.parties]
    party_rows = [
        {
            **item.__dict__,
            "case_id": case_id,
            "position": position,
            "access_code_hash": hash_access_code(number, code),
            "access_code_issued_at": at,
        }
        for position, (item, code) in enumerate(zip(plan.data.parties, codes, strict=True))
    ]
    party_ids = connection.execute(_INSERT_PARTIES, party_rows).scalars().all()
    case = case_with_parties(case_id)
    connection.execute(
        _INSERT_EVENT,
        _event_row(case, "register", actor, None, at, number=number, risk=case.risk_level),
    )
    notices.case_registered(case)
    return Registration(case, dict(zip(party_ids, codes, strict=True)))


def case_with_parties(case_id: int) -> Case | None:
    """The case with its parties loaded, in one statement (built once: building it, or a
    lazy load's, cost more than running it)."""
    return with_children(_CASE_AND_PARTIES, {"case_id": case_id}, "parties")


_CASE_AND_PARTIES = (
    select(Case, Party)
    .outerjoin(Party, Party.case_id == Case.id)
    .where(Case.id == bindparam("case_id"))
    .order_by(Party.position)
)
_INSERT_CASE = insert(Case.__table__).returning(Case.__table__.c.id)
_INSERT_PARTIES = insert(Party.__table__).returning(
    Party.__table__.c.id, sort_by_parameter_order=True
)
_INSERT_EVENT = insert(CaseEvent.__table__)


def _issue_access_code(case: Case, party: Party, at: datetime) -> str:
    code = new_access_code()
    party.access_code_hash = hash_access_code(case.number, code)
    party.access_code_issued_at = at
    return code


def regenerate_access_code(
    case: Case, party: Party, actor: Actor, expected_version: int | None = None
) -> str:
    """A new code for one party; the old one stops working at once."""
    if party.case_id != case.id:
        raise WorkflowError(_("That party does not belong to this case."), "party")
    at = clock.now()
    _apply(case, "new_access_code", actor, at, expected_version, party=party.name)
    return _issue_access_code(case, party, at)


# --- triage ---------------------------------------------------------------------------------


def _check_mediator(case: Case, organization: Organization, mediator: Mediator) -> None:
    if organization.centre_id != case.centre_id or not organization.is_active:
        raise WorkflowError(_("Choose an active organisation of this centre."), "organization")
    if mediator.organization_id != organization.id:
        raise WorkflowError(_("The mediator does not belong to that organisation."), "mediator")
    if not mediator.is_active:
        raise WorkflowError(_("That mediator is not active."), "mediator")


def _hand_to(case: Case, mediator: Mediator) -> None:
    """The mediator and their organisation now handle the case."""
    case.organization_id, case.mediator_id = mediator.organization_id, mediator.id
    case.organization, case.mediator = mediator.organization, mediator


def route_case(
    case: Case,
    organization: Organization,
    mediator: Mediator,
    actor: Actor,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> CaseEvent:
    _check(case, "route", actor, expected_version)
    _check_mediator(case, organization, mediator)
    at = at or clock.now()
    _hand_to(case, mediator)
    case.routed_at = at
    case.routed_on = local_date(at, case.centre)
    case.deadline_on = case.routed_on + timedelta(
        days=mediation_days(case.centre_id, case.category_code)
    )
    event = _apply(
        case,
        "route",
        actor,
        at,
        None,
        organization=organization.name,
        mediator=mediator.name,
        deadline_on=case.deadline_on,
    )
    notices.case_assigned(case, event.id)
    return event


def reassign_case(
    case: Case,
    mediator: Mediator,
    reason: str,
    actor: Actor,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> CaseEvent:
    _check(case, "reassign", actor, expected_version)
    organization = mediator.organization
    _check_mediator(case, organization, mediator)
    if mediator.id == case.mediator_id:
        raise WorkflowError(_("The case is already with this mediator."), "mediator")
    if not reason.strip():
        raise WorkflowError(_("Give the reason for the change."), "reason")
    previous = case.mediator.name if case.mediator else ""
    _hand_to(case, mediator)
    event = _apply(
        case,
        "reassign",
        actor,
        at,
        None,
        previous=previous,
        mediator=mediator.name,
        organization=organization.name,
        reason=reason.strip(),
    )
    notices.case_assigned(case, event.id)
    return event


def divert_case(
    case: Case,
    reason: str,
    court: str,
    actor: Actor,
    note: str = "",
    at: datetime | None = None,
    expected_version: int | None = None,
) -> CaseEvent:
    if reason not in ("unsuitable", "respondent_refused"):
        raise WorkflowError(_("Choose why the case goes to court."), "reason")
    return _transfer(
        case, "divert", reason, actor, at, expected_version, court=court, undisputed_facts=note
    )


# --- mediation ------------------------------------------------------------------------------


def record_session(
    case: Case,
    held_at: datetime,
    actor: Actor,
    place: str = "",
    is_online: bool = False,
    attendance: str = "",
    minutes: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> MediationSession:
    _check(case, "record_session", actor, expected_version)
    if not is_online and not place.strip():
        raise WorkflowError(_("Give the place, or mark the session as online."), "place")
    if case.routed_at and held_at < case.routed_at - timedelta(days=1):
        raise WorkflowError(_("The session cannot be before the case was routed."), "held_at")
    session = MediationSession(
        case_id=case.id,
        held_at=held_at,
        place=place.strip(),
        is_online=is_online,
        attendance=attendance.strip(),
        minutes=minutes.strip(),
        recorded_by_id=actor.user.id if actor.user else None,
        recorded_at=at or clock.now(),
    )
    db.session.add(session)
    event = _apply(
        case,
        "record_session",
        actor,
        at,
        None,
        held_at=held_at,
        place=place.strip() or None,
        online=is_online or None,
    )
    if held_at > event.at:
        notices.session_scheduled(case, session)
    return session


def extend_deadline(
    case: Case,
    days: int,
    consents: dict[int, str],
    actor: Actor,
    reason: str = "",
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Extension:
    _check(case, "extend", actor, expected_version)
    settings = settings_for(case.centre_id)
    if not settings.extensions_allowed:
        raise WorkflowError(_("This centre does not allow extensions."), "days")
    remaining = settings.extension_max_days - case.extension_days
    if days < 1 or days > remaining:
        raise WorkflowError(
            _("The extension must be between 1 and %(n)d days.", n=max(remaining, 0)), "days"
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
    previous = case.deadline_on
    case.deadline_on = previous + timedelta(days=days)
    case.extension_days += days
    # A new deadline deserves a new warning.
    case.warned_at = None
    extension = Extension(
        case_id=case.id,
        days=days,
        reason=reason.strip(),
        previous_deadline_on=previous,
        deadline_on=case.deadline_on,
        consents={str(k): v.strip() for k, v in consents.items()},
        at=at or clock.now(),
    )
    db.session.add(extension)
    _apply(
        case,
        "extend",
        actor,
        at,
        None,
        days=days,
        deadline_on=case.deadline_on,
        reason=reason.strip(),
    )
    return extension


@dataclass
class ObligationData:
    obligor_id: int
    obligee_id: int
    description: str
    due_on: date
    amount: Decimal | None = None


def agree_case(
    case: Case,
    signed_on: date,
    terms: str,
    obligations: list[ObligationData],
    actor: Actor,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Agreement:
    _check(case, "agree", actor, expected_version)
    if signed_on > _today(case, at) or signed_on < case.registered_on:
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
    agreement = Agreement(case_id=case.id, signed_on=signed_on, terms=terms.strip())
    db.session.add(agreement)
    db.session.flush()
    for item in obligations:
        agreement.obligations.append(
            Obligation(
                case_id=case.id,
                obligor_id=item.obligor_id,
                obligee_id=item.obligee_id,
                description=item.description.strip(),
                amount=item.amount,
                due_on=item.due_on,
            )
        )
    case.agreement = agreement
    target = State.AGREED if obligations else State.FULFILLED
    _apply(
        case,
        "agree",
        actor,
        at,
        None,
        target=target,
        signed_on=signed_on,
        obligations=len(obligations),
    )
    return agreement


def fail_case(
    case: Case,
    court: str,
    undisputed_facts: str,
    actor: Actor,
    documents: str = "",
    at: datetime | None = None,
    expected_version: int | None = None,
) -> CaseEvent:
    if not undisputed_facts.strip():
        raise WorkflowError(_("Record the undisputed facts for the court."), "undisputed_facts")
    return _transfer(
        case,
        "fail",
        "failed",
        actor,
        at,
        expected_version,
        court=court,
        undisputed_facts=undisputed_facts,
        documents=documents,
    )


def request_litigation(
    case: Case,
    actor: Actor,
    court: str = "",
    note: str = "",
    at: datetime | None = None,
    expected_version: int | None = None,
    on_behalf_of: Party | None = None,
) -> CaseEvent:
    """A party leaves mediation for court: no approval step, it takes effect at once. Staff
    may record it for a party (`on_behalf_of`), who asked at the counter or by phone."""
    if actor.kind != "party" and on_behalf_of is None:
        raise WorkflowError(_("Choose the party who asks to go to court."), "party")
    if on_behalf_of is not None and on_behalf_of.case_id != case.id:
        raise WorkflowError(_("That party does not belong to this case."), "party")
    party = actor.party if actor.kind == "party" else on_behalf_of
    return _transfer(
        case,
        "request_litigation",
        "party_request",
        actor,
        at,
        expected_version,
        court=court,
        require_court=False,
        party=party.name,
        note=note.strip(),
    )


def expire_case(case: Case, actor: Actor, at: datetime | None = None) -> CaseEvent:
    _check(case, "expire", actor, None)
    if case.deadline_on is None or _today(case, at) <= case.deadline_on:
        raise WorkflowError(_("The mediation period has not run out yet."))
    return _transfer(case, "expire", "deadline_expired", actor, at, None, require_court=False)


def withdraw_case(
    case: Case,
    reason: str,
    actor: Actor,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> CaseEvent:
    if not reason.strip():
        raise WorkflowError(_("Give the applicant's reason for withdrawing."), "reason")
    return _apply(case, "withdraw", actor, at, expected_version, reason=reason.strip())


def _transfer(
    case: Case,
    action: str,
    reason: str,
    actor: Actor,
    at: datetime | None,
    expected_version: int | None,
    court: str = "",
    undisputed_facts: str = "",
    documents: str = "",
    require_court: bool = True,
    **details,
) -> CaseEvent:
    _check(case, action, actor, expected_version)
    if require_court and not court.strip():
        raise WorkflowError(_("Name the court the case goes to."), "court")
    transfer = Transfer(
        case_id=case.id,
        reason=reason,
        court=court.strip(),
        undisputed_facts=undisputed_facts.strip(),
        documents=documents.strip(),
        transferred_on=_today(case, at),
    )
    db.session.add(transfer)
    case.transfer = transfer
    event = _apply(case, action, actor, at, None, reason=reason, court=court.strip(), **details)
    notices.case_transferred(case)
    return event


# --- after the agreement --------------------------------------------------------------------


def confirm_agreement(
    case: Case,
    court: str,
    ruling: str,
    confirmed_on: date,
    actor: Actor,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> CaseEvent:
    _check(case, "confirm", actor, expected_version)
    agreement = case.agreement
    if agreement is None or agreement.confirmed_on is not None:
        raise WorkflowError(_("This agreement has no confirmation to record."))
    if not court.strip() or not ruling.strip():
        raise WorkflowError(_("Give the court and the ruling number."), "court")
    if confirmed_on < agreement.signed_on or confirmed_on > _today(case, at):
        raise WorkflowError(
            _("The confirmation date must be between signing and today."), "confirmed_on"
        )
    agreement.confirmation_court = court.strip()
    agreement.confirmation_ruling = ruling.strip()
    agreement.confirmed_on = confirmed_on
    return _apply(
        case,
        "confirm",
        actor,
        at,
        None,
        court=court.strip(),
        ruling=ruling.strip(),
        confirmed_on=confirmed_on,
    )


def fulfil_obligation(
    case: Case,
    obligation: Obligation,
    performed_on: date,
    actor: Actor,
    at: datetime | None = None,
    expected_version: int | None = None,
    is_voluntary: bool | None = None,
) -> CaseEvent:
    """Record a performance: staff say whether the obligor performed of its own accord
    (`is_voluntary`); an obligee confirming on the portal does not know, so it stays None."""
    _check(case, "fulfil", actor, expected_version)
    if obligation.case_id != case.id:
        raise WorkflowError(_("That obligation does not belong to this case."), "obligation")
    if actor.kind == "party" and obligation.obligee_id != actor.party.id:
        raise WorkflowError(_("Only the obligee can confirm this performance."), "obligation")
    if obligation.fulfilled_on is not None:
        raise WorkflowError(_("This obligation is already recorded as performed."), "obligation")
    signed_on = case.agreement.signed_on
    if performed_on < signed_on or performed_on > _today(case, at):
        raise WorkflowError(
            _("The date performed must be between signing and today."), "performed_on"
        )
    obligation.fulfilled_on = performed_on
    obligation.is_voluntary = is_voluntary
    remaining = [o for o in case.agreement.obligations if o.fulfilled_on is None]
    target = State.FULFILLED if not remaining else State.AGREED
    event = _apply(
        case,
        "fulfil",
        actor,
        at,
        None,
        target=target,
        obligation=obligation.description,
        performed_on=performed_on,
        on_time=performed_on <= obligation.due_on,
        voluntary=is_voluntary,
    )
    # The obligor's certificate, if this was the last of its obligations, all on time.
    for certificate in issue_for_performance(case, obligation, event.at):
        notices.certificate_issued(certificate)
    return event


def default_case(case: Case, actor: Actor, at: datetime | None = None) -> CaseEvent:
    _check(case, "default", actor, None)
    today = _today(case, at)
    overdue = [o for o in case.agreement.obligations if o.fulfilled_on is None and o.due_on < today]
    if not overdue:
        raise WorkflowError(_("No obligation of this case is overdue."))
    for obligation in overdue:
        obligation.defaulted_at = obligation.defaulted_at or at or clock.now()
    return _apply(case, "default", actor, at, None, obligations=[o.description for o in overdue])


def enforce_agreement(
    case: Case,
    court: str,
    actor: Actor,
    note: str = "",
    at: datetime | None = None,
    expected_version: int | None = None,
) -> CaseEvent:
    return _transfer(
        case,
        "enforce",
        "enforcement",
        actor,
        at,
        expected_version,
        court=court,
        undisputed_facts=note,
    )


def record_follow_up(
    case: Case,
    is_satisfied: bool,
    note: str,
    actor: Actor,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> FollowUp:
    _check(case, "follow_up", actor, expected_version)
    if case.concluded_at is None:
        raise WorkflowError(_("A follow-up visit comes after the case has concluded."))
    at = at or clock.now()
    follow_up = FollowUp(
        case_id=case.id,
        visited_on=_today(case, at),
        is_satisfied=is_satisfied,
        note=note.strip(),
        recorded_by_id=actor.user.id if actor.user else None,
        recorded_at=at,
    )
    db.session.add(follow_up)
    _apply(case, "follow_up", actor, at, None, satisfied=is_satisfied, note=note.strip())
    return follow_up


def record_court_filing(
    case: Case,
    filing_number: str,
    actor: Actor,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> CaseEvent:
    _check(case, "record_filing", actor, expected_version)
    if not filing_number.strip():
        raise WorkflowError(_("Give the court's filing number."), "filing_number")
    case.transfer.filing_number = filing_number.strip()
    return _apply(case, "record_filing", actor, at, None, filing_number=filing_number.strip())

"""How cases, parties and events read on a page: labels, masks, money, an event's details."""

from datetime import date, datetime
from decimal import Decimal

from babel.numbers import parse_pattern
from flask import Flask
from sqlalchemy import bindparam, select

from mediation.cases.identity import mask_id, mask_phone
from mediation.cases.models import CaseEvent
from mediation.cases.states import (
    HIGH_RISKS,
    IN_MEDIATION,
    OUTCOMES,
    PARTY_KINDS,
    PARTY_ROLES,
    RISK_LEVELS,
    STATE_LABELS,
    TRANSFER_REASONS,
    State,
)
from mediation.cases.workflow import MOVES
from mediation.database import read
from mediation.directory.terms import CATEGORIES, CHANNELS, ORGANIZATION_KINDS
from mediation.web.language import format_date, format_decimal, to_the_minute
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l

# Event details worth showing on the timeline, with their labels, in this order.
DETAIL_LABELS = {
    "from_centre": _l("From the centre"),
    "to_centre": _l("To the centre"),
    "former_number": _l("Former case number"),
    "number": _l("Case number"),
    "organization": _l("Mediation organisation"),
    "previous": _l("Previous mediator"),
    "mediator": _l("Mediator"),
    "deadline_on": _l("Deadline"),
    "days": _l("Days"),
    "held_at": _l("Time"),
    "place": _l("Place"),
    "signed_on": _l("Signed on"),
    "obligations": _l("Obligations"),
    "reason": _l("Reason"),
    "court": _l("Court"),
    "ruling": _l("Ruling number"),
    "confirmed_on": _l("Confirmed on"),
    "obligation": _l("Obligation"),
    "performed_on": _l("Performed on"),
    "voluntary": _l("Voluntary"),
    "party": _l("Party"),
    "filing_number": _l("Filing number"),
    "note": _l("Note"),
}

YES, NO = _l("Yes"), _l("No")

# The fields a correction or a completed transfer lists, with their labels.
CHANGED_FIELD_LABELS = {
    "channel_code": _l("Channel"),
    "category_code": _l("Dispute category"),
    "amount": _l("Amount in dispute"),
    "people_involved": _l("People involved"),
    "is_extreme": _l("Extreme tendency"),
    "risk_level": _l("Risk level"),
    "street": _l("Street or town"),
    "address": _l("Location"),
    "summary": _l("Summary of the dispute"),
    "claims": _l("Claims"),
    "kind": _l("Kind"),
    "name": _l("Name"),
    "id_number": _l("Resident ID number"),
    "credit_code": _l("Unified social credit code"),
    "phone": _l("Mobile"),
    "court": _l("Court"),
    "undisputed_facts": _l("Record of undisputed facts"),
}
# A party's address is not the dispute's location; a person has a 姓名, an organisation a 名称.
PARTY_FIELD_LABELS = {
    "address": _l("Address"),
    "name:person": _l("Full name"),
    "name:organization": _l("Organisation name"),
}
CHANGED_VALUES = {
    "channel_code": CHANNELS,
    "category_code": CATEGORIES,
    "risk_level": RISK_LEVELS,
    "kind": PARTY_KINDS,
}
LONGEST_VALUE = 60  # characters of a changed text shown on the timeline

RISK_BADGES = {"low": "secondary", "medium": "warning", "high": "danger", "critical": "danger"}
STATE_BADGES = {
    State.REGISTERED: "warning",
    State.ASSIGNED: "info",
    State.MEDIATING: "primary",
    State.AGREED: "success",
    State.FULFILLED: "success",
    State.DEFAULTED: "danger",
    State.TRANSFERRED: "secondary",
    State.WITHDRAWN: "light",
}


def event_details(event) -> list[tuple[str, str]]:
    """The (label, value) pairs of an event's details worth showing, in DETAIL_LABELS' order."""
    details = event.details or {}
    shown = []
    for key in sorted((key for key in details if key in _DETAIL_ORDER), key=_DETAIL_ORDER.get):
        value = details[key]
        if isinstance(value, bool):
            value = YES if value else NO
        if isinstance(value, list):
            value = "、".join(str(item) for item in value)
        if key == "reason" and value in TRANSFER_REASONS:
            value = TRANSFER_REASONS[value]
        if key == "held_at":
            # Stored in UTC; shown in the reader's time zone like every other time.
            value = to_the_minute(datetime.fromisoformat(value))
        elif key in DATE_DETAILS and isinstance(value, str):
            value = _business_date(value)
        shown.append((str(DETAIL_LABELS[key]), str(value)))
    return shown + [_changed_field(change) for change in details.get("changes", ())]


def _changed_field(change: dict) -> tuple[str, str]:
    """A line of a correction: which field (of which party), its old and new value."""
    field = change["field"]
    label = CHANGED_FIELD_LABELS[field]
    if "party" in change:
        label = PARTY_FIELD_LABELS.get(field, label)
        label = PARTY_FIELD_LABELS.get(f"{field}:{change.get('kind')}", label)
        label = f"{PARTY_ROLES[change['role']]} {change['party']} · {label}"
    old, new = (_changed_value(field, change.get(key)) for key in ("old", "new"))
    return str(label), f"{old} → {new}"


def _changed_value(field: str, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(YES if value else NO)
    if field == "amount":
        return money(Decimal(value))
    if field in CHANGED_VALUES:
        return str(CHANGED_VALUES[field].get(value, value))
    text = str(value)
    return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 1] + "…"


_DETAIL_ORDER = {key: position for position, key in enumerate(DETAIL_LABELS)}
# Business dates, stored as YYYY-MM-DD: shown as the page shows dates.
DATE_DETAILS = {key for key in DETAIL_LABELS if key.endswith("_on")}


def _business_date(value: str) -> str:
    try:
        return format_date(date.fromisoformat(value), "medium")
    except ValueError:  # an event written otherwise reads as it was written
        return value


def changed_meanwhile(case, action: str) -> str:
    """Why a form typed meanwhile can no longer be saved: what last happened to the case."""
    event = read(_LAST_EVENT, {"case_id": case.id}).one()
    if event.actor_kind == "party":
        who = _("%(name)s (party, online)", name=event.actor_name)
    elif event.actor_kind == "scheduler":
        who = _("Scheduled job")
    else:
        who = event.actor_name or "—"
    return _(
        "“%(action)s” is no longer possible: the case is now “%(state)s” after “%(change)s” "
        "(%(who)s, %(when)s). What you typed is kept below.",
        action=MOVES[action].verb,
        state=State(case.state).label,
        change=MOVES[event.action].label if event.action in MOVES else event.action,
        who=who,
        when=to_the_minute(event.at),
    )


_LAST_EVENT = (
    select(CaseEvent.action, CaseEvent.at, CaseEvent.actor_kind, CaseEvent.actor_name)
    .where(CaseEvent.case_id == bindparam("case_id"))
    .order_by(CaseEvent.id.desc())
    .limit(1)
)


# Parsed once: Babel parses a pattern given as text again for every amount.
MONEY = parse_pattern("#,##0.00")


def money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return "¥" + format_decimal(value, format=MONEY)


def days_left(deadline: date | None, today: date) -> int | None:
    return (deadline - today).days if deadline else None


def _label(vocabulary: dict):
    return lambda code: str(vocabulary.get(code, code))


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        mask_id=mask_id,
        mask_phone=mask_phone,
        money=money,
        state_label=_label(STATE_LABELS),
        state_colour=lambda code: STATE_BADGES[code],
        risk_label=_label(RISK_LEVELS),
        risk_colour=lambda code: RISK_BADGES.get(code, "secondary"),
        category_label=_label(CATEGORIES),
        channel_label=_label(CHANNELS),
        reason_label=_label(TRANSFER_REASONS),
        outcome_label=_label(OUTCOMES),
        party_role_label=_label(PARTY_ROLES),
        party_kind_label=_label(PARTY_KINDS),
        organization_kind_label=_label(ORGANIZATION_KINDS),
        to_the_minute=to_the_minute,
    )
    app.jinja_env.globals.update(days_left=days_left, event_details=event_details)
    app.jinja_env.tests.update(
        in_mediation=lambda state: state in IN_MEDIATION,  # only then can a deadline be missed
        high_risk=lambda level: level in HIGH_RISKS,
    )

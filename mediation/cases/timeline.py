"""How cases, parties and events read on a page: labels, masks, money, the timeline."""

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import parse_pattern
from flask import Flask
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from mediation.cases.identity import mask_id, mask_phone
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
from mediation.directory.terms import CATEGORIES, CHANNELS, ORGANIZATION_KINDS
from mediation.web.language import datetimeformat, locale_name, translated

# Event details worth showing on the timeline, with their labels, in this order.
DETAIL_LABELS = {
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

# Who did it, on the timeline, when not a signed-in user (whose name is shown).
ACTORS = {
    "scheduler": _l("Scheduled job"),
    "import": _l("Ledger import"),
    "party": _l("%(name)s (party, online)"),
}

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
    details = event.details or {}
    labels = translated(DETAIL_LABELS)
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
            value = datetimeformat(datetime.fromisoformat(value), "short")
        shown.append((labels[key], str(value)))
    return shown


_DETAIL_ORDER = {key: position for position, key in enumerate(DETAIL_LABELS)}
_MOVE_LABELS: dict[int, tuple[dict, dict]] = {}


def _move_labels(moves: dict) -> dict:
    """Each move's timeline label, as a vocabulary that `translated` keeps per language (a
    lazy label looked its translation up again for every event)."""
    held = _MOVE_LABELS.get(id(moves))
    if held is None or held[0] is not moves:
        labels = {action: move.label for action, move in moves.items()}
        held = _MOVE_LABELS[id(moves)] = (moves, labels)
    return held[1]


def timeline(events, moves: dict) -> Markup:
    """The case page's timeline, an <li> an event (`events` are rows of CaseEvent's
    columns, `moves` workflow.MOVES). Written in Python like the list's cells: a case has a
    dozen events, and the template's loop over them cost a fifth of the page."""
    states = translated(STATE_LABELS)
    actors = translated(ACTORS)
    labels = translated(_move_labels(moves))
    items = []
    for event in events:
        what = f"<strong>{escape(labels.get(event.action, event.action))}</strong>"
        if event.from_state != event.to_state:
            state = escape(states.get(event.to_state, event.to_state))
            what += f' <span class="small text-muted">→ {state}</span>'
        if event.actor_kind == "party":
            who = escape(actors["party"]) % {"name": event.actor_name}
        else:
            who = escape(actors.get(event.actor_kind) or event.actor_name or "—")
        details = "".join(
            f'<div class="small">{escape(label)}: {escape(value)}</div>'
            for label, value in event_details(event)
        )
        items.append(
            f"<li><div>{what}</div>"
            f'<div class="small text-muted">{escape(datetimeformat(event.at, "medium"))}'
            f" · {who}</div>{details}</li>"
        )
    return Markup("\n".join(items))


MONEY_PATTERN = parse_pattern("#,##0.00")


def money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return "¥" + _amount_writer(locale_name())(value)


@lru_cache(maxsize=8)
def _amount_writer(locale: str):
    """How the language writes an amount: Python's own grouping where it writes 1,234.50
    (both of ours), else Babel's, which took longer than the rest of a case's facts."""
    symbols = Locale.parse(locale).number_symbols["latn"]
    if (symbols["group"], symbols["decimal"], symbols["minusSign"]) == (",", ".", "-"):
        return lambda value: f"{value:,.2f}"
    return lambda value: format_decimal(value, format=MONEY_PATTERN)


def days_left(deadline: date | None, today: date) -> int | None:
    return (deadline - today).days if deadline else None


def _label(vocabulary: dict):
    return lambda code: translated(vocabulary).get(code, code)


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
    )
    app.jinja_env.filters["timeline"] = timeline
    app.jinja_env.globals["days_left"] = days_left
    app.jinja_env.tests.update(
        in_mediation=lambda state: state in IN_MEDIATION,  # a deadline can be missed
        high_risk=lambda level: level in HIGH_RISKS,
    )

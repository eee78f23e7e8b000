"""What an administrator changes in a centre's directory: organisations, mediators, mediation
periods, routing rules, the working-day calendar and the deadline settings (SPEC 3.1, 3.3).

The functions check the domain rules, flush, and return what changed for the audit log; the
caller commits once. A refusal raises DirectoryError naming the form field it belongs beside.
"""

from datetime import date
from itertools import groupby

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from mediation.auth.models import Role, User
from mediation.directory.models import (
    CalendarDay,
    Category,
    Centre,
    CentreCategory,
    Mediator,
    Organization,
    RoutingRule,
)
from mediation.directory.settings import settings_for
from mediation.directory.terms import ORGANIZATION_KINDS
from mediation.extensions import db
from mediation.web.language import format_date
from mediation.web.language import gettext as _

MEDIATION_DAYS = (1, 365)
MAX_CASELOAD = 999
MAX_RANK = 99
# Inclusive bounds of each setting, in days.
SETTING_BOUNDS = {
    "triage_days": (1, 30),
    "triage_days_high_risk": (1, 30),
    "warning_days": (0, 60),
    "extension_max_days": (0, 365),
}
# The incentive measures a certificate lists (SPEC 3.4): at most this many, each this long.
MAX_MEASURES, MAX_MEASURE_LENGTH = 10, 50
HOLIDAY, WORKDAY = "holiday", "workday"
CALENDAR_YEARS = (2000, 2100)


class DirectoryError(ValueError):
    """Refused directory data; the messages are for the user, `field` names the form field."""

    def __init__(self, field: str, message: str, *more: str):
        super().__init__(message)
        self.field = field
        self.messages = [message, *more]


def _changes(before: dict, after: dict) -> dict:
    return {key: [before[key], after[key]] for key in after if before[key] != after[key]}


# --- organisations ---------------------------------------------------------------------------


def organizations_of(centre_id: int) -> list[Organization]:
    return db.session.scalars(
        select(Organization)
        .where(Organization.centre_id == centre_id)
        .order_by(Organization.is_active.desc(), Organization.name)
    ).all()


def active_mediator_counts(centre_id: int) -> dict[int, int]:
    return dict(
        db.session.execute(
            select(Mediator.organization_id, func.count())
            .where(Mediator.centre_id == centre_id, Mediator.is_active)
            .group_by(Mediator.organization_id)
        )
        .tuples()
        .all()
    )


def save_organization(
    organization: Organization, name: str, kind: str, phone: str, address: str, is_active: bool
) -> dict:
    """Check and apply an organisation's data; `organization` is new (no id) or saved.
    Returns the values of a new one, or what changed."""
    name = name.strip()
    if not name:
        raise DirectoryError("name", _("The organisation needs a name."))
    if kind not in ORGANIZATION_KINDS:
        raise DirectoryError("kind", _("Choose one of the kinds of organisation."))
    namesake = db.session.scalar(
        select(Organization.id).where(
            Organization.centre_id == organization.centre_id, Organization.name == name
        )
    )
    if namesake is not None and namesake != organization.id:
        raise DirectoryError(
            "name", _("This centre has an organisation named %(name)s already.", name=name)
        )
    is_new = organization.id is None
    before = _organization_values(organization)
    organization.name = name
    organization.kind = kind
    organization.phone = phone.strip()
    organization.address = address.strip()
    organization.is_active = is_active
    if is_new:
        db.session.add(organization)
    db.session.flush()
    after = _organization_values(organization)
    return after if is_new else _changes(before, after)


def _organization_values(organization: Organization) -> dict:
    return {
        "name": organization.name,
        "kind": organization.kind,
        "phone": organization.phone,
        "address": organization.address,
        "is_active": organization.is_active,
    }


# --- mediators -------------------------------------------------------------------------------


def mediators_of(centre_id: int) -> list[Mediator]:
    """A centre's mediators with their organisation and specialties (three queries in all)."""
    return db.session.scalars(
        select(Mediator)
        .where(Mediator.centre_id == centre_id)
        .options(selectinload(Mediator.organization), selectinload(Mediator.specialties))
        .order_by(Mediator.is_active.desc(), Mediator.name)
    ).all()


def usernames(user_ids) -> dict[int, str]:
    ids = [user_id for user_id in user_ids if user_id is not None]
    if not ids:
        return {}
    return dict(
        db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).tuples().all()
    )


def linkable_logins(centre_id: int, mediator: Mediator | None = None) -> list[User]:
    """The centre's mediator logins not yet linked to another mediator."""
    linked = select(Mediator.user_id).where(Mediator.user_id.is_not(None))
    if mediator is not None and mediator.id is not None:
        linked = linked.where(Mediator.id != mediator.id)
    return db.session.scalars(
        select(User)
        .where(
            User.centre_id == centre_id,
            User.role == Role.MEDIATOR.value,
            User.id.not_in(linked),
        )
        .order_by(User.username)
    ).all()


def save_mediator(
    mediator: Mediator,
    name: str,
    organization_id: int | None,
    specialties: list[str],
    phone: str,
    is_active: bool,
    max_caseload: int,
    user_id: int | None,
) -> dict:
    """Check and apply a mediator's data; `mediator` is new (no id, centre set) or saved.
    Returns the values of a new one, or what changed."""
    name = name.strip()
    if not name:
        raise DirectoryError("name", _("The mediator needs a name."))
    organization = db.session.get(Organization, organization_id) if organization_id else None
    if organization is None or organization.centre_id != mediator.centre_id:
        raise DirectoryError("organization", _("Choose an organisation of this centre."))
    if max_caseload is None or not 0 <= max_caseload <= MAX_CASELOAD:
        raise DirectoryError(
            "max_caseload",
            _("The maximum caseload is a number from 0 to %(n)d.", n=MAX_CASELOAD),
        )
    categories = db.session.scalars(
        select(Category).where(Category.code.in_(specialties)).order_by(Category.sort_order)
    ).all()
    if len(categories) != len(set(specialties)):
        raise DirectoryError("specialties", _("Choose specialties from the list."))
    if user_id is not None:
        _check_login(mediator, user_id)
    is_new = mediator.id is None
    before = _mediator_values(mediator)
    mediator.name = name
    mediator.organization = organization
    mediator.specialties = list(categories)
    mediator.phone = phone.strip()
    mediator.is_active = is_active
    mediator.max_caseload = max_caseload
    mediator.user_id = user_id
    if is_new:
        db.session.add(mediator)
    db.session.flush()
    after = _mediator_values(mediator)
    return after if is_new else _changes(before, after)


def _check_login(mediator: Mediator, user_id: int) -> None:
    user = db.session.get(User, user_id)
    if user is None or user.centre_id != mediator.centre_id or user.role != Role.MEDIATOR:
        raise DirectoryError("user", _("Choose a mediator login of this centre."))
    holder = db.session.scalar(select(Mediator.id).where(Mediator.user_id == user_id))
    if holder is not None and holder != mediator.id:
        raise DirectoryError(
            "user", _("The login %(name)s belongs to another mediator.", name=user.username)
        )


def _mediator_values(mediator: Mediator) -> dict:
    # A new mediator has no organisation and no specialties loaded yet.
    is_new = mediator.id is None
    return {
        "name": mediator.name,
        "organization": mediator.organization.name if mediator.organization else None,
        "specialties": [] if is_new else [c.code for c in mediator.specialties],
        "phone": mediator.phone,
        "is_active": mediator.is_active,
        "max_caseload": mediator.max_caseload,
        "user_id": mediator.user_id,
    }


# --- mediation periods -----------------------------------------------------------------------


def mediation_periods(centre_id: int) -> list[tuple[str, int, int]]:
    """(category code, default days, the centre's days) for every category, in order."""
    rows = db.session.execute(
        select(Category.code, Category.mediation_days, CentreCategory.mediation_days)
        .outerjoin(
            CentreCategory,
            (CentreCategory.category_code == Category.code)
            & (CentreCategory.centre_id == centre_id),
        )
        .order_by(Category.sort_order, Category.code)
    )
    return [(code, default, default if own is None else own) for code, default, own in rows]


def set_mediation_periods(centre_id: int, periods: dict[str, int]) -> dict:
    """Apply the centre's mediation periods; a period equal to the default drops the centre's
    own value, so the centre follows the default again. Returns what changed."""
    rows = mediation_periods(centre_id)
    current = {code: own for code, _default, own in rows}
    defaults = {code: default for code, default, _own in rows}
    low, high = MEDIATION_DAYS
    for code, days in periods.items():
        if code not in current:
            raise DirectoryError(code, _("Unknown dispute category."))
        if days is None or not low <= days <= high:
            raise DirectoryError(
                code, _("A mediation period is %(low)d to %(high)d days.", low=low, high=high)
            )
    changes = {}
    for code, days in periods.items():
        if days == current[code]:
            continue
        changes[code] = [current[code], days]
        own = db.session.get(CentreCategory, (centre_id, code))
        if days == defaults[code]:
            db.session.delete(own)
        elif own is None:
            db.session.add(
                CentreCategory(centre_id=centre_id, category_code=code, mediation_days=days)
            )
        else:
            own.mediation_days = days
    db.session.flush()
    return changes


# --- routing rules ---------------------------------------------------------------------------


def routing_groups(centre_id: int) -> list[tuple[str, str, list[RoutingRule]]]:
    """The centre's rules as (category, street, rules by rank), in category order, the rule for
    any street first."""
    rules = db.session.scalars(
        select(RoutingRule)
        .join(Category, Category.code == RoutingRule.category_code)
        .join(RoutingRule.organization)
        .where(RoutingRule.centre_id == centre_id)
        .options(contains_eager(RoutingRule.organization))
        .order_by(Category.sort_order, RoutingRule.street, RoutingRule.rank, Organization.name)
    ).all()
    return [
        (category, street, list(group))
        for (category, street), group in groupby(rules, lambda r: (r.category_code, r.street))
    ]


def add_routing_rule(
    centre_id: int, category_code: str, street: str, organization_id: int | None, rank: int
) -> RoutingRule:
    if db.session.get(Category, category_code) is None:
        raise DirectoryError("category", _("Choose a dispute category."))
    organization = db.session.get(Organization, organization_id) if organization_id else None
    if organization is None or organization.centre_id != centre_id:
        raise DirectoryError("organization", _("Choose an organisation of this centre."))
    if rank is None or not 1 <= rank <= MAX_RANK:
        raise DirectoryError("rank", _("The order is a number from 1 to %(n)d.", n=MAX_RANK))
    street = street.strip()
    duplicate = db.session.scalar(
        select(RoutingRule.id).where(
            RoutingRule.centre_id == centre_id,
            RoutingRule.category_code == category_code,
            RoutingRule.street == street,
            RoutingRule.organization_id == organization.id,
        )
    )
    if duplicate is not None:
        raise DirectoryError(
            "organization",
            _(
                "%(name)s is in the rule for this category and street already.",
                name=organization.name,
            ),
        )
    rule = RoutingRule(
        centre_id=centre_id,
        category_code=category_code,
        street=street,
        organization=organization,
        rank=rank,
    )
    db.session.add(rule)
    db.session.flush()
    return rule


def routing_rule_values(rule: RoutingRule) -> dict:
    return {
        "category": rule.category_code,
        "street": rule.street,
        "organization": rule.organization.name,
        "rank": rule.rank,
    }


def remove_routing_rule(rule: RoutingRule) -> dict:
    """Delete the rule; returns what it said, for the audit log."""
    values = routing_rule_values(rule)
    db.session.delete(rule)
    db.session.flush()
    return values


# --- working-day calendar --------------------------------------------------------------------


def calendar_year(centre_id: int, year: int) -> list[CalendarDay]:
    return db.session.scalars(
        select(CalendarDay)
        .where(
            CalendarDay.centre_id == centre_id,
            CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)),
        )
        .order_by(CalendarDay.day)
    ).all()


def add_calendar_day(centre_id: int, day: date, kind: str, note: str) -> CalendarDay:
    """A holiday is a weekday off; an adjusted working day (调休) is a weekend day on."""
    if kind not in (HOLIDAY, WORKDAY):
        raise DirectoryError("kind", _("Choose a holiday or an adjusted working day."))
    if (problem := calendar_year_problem(day)) is not None:
        raise DirectoryError("day", problem)
    if db.session.get(CalendarDay, (centre_id, day)) is not None:
        raise DirectoryError("day", already_in_calendar(day))
    if (problem := calendar_weekday_problem(day, kind)) is not None:
        raise DirectoryError("day", problem)
    return new_calendar_day(centre_id, day, kind, note)


def calendar_year_problem(day: date) -> str | None:
    if CALENDAR_YEARS[0] <= day.year <= CALENDAR_YEARS[1]:
        return None
    return _(
        "Choose a date from %(low)d to %(high)d.", low=CALENDAR_YEARS[0], high=CALENDAR_YEARS[1]
    )


def calendar_weekday_problem(day: date, kind: str) -> str | None:
    if kind == HOLIDAY and day.weekday() >= 5:
        return _("A holiday falls on a weekday: Saturdays and Sundays are off anyway.")
    if kind == WORKDAY and day.weekday() < 5:
        return _("An adjusted working day falls on a Saturday or Sunday.")
    return None


def already_in_calendar(day: date) -> str:
    return _("%(day)s is in the calendar already.", day=format_date(day, "long"))


def new_calendar_day(centre_id: int, day: date, kind: str, note: str) -> CalendarDay:
    """Add a day the checks above allow (flushed)."""
    calendar_day = CalendarDay(
        centre_id=centre_id, day=day, is_workday=kind == WORKDAY, note=note.strip()
    )
    db.session.add(calendar_day)
    db.session.flush()
    return calendar_day


def remove_calendar_day(calendar_day: CalendarDay) -> dict:
    """Delete the exception, so the day is a weekday or weekend again; returns what it was."""
    values = {"is_workday": calendar_day.is_workday, "note": calendar_day.note}
    db.session.delete(calendar_day)
    db.session.flush()
    return values


# --- settings --------------------------------------------------------------------------------


def update_settings(centre_id: int, **values) -> dict:
    """Apply the deadline settings (saving the row the first time); returns what changed."""
    for name, (low, high) in SETTING_BOUNDS.items():
        value = values[name]
        if value is None or not low <= value <= high:
            raise DirectoryError(
                name, _("Enter a number of days from %(low)d to %(high)d.", low=low, high=high)
            )
    if values["triage_days_high_risk"] > values["triage_days"]:
        raise DirectoryError(
            "triage_days_high_risk",
            _("High-risk cases cannot have longer to be routed than other cases."),
        )
    fields = [*SETTING_BOUNDS, "extensions_allowed"]
    if "incentive_measures" in values:
        values = {**values, "incentive_measures": _measures_text(values["incentive_measures"])}
        fields.append("incentive_measures")
    settings = settings_for(centre_id)
    if settings not in db.session:
        db.session.get(Centre, centre_id).settings = settings
    before = {name: getattr(settings, name) for name in fields}
    for name in fields:
        setattr(settings, name, values[name])
    db.session.flush()
    return _changes(before, {name: getattr(settings, name) for name in fields})


def _measures_text(text: str | None) -> str:
    """The incentive measures, one per line, blank lines dropped; refused when too many or
    one is too long."""
    measures = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(measures) > MAX_MEASURES:
        raise DirectoryError(
            "incentive_measures",
            _("List at most %(n)d incentive measures.", n=MAX_MEASURES),
        )
    if any(len(measure) > MAX_MEASURE_LENGTH for measure in measures):
        raise DirectoryError(
            "incentive_measures",
            _("Each incentive measure can be at most %(n)d characters.", n=MAX_MEASURE_LENGTH),
        )
    return "\n".join(measures)

"""Business dates in a centre's time zone and its working-day calendar (SPEC 3.3)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select

from mediation import clock
from mediation.database import read
from mediation.directory.models import CalendarDay, Centre
from mediation.extensions import db


def local_date(moment: datetime, centre: Centre) -> date:
    return moment.astimezone(ZoneInfo(centre.timezone)).date()


def local_today(centre: Centre) -> date:
    return local_date(clock.now(), centre)


def _exceptions(centre_id: int, start: date, end: date) -> dict[date, bool]:
    rows = read(_EXCEPTIONS, {"centre_id": centre_id, "start": start, "end": end})
    return dict(rows.tuples().all())


# Built once: every registration asks.
_EXCEPTIONS = select(CalendarDay.day, CalendarDay.is_workday).where(
    CalendarDay.centre_id == bindparam("centre_id"),
    CalendarDay.day.between(bindparam("start"), bindparam("end")),
)


def has_calendar_year(centre_id: int, year: int) -> bool:
    """Whether any holiday or adjusted working day of `year` is entered."""
    entered = select(CalendarDay.day).where(
        CalendarDay.centre_id == centre_id,
        CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)),
    )
    return db.session.scalar(entered.limit(1)) is not None


def is_workday(day: date, exceptions: dict[date, bool]) -> bool:
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


class WorkingCalendar:
    """A centre's whole calendar in memory, for work over many dates at once (an import)."""

    def __init__(self, centre_id: int):
        rows = db.session.execute(
            select(CalendarDay.day, CalendarDay.is_workday).where(
                CalendarDay.centre_id == centre_id
            )
        )
        self.exceptions: dict[date, bool] = dict(rows.tuples().all())

    def add_working_days(self, start: date, days: int) -> date:
        current, counted = start, 0
        while counted < days:
            current += timedelta(days=1)
            if is_workday(current, self.exceptions):
                counted += 1
        return current


def add_working_days(centre_id: int, start: date, days: int) -> date:
    """The date `days` working days after `start` (start itself does not count)."""
    # Chinese holidays are at most about a week long; a generous window is one query.
    window_end = start + timedelta(days=days * 2 + 21)
    exceptions = _exceptions(centre_id, start, window_end)
    current, counted = start, 0
    while counted < days:
        current += timedelta(days=1)
        if current > window_end:
            exceptions |= _exceptions(centre_id, current, current + timedelta(days=60))
            window_end = current + timedelta(days=60)
        if is_workday(current, exceptions):
            counted += 1
    return current

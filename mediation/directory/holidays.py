"""Many days of the working-day calendar at once (SPEC 3.3): a date range, or a year's public
holidays and adjusted working days (调休) from a small CSV. The same checks as for one day, and
all or nothing: one problem and no day is added, every problem listed."""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from mediation.directory.admin import (
    HOLIDAY,
    WORKDAY,
    DirectoryError,
    add_calendar_day,
    already_in_calendar,
    calendar_weekday_problem,
    calendar_year_problem,
    new_calendar_day,
)
from mediation.directory.models import CalendarDay
from mediation.extensions import db
from mediation.web.language import format_date
from mediation.web.language import gettext as _
from mediation.web.sheets import NoSuchDate, NotADate, decode_text, sheet_date

# The longest holiday (春节) is 9 days; a longer range is a typing mistake.
MAX_RANGE_DAYS = 31
MAX_ROWS = 400
MAX_BYTES = 64 * 1024
NOTE_LENGTH = CalendarDay.__table__.c.note.type.length
# The CSV's columns, each named in English or Chinese, and its kinds, written either way.
COLUMNS = {"date": "日期", "kind": "类型", "note": "备注"}
KINDS = {
    "holiday": HOLIDAY,
    "workday": WORKDAY,
    "节假日": HOLIDAY,
    "法定节假日": HOLIDAY,
    "调休上班": WORKDAY,
    "调休上班日": WORKDAY,
}
# The example to download: the State Council's holidays of 2025 that fall on weekdays, and
# the weekend days worked instead.
EXAMPLE = [
    ("2025-01-01", "节假日", "元旦"),
    ("2025-01-26", "调休上班", "春节调休"),
    ("2025-01-28", "节假日", "春节"),
    ("2025-01-29", "节假日", "春节"),
    ("2025-01-30", "节假日", "春节"),
    ("2025-01-31", "节假日", "春节"),
    ("2025-02-03", "节假日", "春节"),
    ("2025-02-04", "节假日", "春节"),
    ("2025-02-08", "调休上班", "春节调休"),
    ("2025-04-04", "节假日", "清明节"),
    ("2025-04-27", "调休上班", "劳动节调休"),
    ("2025-05-01", "节假日", "劳动节"),
    ("2025-05-02", "节假日", "劳动节"),
    ("2025-05-05", "节假日", "劳动节"),
    ("2025-06-02", "节假日", "端午节"),
    ("2025-09-28", "调休上班", "国庆节调休"),
    ("2025-10-01", "节假日", "国庆节、中秋节"),
    ("2025-10-02", "节假日", "国庆节、中秋节"),
    ("2025-10-03", "节假日", "国庆节、中秋节"),
    ("2025-10-06", "节假日", "国庆节、中秋节"),
    ("2025-10-07", "节假日", "国庆节、中秋节"),
    ("2025-10-08", "节假日", "国庆节、中秋节"),
    ("2025-10-11", "调休上班", "国庆节调休"),
]


@dataclass
class CalendarChange:
    """The days added, and the days left out because they need no entry: weekend days
    given as holidays (off anyway), weekdays in a range of working days (on anyway)."""

    added: list[CalendarDay] = field(default_factory=list)
    skipped: list[date] = field(default_factory=list)

    def days_of(self, kind: str) -> list[date]:
        return [entry.day for entry in self.added if entry.is_workday == (kind == WORKDAY)]


def _entered(centre_id: int, first: date, last: date) -> set[date]:
    return set(
        db.session.scalars(
            select(CalendarDay.day).where(
                CalendarDay.centre_id == centre_id, CalendarDay.day.between(first, last)
            )
        )
    )


# --- a range ---------------------------------------------------------------------------------


def add_calendar_range(
    centre_id: int, first: date, last: date | None, kind: str, note: str
) -> CalendarChange:
    """Each weekday from `first` to `last` a holiday, or each weekend day in it an adjusted
    working day; without `last` (or the same day), `first` alone, as add_calendar_day."""
    if last is None or last == first:
        return CalendarChange(added=[add_calendar_day(centre_id, first, kind, note)])
    if last < first:
        raise DirectoryError("until", _("The last day comes before the first."))
    if (last - first).days >= MAX_RANGE_DAYS:
        raise DirectoryError("until", _("A range is at most %(n)d days.", n=MAX_RANGE_DAYS))
    if kind not in (HOLIDAY, WORKDAY):
        raise DirectoryError("kind", _("Choose a holiday or an adjusted working day."))
    year_problems = {calendar_year_problem(day) for day in (first, last)} - {None}
    if year_problems:
        raise DirectoryError("day", *sorted(year_problems))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    wanted = [day for day in days if calendar_weekday_problem(day, kind) is None]
    if not wanted:
        message = (
            _("Every day of this range is a Saturday or Sunday, off anyway.")
            if kind == HOLIDAY
            else _("Every day of this range is a weekday, a working day anyway.")
        )
        raise DirectoryError("until", message)
    entered = _entered(centre_id, first, last)
    taken = [already_in_calendar(day) for day in wanted if day in entered]
    if taken:
        raise DirectoryError("day", *taken)
    return CalendarChange(
        added=[new_calendar_day(centre_id, day, kind, note) for day in wanted],
        skipped=[day for day in days if day not in wanted],
    )


# --- a CSV file ------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    day: date
    kind: str
    note: str


def import_calendar(centre_id: int, data: bytes) -> CalendarChange:
    """The days of a CSV file (columns date, kind, note). Raises DirectoryError on the field
    `file` with every problem, each naming its row, when any row has one."""
    rows, problems = _read(data)
    if rows:
        problems += _check(centre_id, rows)
    if problems:
        listed = [_at(row, message) for row, message in sorted(problems, key=_row)]
        raise DirectoryError(
            "file", _("Nothing was imported. Correct the file and import it again:"), *listed
        )
    # A holiday on a weekend is off anyway: an entry would change nothing.
    off_anyway = [row.day for row in rows if row.kind == HOLIDAY and row.day.weekday() >= 5]
    return CalendarChange(
        added=[
            new_calendar_day(centre_id, row.day, row.kind, row.note)
            for row in rows
            if row.day not in off_anyway
        ],
        skipped=off_anyway,
    )


def _read(data: bytes) -> tuple[list[_Row], list[tuple[int, str]]]:
    """The rows of the file that could be parsed, and the problems of its form, as (row,
    message), row 0 for the whole file."""
    if len(data) > MAX_BYTES:
        return [], [(0, _("A calendar file is at most %(n)d KB.", n=MAX_BYTES // 1024))]
    text = decode_text(data)
    if text is None:
        return [], [(0, _("The file is neither UTF-8 nor GB18030 text."))]
    try:
        table = [cells for cells in csv.reader(io.StringIO(text, newline="")) if any(cells)]
    except csv.Error:
        return [], [(0, _("The file cannot be read as CSV."))]
    if not table:
        return [], [(0, _("The file is empty."))]
    positions, problems = _header(table[0])
    if problems:
        return [], problems
    if len(table) == 1:
        return [], [(0, _("The file has no days."))]
    if len(table) - 1 > MAX_ROWS:
        return [], [(0, _("A file holds at most %(n)d days.", n=MAX_ROWS))]
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {
            name: cells[index].strip() if index < len(cells) else ""
            for name, index in positions.items()
        }
        row, row_problems = _parse(number, values)
        if row is not None:
            rows.append(row)
        problems += row_problems
    return rows, problems


def _header(cells: list[str]) -> tuple[dict[str, int], list[tuple[int, str]]]:
    by_header = {**{name: name for name in COLUMNS}, **{zh: en for en, zh in COLUMNS.items()}}
    positions = {}
    for index, cell in enumerate(cells):
        name = by_header.get(cell.strip().lower())
        if name is not None and name not in positions:
            positions[name] = index
    problems = [
        (1, _("The column %(column)s is missing.", column=f"{COLUMNS[name]} ({name})"))
        for name in ("date", "kind")
        if name not in positions
    ]
    return positions, problems


def _parse(number: int, values: dict[str, str]) -> tuple[_Row | None, list[tuple[int, str]]]:
    problems = []
    day = None
    if not values["date"]:
        problems.append((number, _("The date is missing.")))
    else:
        try:
            day = sheet_date(values["date"])
        except NotADate:
            message = _("Write the date as YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日.")
            problems.append((number, message))
        except NoSuchDate as error:
            problems.append((number, str(error)))
    kind = KINDS.get(values["kind"].lower())
    if kind is None:
        message = _("Unknown kind %(value)s: write holiday or workday.", value=values["kind"])
        problems.append((number, message))
    note = values.get("note", "")
    if len(note) > NOTE_LENGTH:
        problems.append((number, _("A note is at most %(n)d characters.", n=NOTE_LENGTH)))
    if problems:
        return None, problems
    return _Row(number, day, kind, note), []


def _check(centre_id: int, rows: list[_Row]) -> list[tuple[int, str]]:
    """The checks of each day, as for one day; but a holiday on a weekend is no problem."""
    problems = []
    first_row: dict[date, int] = {}
    entered = _entered(centre_id, min(r.day for r in rows), max(r.day for r in rows))
    for row in rows:
        if row.day in first_row:
            message = _(
                "%(day)s is in row %(row)d already.",
                day=format_date(row.day, "long"),
                row=first_row[row.day],
            )
            problems.append((row.number, message))
            continue
        first_row[row.day] = row.number
        off_anyway = row.kind == HOLIDAY and row.day.weekday() >= 5
        if (problem := calendar_year_problem(row.day)) is not None:
            problems.append((row.number, problem))
        elif row.day in entered:
            problems.append((row.number, already_in_calendar(row.day)))
        elif not off_anyway and (problem := calendar_weekday_problem(row.day, row.kind)):
            problems.append((row.number, problem))
    return problems


def _row(problem: tuple[int, str]) -> int:
    return problem[0]


def _at(row: int, message: str) -> str:
    """A problem of a row, or of the whole file (row 0)."""
    return _("Row %(row)d: %(message)s", row=row, message=message) if row else message


def example_rows() -> list[list[str]]:
    """The example CSV to download, with Chinese headers."""
    return [list(COLUMNS.values()), *(list(row) for row in EXAMPLE)]

"""What people upload from their spreadsheets: CSV text in UTF-8 (with or without BOM) or
GB18030, and dates written as Chinese offices write them. The ledger import and the calendar
import read their files alike."""

import calendar
import re
from datetime import date

from mediation.web.language import gettext as _

DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)


class NotADate(ValueError):
    """Text not written as a date in any of the DATE_PATTERNS."""


class NoSuchDate(ValueError):
    """Written as a date, but the calendar has no such day (2024-02-30); str() says why, in
    the user's language."""


def decode_text(data: bytes) -> str | None:
    """The file's text, or None when it is neither UTF-8 nor GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return None


def sheet_date(text: str) -> date:
    """A date written as YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日. Raises NotADate or
    NoSuchDate."""
    # A CSV written from Excel may carry a time: "2024-03-05 00:00:00".
    written = text.strip().split(" ")[0].split("T")[0]
    for pattern in DATE_PATTERNS:
        match = pattern.match(written)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                raise NoSuchDate(_no_such_date(written, year, month, day)) from None
    raise NotADate(text)


def _no_such_date(written: str, year: int, month: int, day: int) -> str:
    if not 1 <= month <= 12:
        return _("There is no date %(date)s: a year has 12 months.", date=written)
    if year >= 1 and day >= 1:
        days = calendar.monthrange(year, month)[1]
        return _(
            "There is no date %(date)s: that month has %(days)d days.", date=written, days=days
        )
    return _("There is no date %(date)s.", date=written)

"""Numbers and dates from URLs and query strings, bounded so that no request can overflow a
column or a conversion between time zones."""

from datetime import date, datetime

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

# Ids are 32-bit integers on PostgreSQL.
MAX_ID = 2**31 - 1


def record_id(value: str) -> int:
    """A database id, for `request.args.get(..., type=record_id)`: anything that cannot be
    one raises ValueError, which Flask turns into "absent"."""
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise ValueError(value)
    return number


# Business dates anyone may ask about: wide enough for any ledger, narrow enough that a day
# either side, in any time zone, is still a date.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def business_date(value: str) -> date:
    """A date typed as YYYY-MM-DD within the years above; ValueError for anything else."""
    day = date.fromisoformat(value.strip())
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(value)
    return day


def moment(value: str) -> datetime:
    """An ISO time with its UTC offset within the years above; ValueError for anything else."""
    at = datetime.fromisoformat(value)
    if at.tzinfo is None or not FIRST_YEAR <= at.year <= LAST_YEAR:
        raise ValueError(value)
    return at


def page_number(value: str) -> int:
    number = int(value)
    if not 0 < number <= 100_000:
        raise ValueError(value)
    return number


class IdConverter(IntegerConverter):
    """`<id:case_id>`: a URL id beyond the column's range is a 404, not an overflow."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


def upload_limit(max_bytes: int):
    """A view's own limit on the size of a request, in place of MAX_CONTENT_LENGTH (put it
    right under the route: the view registered carries it)."""

    def decorate(view):
        view.max_content_length = max_bytes
        return view

    return decorate


def apply_upload_limits(app: Flask) -> None:
    """Gives each request its view's `upload_limit` before anything reads the body: CSRFProtect
    and the NUL check read the form before the view runs, under the app's limit otherwise."""

    @app.before_request
    def _upload_limit():
        limit = getattr(app.view_functions.get(request.endpoint), "max_content_length", None)
        if limit is not None:
            request.max_content_length = limit


def refuse_nul_characters(app: Flask) -> None:
    """No one types a NUL character; PostgreSQL stores none. A path, query string or form
    that carries one is refused as a whole, before any view reads it."""

    @app.before_request
    def _no_nul():
        if "\x00" in request.path:
            abort(400)
        for values in (request.args, request.form):
            for name, value in values.items(multi=True):
                if "\x00" in name or "\x00" in value:
                    abort(400)


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a body nested too deeply for the parser (thousands of brackets)
    is a body that is not JSON, as Flask already treats any other: never a RecursionError."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def bound_json_bodies(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)

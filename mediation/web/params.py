"""Numbers from URLs and query strings, bounded so that no request can overflow a column."""

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


def page_number(value: str) -> int:
    number = int(value)
    if not 0 < number <= 100_000:
        raise ValueError(value)
    return number


class IdConverter(IntegerConverter):
    """`<id:case_id>`: a URL id beyond the column's range is a 404, not an overflow."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)

"""Ledger files for tests: a row of the SPEC 5 columns, and rows written as a CSV file."""

from mediation.ledger.reader import COLUMNS

EN = list(COLUMNS)
ZH = list(COLUMNS.values())


def row(ref="L-1", **values) -> dict:
    """A ledger row (English column names): a walk-in neighbour dispute of 2025-03-03 between
    张三 and 李四, with `values` on top."""
    base = {
        "ref": ref,
        "registered_on": "2025-03-03",
        "channel": "walk_in",
        "category": "neighbour",
        "applicant": "张三",
        "respondent": "李四",
    }
    return {**base, **values}


def to_csv(rows: list[dict], headers=EN, encoding="utf-8", bom=False) -> bytes:
    """The rows as a CSV file with the columns any of them has, headed by `headers`."""
    names = dict(zip(EN, headers, strict=True))
    used = [c for c in EN if any(c in r for r in rows)] or EN[:6]
    lines = [",".join(names[c] for c in used)]
    for item in rows:
        lines.append(",".join(str(item.get(c, "")) for c in used))
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    return b"\xef\xbb\xbf" + data if bom else data

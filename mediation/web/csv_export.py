"""CSV downloads for spreadsheets: UTF-8 with a byte-order mark (so that Excel opens Chinese
text correctly), and no cell that a spreadsheet would run as a formula."""

import csv
import io
from collections.abc import Iterable

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(cell: str) -> str:
    """`cell` as text no spreadsheet runs: the one guard of every CSV and XLSX export."""
    return f"'{cell}" if cell[:1] in FORMULA_STARTS else cell


def csv_response(rows: Iterable[list[str]], filename: str) -> Response:
    """`rows` (the header first) as a CSV download named `filename`."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([inert(cell) for cell in row])
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

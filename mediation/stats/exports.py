"""A month's statistics as JSON, CSV (one table) and XLSX (one sheet per table): pure functions
of the figures month_stats returns, shared by the statistics page and `flask stats export`."""

import csv
import io
import json
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mediation.web.csv_export import FORMULA_STARTS

TABLES = (
    "summary",
    "transferred_by_reason",
    "by_category",
    "by_channel",
    "by_organization",
    "by_mediator",
    "previous_month",
    "same_month_last_year",
)
MONEY_KEYS = ("amount_in_dispute", "amount_agreed")

HEADERS = {
    "key": _l("Figure"),
    "value": _l("Value"),
    "reason": _l("Transfer reason"),
    "count": _l("Cases"),
    "category": _l("Category"),
    "channel": _l("Channel"),
    "organization": _l("Organisation"),
    "mediator": _l("Mediator"),
    "received": _l("Received"),
    "concluded": _l("Concluded"),
    "agreed": _l("Agreed"),
    "assigned": _l("Assigned"),
    "success_rate": _l("Success rate"),
    "avg_days": _l("Average days"),
}
SHEET_TITLES = {
    "summary": _l("Summary"),
    "transferred_by_reason": _l("Transfers by reason"),
    "by_category": _l("By category"),
    "by_channel": _l("By channel"),
    "by_organization": _l("By organisation"),
    "by_mediator": _l("By mediator"),
    "previous_month": _l("Previous month"),
    "same_month_last_year": _l("Same month last year"),
}


def to_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def table_rows(data: dict, table: str) -> tuple[list[str], list[list]]:
    """The header keys and the rows of one table; ValueError for an unknown table."""
    if table not in TABLES:
        raise ValueError(table)
    value = data[table]
    if table == "transferred_by_reason":
        return ["reason", "count"], [[code, count] for code, count in value.items()]
    if isinstance(value, dict):
        return ["key", "value"], [[key, figure] for key, figure in value.items()]
    if not value:
        return [], []
    keys = list(value[0])
    return keys, [[row[key] for key in keys] for row in value]


def to_csv(data: dict, table: str = "summary") -> str:
    """One table as CSV text with a byte-order mark (Excel then reads it as UTF-8)."""
    keys, rows = table_rows(data, table)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(keys)
    for row in rows:
        cells = ["" if cell is None else str(cell) for cell in row]
        writer.writerow([f"'{cell}" if cell[:1] in FORMULA_STARTS else cell for cell in cells])
    return "\ufeff" + out.getvalue()


def _cell(key, value):
    if key in MONEY_KEYS and value is not None:
        return Decimal(value)
    return value


def to_xlsx(data: dict, locale: str) -> bytes:
    """A workbook with one sheet per table, headers in `locale`, under a title row naming the
    centre and the month."""
    from openpyxl import Workbook

    with force_locale(locale):
        title = _(
            "Statistics of %(centre)s for %(month)s",
            centre=data["centre"] or _("all centres"),
            month=data["month"],
        )
        workbook = Workbook()
        workbook.remove(workbook.active)
        for table in TABLES:
            sheet = workbook.create_sheet(str(SHEET_TITLES[table])[:31])
            sheet.append([title])
            keys, rows = table_rows(data, table)
            sheet.append([str(HEADERS.get(key, key)) for key in keys])
            for row in rows:
                if keys == ["key", "value"]:
                    sheet.append([row[0], _cell(row[0], row[1])])
                else:
                    sheet.append([_cell(key, value) for key, value in zip(keys, row, strict=True)])
            for cells in sheet.iter_rows(min_row=3):
                for cell in cells:
                    if isinstance(cell.value, Decimal):
                        cell.number_format = "0.00"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

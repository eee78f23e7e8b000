"""A month's statistics as JSON, CSV (one table) and XLSX (one sheet per table): pure functions
of the figures month_stats returns, shared by the statistics page and `flask stats export`.
JSON keeps the codes (the machine contract); CSV and XLSX are for people (SPEC 4)."""

import csv
import io
import json
import unicodedata
from decimal import Decimal

from babel.dates import format_skeleton
from flask_babel import get_locale

from mediation.cases.states import TRANSFER_REASONS
from mediation.directory.centres import region_name
from mediation.directory.terms import CATEGORIES, CHANNELS
from mediation.stats.queries import month_key, parse_month, shift_month
from mediation.web.csv_export import inert
from mediation.web.language import force_locale
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l

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
# A region's export has one more table: its centres compared (SPEC 10).
REGION_TABLES = (*TABLES, "by_centre")
COMPARED_FIGURES = (
    "received",
    "concluded",
    "agreed",
    "success_rate",
    "on_time_rate",
    "obligations_due",
    "performance_rate",
)
COLUMNS = {
    "by_category": ("category", "received", "concluded", "agreed", "success_rate"),
    "by_channel": ("channel", "received", "concluded", "agreed", "success_rate"),
    "by_organization": (
        "organization",
        "assigned",
        "concluded",
        "agreed",
        "success_rate",
        "avg_days",
    ),
    "by_mediator": (
        "mediator",
        "organization",
        "assigned",
        "concluded",
        "agreed",
        "success_rate",
        "avg_days",
    ),
    "by_centre": ("name", "centre", *COMPARED_FIGURES),
}
RATE_KEYS = ("success_rate", "on_time_rate", "performance_rate", "satisfaction_rate")
MONEY_KEYS = ("amount_in_dispute", "amount_agreed")
NUMBER_FORMATS = {"rate": "0.00%", "money": "#,##0.00", "days": "0.0"}

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
    "name": _l("Centre"),
    "centre": _l("Centre code"),
    "on_time_rate": _l("On-time rate"),
    "obligations_due": _l("Obligations due"),
    "performance_rate": _l("Performance rate"),
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
    "by_centre": _l("Centres compared"),
}
FIGURE_LABELS = {
    "received": _l("Cases received"),
    "concluded": _l("Cases concluded"),
    "agreed": _l("Concluded by agreement"),
    "transferred": _l("Transferred to litigation"),
    "withdrawn": _l("Withdrawn"),
    "success_rate": _l("Success rate"),
    "avg_days": _l("Average days to conclusion"),
    "on_time_rate": _l("Concluded within the mediation period"),
    "judicial_confirmations": _l("Judicial confirmations"),
    "obligations_due": _l("Obligations due"),
    "fulfilled_on_time": _l("Fulfilled on time"),
    "performance_rate": _l("Voluntary performance rate"),
    "certificates_issued": _l("Integrity certificates issued"),
    "amount_in_dispute": _l("Amount in dispute (yuan)"),
    "amount_agreed": _l("Amount agreed (yuan)"),
    "pending_end": _l("Pending at month end"),
    "high_risk_received": _l("High-risk cases received"),
    "routed": _l("Cases assigned"),
    "satisfaction_rate": _l("Satisfaction rate"),
    "applications_received": _l("Online applications received"),
    "applications_accepted": _l("Online applications accepted"),
}
CODE_LABELS = {"category": CATEGORIES, "channel": CHANNELS, "reason": TRANSFER_REASONS}


def to_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def tables_of(data: dict) -> tuple[str, ...]:
    """The tables of these figures: a region's have its centres compared as well."""
    return REGION_TABLES if "by_centre" in data else TABLES


def table_rows(data: dict, table: str) -> tuple[list[str], list[list]]:
    """The header keys and the rows of one table, with codes; ValueError for an unknown table."""
    if table not in tables_of(data):
        raise ValueError(table)
    value = data[table]
    if table == "by_centre":
        keys = list(COLUMNS[table])
        return keys, [
            [row["name"], row["centre"], *(row["summary"][key] for key in COMPARED_FIGURES)]
            for row in value
        ]
    if table == "transferred_by_reason":
        return ["reason", "count"], [[code, count] for code, count in value.items()]
    if isinstance(value, dict):
        return ["key", "value"], [[key, figure] for key, figure in value.items()]
    keys = list(COLUMNS[table])
    return keys, [[row[key] for key in keys] for row in value]


def month_label(month: str, skeleton: str = "yMMMM") -> str:
    """ "2026年4月" or "April 2026" in the current language."""
    first, _last = parse_month(month)
    return format_skeleton(skeleton, first, locale=get_locale())


def scope_name(data: dict) -> str:
    """What figures of no one centre are of: a region, or all centres."""
    if data.get("region"):
        return region_name(data["region"])
    return _("All centres")


def export_title(data: dict, centre_name: str | None) -> str:
    return _(
        "%(centre)s: statistics for %(month)s",
        centre=centre_name or scope_name(data),
        month=month_label(data["month"]),
    )


def sheet_title(data: dict, centre_name: str | None, table: str) -> str:
    """The export's title; on the comparison sheets also the month their figures are of."""
    title = export_title(data, centre_name)
    months_back = {"previous_month": 1, "same_month_last_year": 12}.get(table)
    if months_back is None:
        return title
    earlier = month_key(shift_month(parse_month(data["month"])[0], -months_back))
    return _(
        "%(title)s (%(table)s: %(month)s)",
        title=title,
        table=SHEET_TITLES[table],
        month=month_label(earlier),
    )


def _kind(key: str) -> str | None:
    if key in RATE_KEYS:
        return "rate"
    if key in MONEY_KEYS:
        return "money"
    return "days" if key == "avg_days" else None


def people_rows(data: dict, table: str) -> tuple[list[str], list[list[tuple]]]:
    """The headers and rows of one table for people, in the current language: each cell a
    (value, kind) pair, with labels for codes and kind "rate", "money", "days" or None."""
    keys, rows = table_rows(data, table)
    headers = [str(HEADERS[key]) for key in keys]
    out = []
    for row in rows:
        if keys == ["key", "value"]:
            out.append([(str(FIGURE_LABELS[row[0]]), None), _figure(row[0], row[1])])
        else:
            out.append([_figure(key, value) for key, value in zip(keys, row, strict=True)])
    return headers, out


def _figure(key: str, value) -> tuple:
    if key in CODE_LABELS:
        return str(CODE_LABELS[key].get(value, value)), None
    if key in MONEY_KEYS and value is not None:
        return Decimal(value), "money"
    return value, _kind(key)


def _text(value, kind: str | None) -> str:
    """A cell as CSV text: rates as percentages, money with two decimals, names kept inert."""
    if value is None:
        return ""
    if kind == "rate":
        return f"{Decimal(str(value)) * 100:.2f}%"
    if kind == "money":
        return f"{value:.2f}"
    return inert(str(value))


def to_csv(data: dict, centre_name: str | None, locale: str, table: str = "summary") -> str:
    """One table as CSV text with a byte-order mark (Excel then reads it as UTF-8): the title,
    then the headers and rows in `locale`."""
    with force_locale(locale):
        title = sheet_title(data, centre_name, table)
        headers, rows = people_rows(data, table)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([inert(title)])
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_text(value, kind) for value, kind in row])
    return "\ufeff" + out.getvalue()


def _width(text: str) -> int:
    # Chinese characters take two columns of a spreadsheet's width unit.
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _display(value, kind: str | None) -> str:
    if value is None:
        return ""
    if kind == "rate":
        return f"{value * 100:.2f}%"
    return f"{value:,.2f}" if kind == "money" else str(value)


def to_xlsx(data: dict, centre_name: str | None, locale: str) -> bytes:
    """A workbook with one sheet per table, in `locale`, under a title row naming the centre
    and the month; rates and money are numbers with their formats, no cell a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    with force_locale(locale):
        for table in tables_of(data):
            sheet = workbook.create_sheet(str(SHEET_TITLES[table])[:31])
            headers, rows = people_rows(data, table)
            sheet.append([inert(sheet_title(data, centre_name, table))])
            sheet.append([inert(header) for header in headers])
            sheet["A1"].font = Font(bold=True, size=13)
            for cell in sheet[2]:
                cell.font = Font(bold=True)
            widths = [_width(header) for header in headers]
            for row in rows:
                sheet.append([inert(v) if isinstance(v, str) else v for v, _kind in row])
                for column, (value, kind) in enumerate(row, start=1):
                    if kind is not None:
                        sheet.cell(row=sheet.max_row, column=column).number_format = NUMBER_FORMATS[
                            kind
                        ]
                    widths[column - 1] = max(widths[column - 1], _width(_display(value, kind)))
            for column, width in enumerate(widths, start=1):
                sheet.column_dimensions[get_column_letter(column)].width = min(
                    max(width + 3, 8), 60
                )
            sheet.freeze_panes = "A3"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

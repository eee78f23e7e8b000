"""The ledger templates to download (CSV and XLSX): every SPEC 5 column under its Chinese
name, and one example row of an agreed case that a centre overwrites with its own."""

import io
from datetime import date, datetime

from mediation.ledger.reader import COLUMNS

EXAMPLE = {
    "ref": "2025-0001",
    "registered_on": date(2025, 3, 3),
    "channel": "来访",
    "category": "邻里纠纷",
    "applicant": "张三",
    "respondent": "李四",
    "amount": 5000,
    "summary": "楼上住户房屋漏水，致楼下住户墙面受损，双方就赔偿发生争议",
    "organization": "某某街道人民调解委员会",
    "mediator": "王某某",
    "assigned_on": date(2025, 3, 4),
    "outcome": "调解成功",
    "transfer_reason": "",
    "concluded_on": date(2025, 3, 20),
    "agreement_amount": 3000,
    "due_on": date(2025, 4, 20),
    "fulfilled_on": date(2025, 4, 10),
    "confirmed_on": date(2025, 3, 25),
}
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Wide enough for the header and the example (in characters).
WIDTHS = {"summary": 40, "organization": 26, "confirmed_on": 14}


def template_rows() -> list[list[str]]:
    """The CSV template: the Chinese headers and the example row, as text."""
    example = [
        value.isoformat() if isinstance(value, date) else str(value) for value in EXAMPLE.values()
    ]
    return [list(COLUMNS.values()), example]


def template_workbook() -> bytes:
    """The XLSX template: the same, with the dates as date cells and the amounts as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "台账"
    sheet.append(list(COLUMNS.values()))
    sheet.append(
        [
            datetime.combine(value, datetime.min.time()) if isinstance(value, date) else value
            for value in EXAMPLE.values()
        ]
    )
    for position, name in enumerate(COLUMNS, start=1):
        letter = get_column_letter(position)
        sheet[f"{letter}1"].font = Font(bold=True)
        sheet.column_dimensions[letter].width = WIDTHS.get(name, 12)
        if isinstance(EXAMPLE[name], date):
            sheet[f"{letter}2"].number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

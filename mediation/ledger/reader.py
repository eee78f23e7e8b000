"""Reading a ledger file (SPEC 5): CSV in UTF-8 (with or without BOM) or GB18030, or XLSX;
one header row, each column named in English or Chinese. Values stay raw here (text, or what
an XLSX cell holds); the importer parses and checks them.

Rows are streamed, one at a time (csv.reader, openpyxl's read-only iter_rows), never built
all at once, and a sheet of more than LEDGER_MAX_ROWS rows is refused at the first row past
the limit. An XLSX workbook passes the zip-bomb checks of a dossier file first.
"""

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from flask import current_app

from mediation.documents.office import XLSX, PackageRefused, package_type
from mediation.web.language import gettext as _
from mediation.web.sheets import decode_text

# column → its Chinese name (SPEC 5), in the SPEC's order.
COLUMNS = {
    "ref": "台账编号",
    "registered_on": "登记日期",
    "channel": "来源渠道",
    "category": "纠纷类型",
    "applicant": "申请人",
    "respondent": "被申请人",
    "amount": "标的额",
    "summary": "纠纷简要情况",
    "organization": "调解组织",
    "mediator": "调解员",
    "assigned_on": "委派日期",
    "outcome": "办理结果",
    "transfer_reason": "转诉讼原因",
    "concluded_on": "办结日期",
    "agreement_amount": "协议金额",
    "due_on": "履行期限",
    "fulfilled_on": "履行日期",
    "confirmed_on": "司法确认日期",
}
REQUIRED = ("ref", "registered_on", "channel", "category", "applicant", "respondent")
_BY_HEADER = {**{name: name for name in COLUMNS}, **{zh: name for name, zh in COLUMNS.items()}}


class LedgerFileError(Exception):
    """The file cannot be read at all (not CSV or XLSX, no header row)."""


@dataclass
class Problem:
    row: int  # as the spreadsheet shows it: the header is row 1
    column: str  # as the file names it ("" when about the whole row)
    message: str


@dataclass
class Sheet:
    """A ledger's header, and its rows to read (again) one at a time."""

    headers: dict[str, str]  # column → the header as written in the file
    data: bytes
    max_rows: int
    positions: dict[str, int] = field(default_factory=dict)  # column → its cell's index
    problems: list[Problem] = field(default_factory=list)

    def rows(self) -> Iterator[tuple[int, dict[str, object]]]:
        """(row number, column → raw value) of each row, read from the file as they are
        asked for; completely empty rows are left out. Raises LedgerFileError at the first
        row past `max_rows`."""
        table = _table(self.data)
        next(table, None)  # the header
        for number, cells in enumerate(table, start=2):
            if number - 1 > self.max_rows:
                table.close()
                raise LedgerFileError(
                    _(
                        "The ledger has more than %(n)d rows: split it into files of at most "
                        "%(n)d rows and import them one after the other.",
                        n=self.max_rows,
                    )
                )
            if not any(_text(cell) for cell in cells):
                continue
            yield (
                number,
                {
                    name: (cells[index] if index < len(cells) else None)
                    for name, index in self.positions.items()
                },
            )


def read_ledger(data: bytes, max_rows: int | None = None) -> Sheet:
    """A CSV or XLSX ledger's header, with its rows to read; `max_rows` defaults to the
    LEDGER_MAX_ROWS setting. Raises LedgerFileError when the file cannot be read at all."""
    header = _header(_table(data))
    positions = {name: index for index, name in header.rows_index.items()}
    limit = max_rows if max_rows is not None else current_app.config["LEDGER_MAX_ROWS"]
    return Sheet(header.headers, data, limit, positions, header.problems)


def header_problems(data: bytes) -> list[Problem]:
    """What is wrong with the file's header row (quick: only that row is read). Raises
    LedgerFileError when the file cannot be read at all."""
    return _header(_table(data)).problems


def _table(data: bytes) -> Iterator[Sequence]:
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    return _csv_rows(csv.reader(io.StringIO(_decode(data), newline="")))


def _csv_rows(reader) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error:
        raise LedgerFileError(
            _(
                "Line %(line)d of the file cannot be read as CSV: a cell is too long or its "
                "quotation marks do not match.",
                line=reader.line_num,
            )
        ) from None


def _header(table: Iterator[Sequence]) -> "_Header":
    try:
        header = next(table, None)
    finally:
        table.close()
    if not header or not any(_text(cell) for cell in header):
        raise LedgerFileError(_("The file has no header row."))
    return _map_header([_text(cell) for cell in header])


@dataclass
class _Header:
    headers: dict[str, str]
    rows_index: dict[int, str]
    problems: list[Problem]


def _map_header(cells: list[str]) -> _Header:
    headers: dict[str, str] = {}
    index: dict[int, str] = {}
    problems = []
    for position, cell in enumerate(cells):
        name = _BY_HEADER.get(cell) or _BY_HEADER.get(cell.lower())
        if name is None:
            continue  # other columns (序号, 备注 ...) are left alone
        if name in headers:
            problems.append(Problem(1, cell, _("This column appears twice.")))
            continue
        headers[name] = cell
        index[position] = name
    for name in REQUIRED:
        if name not in headers:
            problems.append(
                Problem(
                    1,
                    f"{name} / {COLUMNS[name]}",
                    _("This required column is missing."),
                )
            )
    return _Header(headers, index, problems)


def _decode(data: bytes) -> str:
    text = decode_text(data)
    if text is None:
        raise LedgerFileError(
            _("The file is neither UTF-8 nor GB18030 text, nor an XLSX workbook.")
        )
    return text


def _xlsx_rows(data: bytes) -> Iterator[tuple]:
    from openpyxl import load_workbook

    try:
        kind = package_type(io.BytesIO(data))
    except PackageRefused as refused:
        raise LedgerFileError(str(refused)) from None
    if kind != XLSX:
        raise LedgerFileError(_("The XLSX workbook cannot be read."))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or foreign zip: openpyxl raises many kinds
        raise LedgerFileError(_("The XLSX workbook cannot be read.")) from None
    return _closing_rows(workbook)


def _closing_rows(workbook) -> Iterator[tuple]:
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    except Exception:  # a sheet damaged further in: openpyxl raises many kinds
        raise LedgerFileError(_("The XLSX workbook cannot be read.")) from None
    finally:
        workbook.close()


def _text(value) -> str:
    return "" if value is None else str(value).strip()

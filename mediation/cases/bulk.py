"""Many cases at once: the workflow's changes written as batched rows.

The ledger import and the demo generator replay years of history. Each move is decided by
the workflow (`workflow.decide_*`), as for one case; `BulkWriter.apply` writes the Change
as rows held in memory, and `flush()` writes them table by table, one executemany (SQLite)
or COPY (PostgreSQL) each, with ids taken ahead from the database. Nothing is queued in the
outbox: replayed history notifies nobody.
"""

import json
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC
from operator import itemgetter
from types import SimpleNamespace

import psycopg
from sqlalchemy import JSON, Column, DefaultClause, FetchedValue, Table, inspect, text
from sqlalchemy.exc import DBAPIError

from mediation.cases.models import Case, CaseEvent, Party
from mediation.cases.numbering import NumberBlock
from mediation.cases.workflow import (
    ON_THE_CASE,
    WRITTEN_TABLES,
    CentreRules,
    Change,
    NewRow,
    RegistrationPlan,
)
from mediation.database import UTCDateTime, note_write
from mediation.directory.calendar import WorkingCalendar
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.integrity.models import Certificate, IntegrityRecord
from mediation.integrity.records import may_be_listed, refresh_honour

# Parents before children: the order rows are written in.
TABLES = WRITTEN_TABLES
# Ids are taken 100 at a time at first, then ten times as many each time up to 10,000: a
# small import leaves no wide gap in a sequence, a big one makes few round trips.
FIRST_BLOCK, LARGEST_BLOCK = 100, 10_000


class IdBlocks:
    """Primary keys taken ahead, so children can point at parents before anything is written.

    PostgreSQL hands them out from each table's sequence (a block at a time); SQLite counts on
    from the largest id, which is safe because the importing transaction holds the write lock
    from its BEGIN IMMEDIATE to its commit."""

    def __init__(self):
        self.engine = db.session.get_bind().dialect.name
        self.free: dict[str, list[int]] = {}
        self.size: dict[str, int] = {}  # the next block's size, per table
        self.last: dict[str, int] = {}  # SQLite: the last id handed out, per table
        self.sequences: dict[str, str] = {}  # PostgreSQL: each table's id sequence

    def take(self, table: str) -> int:
        free = self.free.get(table)
        if not free:
            free = self.free[table] = self._block(table)
        return free.pop()

    def reserve(self, table: str, count: int) -> None:
        """At least `count` ids free for `table`, taken now."""
        free = self.free.setdefault(table, [])
        while len(free) < count:
            free[:0] = self._block(table)  # larger ids, taken after those free already

    def _block(self, table: str) -> list[int]:
        size = self.size.get(table, FIRST_BLOCK)
        self.size[table] = min(size * 10, LARGEST_BLOCK)
        if self.engine == "postgresql":
            # One row holding the block (an array), not a row per id.
            ids = db.session.scalar(
                text(
                    f"select array_agg(nextval({self._sequence(table)})) "
                    "from generate_series(1, :n)"
                ),
                {"n": size},
            )
        else:
            if table not in self.last:
                self.last[table] = db.session.scalar(
                    text(f'select coalesce(max(id), 0) from "{table}"')
                )
            ids = list(range(self.last[table] + 1, self.last[table] + size + 1))
            self.last[table] = ids[-1]
        return sorted(ids, reverse=True)

    def _sequence(self, table: str) -> str:
        """PostgreSQL: the table's id sequence, written into the statement as a constant
        (looked up in the statement, it would be looked up again for every id)."""
        if table not in self.sequences:
            name = db.session.scalar(
                text("select pg_get_serial_sequence(:table, 'id')"), {"table": table}
            )
            self.sequences[table] = "'{}'::regclass".format(name.replace("'", "''"))
        return self.sequences[table]


class BulkCase(SimpleNamespace):
    """A case being written: its columns as attributes, with what the workflow reads of its
    relationships: `parties`, `agreement` (with its `obligations`), `transfer` and
    `mediator`."""

    @property
    def mediator_user_id(self) -> int | None:
        return self.mediator.user_id if self.mediator is not None else None


class BulkWriter:
    """Writes the changes of many cases of one centre; call `flush()` between cases."""

    def __init__(self, centre: Centre):
        self.rules = CentreRules(centre, WorkingCalendar(centre.id))
        self.numbers = NumberBlock(centre)
        self.ids = IdBlocks()
        self.rows: dict[type, list[SimpleNamespace]] = {model: [] for model in TABLES}
        self.unwritten: dict[tuple[type, int], SimpleNamespace] = {}
        self.blanks = {model: _blank_row(model.__table__) for model in TABLES}
        relationships = inspect(Case).relationships
        # The case's own attribute for a new row of these models (its agreement, transfer).
        self.on_the_case = {
            model: key for model, key in ON_THE_CASE.items() if not relationships[key].uselist
        }
        self.copier: ThreadPoolExecutor | None = None
        self.copying: Future | None = None  # the rows flushed behind, being copied
        self.copied_certificates: list[int] = []

    def register(
        self,
        plan: RegistrationPlan,
        ledger_ref: str | None = None,
        ledger_import_id: int | None = None,
    ) -> BulkCase:
        """A registration the workflow decided. Nobody was ever given an access code for
        replayed history: staff issue one (a new access code) when a party asks; until then
        no code opens the case."""
        year = plan.columns["registered_on"].year
        seq, number = self.numbers.issue(year)
        columns = {
            **plan.columns,
            "number": number,
            "year": year,
            "seq": seq,
            "ledger_ref": ledger_ref,
            "ledger_import_id": ledger_import_id,
        }
        case = self.insert(Case, columns, kind=BulkCase)
        case.parties = [
            self.insert(Party, {**party, "case_id": case.id, "access_code_hash": ""})
            for party in plan.parties
        ]
        case.agreement = case.transfer = case.mediator = None
        self.insert(CaseEvent, plan.event(number).event_row(case.id, case.centre_id))
        return case

    def apply(self, case: BulkCase, change: Change) -> None:
        """A change the workflow decided for a case registered in this writer."""
        case.state = change.to_state
        for name, value in change.columns.items():
            setattr(case, name, value)
        if change.handed_to is not None:
            case.mediator = change.handed_to
        case.version += 1
        for row in change.rows:
            self._write(case, row)
        for update in change.updates:
            written = self.unwritten[(update.model, update.id)]
            for name, value in update.values.items():
                setattr(written, name, value)
        self.insert(CaseEvent, change.event_row(case.id, case.centre_id))
        for grant in change.certificates:
            record = self.insert(IntegrityRecord, grant.record)
            self.insert(Certificate, grant.certificate_row(record.id))

    def _write(self, case: BulkCase, row: NewRow) -> SimpleNamespace:
        written = self.insert(row.model, row.values)
        for relationship, children in row.children.items():
            parent = {_foreign_key(row.model, relationship): written.id}
            setattr(
                written,
                relationship,
                [self.insert(child.model, {**child.values, **parent}) for child in children],
            )
        key = self.on_the_case.get(row.model)
        if key is not None:
            setattr(case, key, written)
        return written

    def insert(self, model, values: dict, kind: type = SimpleNamespace) -> SimpleNamespace:
        """A new row of `model` with an id taken ahead, the columns not given at their
        defaults."""
        row = kind(**self.blanks[model])
        columns = vars(row)
        columns.update(values)
        columns["id"] = self.ids.take(model.__tablename__)
        self.rows[model].append(row)
        self.unwritten[(model, row.id)] = row
        return row

    def flush(self, behind: bool = False) -> None:
        """Write every row built so far (whole cases only: a case is not touched again).

        `behind` (PostgreSQL): the rows are copied by a thread of this process while the
        caller builds the next ones, and the server inserts them meanwhile; the next flush,
        or `settle()`, waits for them first. The connection's own lock keeps the caller's
        statements meanwhile (ids, a new organisation) out of the copies."""
        self.wait()
        rows = {model: rows for model, rows in self.rows.items() if rows}
        certificates = self._to_refresh(rows.get(Certificate, []))
        self.rows = {model: [] for model in TABLES}
        self.unwritten.clear()
        self.numbers.save()
        if self.ids.engine != "postgresql":
            for model, table_rows in rows.items():
                _insert_many(model.__table__, table_rows)
            refresh_honour(certificates)
            return
        connection = db.session.connection()
        note_write(connection)  # never committed as a read (database.configure_postgresql)
        driver = connection.connection.driver_connection
        if not behind:
            _copy_all(driver, rows)
            refresh_honour(certificates)
            return
        # As many ids as these rows took, taken before the copy holds the connection.
        for model, table_rows in rows.items():
            self.ids.reserve(model.__tablename__, len(table_rows))
        if self.copier is None:
            self.copier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-copy")
        self.copying = self.copier.submit(_copy_all, driver, rows)
        self.copied_certificates = certificates

    def _to_refresh(self, certificates: list[SimpleNamespace]) -> list[int]:
        """The new certificates whose honour flags need working out (their record and party
        are in this flush: it holds whole cases). One the list may not show (a person's who did
        not consent) is written unlisted and not the latest, which it stays, and changes no
        other certificate's flags: for a ledger of people, none."""
        to_refresh = []
        for certificate in certificates:
            record = self.unwritten[(IntegrityRecord, certificate.record_id)]
            if may_be_listed(self.unwritten[(Party, record.party_id)]):
                to_refresh.append(certificate.id)
        return to_refresh

    def wait(self) -> None:
        """Until the rows being copied behind are written (raising what their copy raised),
        and the honour flags of their certificates refreshed."""
        copying, self.copying = self.copying, None
        if copying is not None:
            copying.result()
            refresh_honour(self.copied_certificates)

    def settle(self) -> None:
        """Whatever happened meanwhile, no copy is left running on the connection (the
        caller's transaction is about to end): the copier thread is waited for and stopped.
        A copy that failed is the cause of what failed after it, and its error is raised;
        unless the transaction had failed before the copy began."""
        copying, self.copying = self.copying, None
        if self.copier is not None:
            self.copier.shutdown(wait=True)
            self.copier = None
        error = copying.exception() if copying is not None else None
        if error is not None and not isinstance(
            getattr(error, "orig", None), psycopg.errors.InFailedSqlTransaction
        ):
            raise error


def _copy_all(driver, rows: dict[type, list[SimpleNamespace]]) -> None:
    """Each table's rows, parents before children."""
    for model in TABLES:
        if model in rows:
            _copy(driver, model.__table__, rows[model])


def _foreign_key(model, relationship: str) -> str:
    """The column of a child row holding its parent's id, for the parent's `relationship`."""
    ((_parent_id, foreign_key),) = inspect(model).relationships[relationship].local_remote_pairs
    return foreign_key.key


def _blank_row(table: Table) -> dict:
    """A row of the table's scalar defaults, None where it has none. (A default SQLAlchemy
    computes, such as a time, the workflow gives: tests/test_bulk.py compares every column
    with what the session writes.)"""
    return {
        column.key: column.default.arg
        if column.default is not None and column.default.is_scalar
        else None
        for column in table.columns
        if not column.primary_key
    }


def _copy(driver, table: Table, rows: list[SimpleNamespace]) -> None:
    """PostgreSQL's COPY, the server's own bulk load, on the psycopg connection `driver`."""
    # Only datetimes and JSON need converting to what SQLAlchemy's bind processing would send.
    values = _converted(table, rows, _copy_converter)
    names = ", ".join(f'"{column.name}"' for column in _written(table))
    statement = f'COPY "{table.name}" ({names}) FROM STDIN'
    try:
        with (
            driver.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for row in values:
                copy.write_row(row)
    except psycopg.Error as error:
        # As SQLAlchemy would have raised it (IntegrityError, OperationalError, ...).
        raise DBAPIError.instance(statement, None, error, psycopg.Error) from error


def _insert_many(table: Table, rows: list[SimpleNamespace]) -> None:
    """SQLite: one executemany on the driver, each value converted by SQLAlchemy's own bind
    processor for its column (as SQLAlchemy's executemany would, without its per-row
    handling of parameters)."""
    dialect = db.session.get_bind().dialect
    values = _converted(
        table, rows, lambda column: column.type.dialect_impl(dialect).bind_processor(dialect)
    )
    columns = _written(table)
    names = ", ".join(f'"{column.name}"' for column in columns)
    marks = ", ".join("?" * len(columns))
    statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
    cursor = db.session.connection().connection.driver_connection.cursor()
    try:
        cursor.executemany(statement, values)
    except sqlite3.Error as error:
        # As SQLAlchemy would have raised it (IntegrityError, OperationalError, ...).
        raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error
    finally:
        cursor.close()


def _written(table: Table) -> list[Column]:
    """The table's columns but those the database fills in itself (a server default with no
    value of ours: case_event.txid, the writing transaction on PostgreSQL)."""
    return [
        column
        for column in table.columns
        if not (
            isinstance(column.server_default, FetchedValue)
            and not isinstance(column.server_default, DefaultClause)
        )
    ]


def _converted(table: Table, rows: list[SimpleNamespace], converter_of):
    """Each row's values in the table's column order, those of a column for which
    `converter_of(column)` gives a function passed through it."""
    columns = _written(table)
    values_of = itemgetter(*(column.key for column in columns))
    converters = [
        (position, converter)
        for position, column in enumerate(columns)
        if (converter := converter_of(column)) is not None
    ]
    for row in rows:
        values = list(values_of(vars(row)))
        for position, converter in converters:
            values[position] = converter(values[position])
        yield values


# One encoder for every value: json.dumps given an option builds an encoder per call.
_json_text = json.JSONEncoder(ensure_ascii=False).encode


def _copy_converter(column: Column):
    if isinstance(column.type, UTCDateTime):
        return lambda value: value and value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(column.type, JSON):
        return _json_text
    return None

"""Many cases at once, written as the workflow would have written them.

The ledger import and the scale generator replay years of history. Through `workflow`, one
case costs about 25 statements and 15 flushes; here each move builds in memory the rows the
workflow's move would have written — the same states, milestones, events with their details,
sessions, transfers, agreements, obligations, integrity records and certificates — and
`flush()` writes them table by table, one executemany each, with ids taken ahead from the
database. `tests/test_bulk.py` replays the same histories through `workflow` and compares
every row, so the two cannot drift apart.

Each move checks the `MOVES` table (state and role) as the workflow does; the callers check
their dates beforehand (the ledger checker does, the generator makes only valid ones).
Nothing is queued in the outbox: replayed history notifies nobody.
"""

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from operator import itemgetter

from flask_babel import gettext as _
from sqlalchemy import JSON, Column, Table, text
from sqlalchemy.exc import DBAPIError

from mediation.cases.models import (
    Agreement,
    Case,
    CaseEvent,
    Extension,
    FollowUp,
    MediationSession,
    Party,
    Transfer,
)
from mediation.cases.numbering import NumberBlock
from mediation.cases.states import State
from mediation.cases.workflow import (
    MOVES,
    OUTCOMES,
    Actor,
    IntakeData,
    WorkflowError,
    check_registration,
    event_details,
    intake_columns,
)
from mediation.database import UTCDateTime, note_write
from mediation.directory.calendar import WorkingCalendar, local_date
from mediation.directory.models import Centre, Mediator
from mediation.directory.settings import incentive_measures, mediation_periods, settings_for
from mediation.extensions import db
from mediation.integrity.models import Certificate, IntegrityRecord, Obligation
from mediation.integrity.records import (
    DEFAULT_AFTER_DAYS,
    POINTS_DEFAULT,
    certificate_number,
    negative_key,
    new_verification_code,
    points_for,
    positive_key,
    valid_until,
)

# Parents before children: the order rows are written in.
TABLES = (
    Case,
    Party,
    CaseEvent,
    MediationSession,
    Extension,
    Transfer,
    Agreement,
    Obligation,
    FollowUp,
    IntegrityRecord,
    Certificate,
)
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

    def _block(self, table: str) -> list[int]:
        size = self.size.get(table, FIRST_BLOCK)
        self.size[table] = min(size * 10, LARGEST_BLOCK)
        if self.engine == "postgresql":
            ids = db.session.scalars(
                text(f"select nextval({self._sequence(table)}) from generate_series(1, :n)"),
                {"n": size},
            ).all()
        else:
            if table not in self.last:
                self.last[table] = db.session.scalar(
                    text(f'select coalesce(max(id), 0) from "{table}"')
                )
            ids = list(range(self.last[table] + 1, self.last[table] + size + 1))
            self.last[table] = ids[-1]
        return sorted(ids, reverse=True)

    def _sequence(self, table: str) -> str:
        """PostgreSQL: the table's id sequence, written into the statement as a constant:
        looked up in the statement instead, it was looked up again for every id (nine times
        as long as taking the ids)."""
        if table not in self.sequences:
            name = db.session.scalar(
                text("select pg_get_serial_sequence(:table, 'id')"), {"table": table}
            )
            self.sequences[table] = "'{}'::regclass".format(name.replace("'", "''"))
        return self.sequences[table]


@dataclass
class BulkCase:
    """One case being written: its row and its children's rows, as plain dicts."""

    row: dict
    parties: list[dict]
    obligations: list[dict] = field(default_factory=list)
    agreement: dict | None = None
    certified: set[int] = field(default_factory=set)  # obligors with a positive record
    transfer_reason: str | None = None
    mediator: Mediator | None = None

    @property
    def id(self) -> int:
        return self.row["id"]

    @property
    def state(self) -> str:
        return self.row["state"]

    def party(self, role: str) -> dict:
        return next(p for p in self.parties if p["role"] == role)


@dataclass
class PlannedObligation:
    """An obligation of an agreement, between two parties given by their position."""

    obligor: int
    obligee: int
    description: str
    due_on: date
    amount: Decimal | None = None


class BulkWriter:
    """Writes the moves of many cases of one centre; call `flush()` between cases."""

    def __init__(self, centre: Centre, actor: Actor):
        self.centre = centre
        self.actor = actor
        self.settings = settings_for(centre.id)
        self.periods = mediation_periods(centre.id)
        self.measures = incentive_measures(centre.id)
        self.calendar = WorkingCalendar(centre.id)
        self.numbers = NumberBlock(centre)
        self.ids = IdBlocks()
        self.rows: dict[type, list[dict]] = {model: [] for model in TABLES}

    # --- writing ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Write every row built so far (whole cases only: a case is not touched again)."""
        for model in TABLES:
            rows = self.rows[model]
            if rows:
                if self.ids.engine == "postgresql":
                    _copy(model.__table__, rows)
                else:
                    _insert_many(model.__table__, rows)
                rows.clear()
        self.numbers.save()

    def _new(self, model, **values) -> dict:
        values["id"] = self.ids.take(model.__tablename__)
        self.rows[model].append(values)
        return values

    def _local(self, at: datetime) -> date:
        return local_date(at, self.centre)

    # --- the moves -------------------------------------------------------------------------

    def _check(self, case: BulkCase, action: str, actor: Actor):
        move = MOVES[action]
        if not move.roles & actor.roles:
            raise WorkflowError(_("Your role may not do this: %(action)s.", action=move.verb))
        if State(case.state) not in move.sources:
            raise WorkflowError(
                _(
                    "“%(action)s” is not possible while the case is “%(state)s”.",
                    action=move.verb,
                    state=State(case.state).label,
                )
            )
        return move

    def _apply(
        self,
        case: BulkCase,
        action: str,
        at: datetime,
        target: State | None = None,
        actor: Actor | None = None,
        **details,
    ) -> None:
        actor = actor or self.actor
        move = self._check(case, action, actor)
        row = case.row
        from_state = row["state"]
        new_state = target or move.target
        if new_state is not None:
            row["state"] = new_state.value
        row["version"] += 1
        if new_state in OUTCOMES and row["concluded_at"] is None:
            outcome = OUTCOMES[new_state]
            row["concluded_at"], row["concluded_on"], row["outcome"] = (
                at,
                self._local(at),
                outcome,
            )
            row["transfer_reason"] = case.transfer_reason if outcome == "transferred" else None
            row["concluded_organization_id"] = row["organization_id"]
            row["concluded_mediator_id"] = row["mediator_id"]
        self._event(case, action, from_state, at, actor, details)

    def _event(self, case, action, from_state, at, actor, details) -> None:
        self._new(
            CaseEvent,
            case_id=case.id,
            at=at,
            action=action,
            from_state=from_state,
            to_state=case.state,
            actor_id=_user_id(actor),
            actor_kind=actor.kind,
            actor_name=actor.name,
            details=event_details(details),
        )

    def register(
        self,
        data: IntakeData,
        at: datetime,
        ledger_ref: str | None = None,
        actor: Actor | None = None,
    ) -> BulkCase:
        actor = actor or self.actor
        check_registration(self.centre, data, actor)
        registered_on = self._local(at)
        seq, number = self.numbers.issue(registered_on.year)
        columns, triage_days = intake_columns(data, self.settings)
        row = self._new(
            Case,
            centre_id=self.centre.id,
            number=number,
            year=registered_on.year,
            seq=seq,
            ledger_ref=ledger_ref,
            intake_token=None,
            state=State.REGISTERED.value,
            version=1,
            **columns,
            registered_at=at,
            registered_on=registered_on,
            registered_by_id=_user_id(actor),
            triage_due_on=self.calendar.add_working_days(registered_on, triage_days),
            organization_id=None,
            mediator_id=None,
            routed_at=None,
            routed_on=None,
            deadline_on=None,
            extension_days=0,
            warned_at=None,
            triage_warned_at=None,
            concluded_at=None,
            concluded_on=None,
            outcome=None,
            transfer_reason=None,
            concluded_organization_id=None,
            concluded_mediator_id=None,
        )
        parties = [
            self._new(
                Party,
                case_id=row["id"],
                position=position,
                **item.__dict__,
                # Nobody was ever given a code for replayed history: staff issue one (a new
                # access code) when a party asks; until then no code opens the case.
                access_code_hash="",
                access_code_issued_at=None,
                honour_consent=False,
                sms_opt_out=False,
            )
            for position, item in enumerate(data.parties)
        ]
        case = BulkCase(row, parties)
        self._event(
            case, "register", None, at, actor, {"number": number, "risk": row["risk_level"]}
        )
        return case

    def route(
        self, case: BulkCase, mediator: Mediator, at: datetime, actor: Actor | None = None
    ) -> None:
        row = case.row
        self._hand_to(case, mediator)
        row["routed_at"], row["routed_on"] = at, self._local(at)
        row["deadline_on"] = row["routed_on"] + timedelta(days=self.periods[row["category_code"]])
        self._apply(
            case,
            "route",
            at,
            actor=actor,
            organization=mediator.organization.name,
            mediator=mediator.name,
            deadline_on=row["deadline_on"],
        )

    def _hand_to(self, case: BulkCase, mediator: Mediator) -> None:
        case.row["organization_id"], case.row["mediator_id"] = mediator.organization_id, mediator.id
        case.mediator = mediator

    def reassign(
        self,
        case: BulkCase,
        mediator: Mediator,
        reason: str,
        at: datetime,
        actor: Actor | None = None,
    ) -> None:
        self._check(case, "reassign", actor or self.actor)
        previous = case.mediator.name if case.mediator else ""
        self._hand_to(case, mediator)
        self._apply(
            case,
            "reassign",
            at,
            actor=actor,
            previous=previous,
            mediator=mediator.name,
            organization=mediator.organization.name,
            reason=reason,
        )

    def record_session(
        self,
        case: BulkCase,
        held_at: datetime,
        at: datetime,
        place: str = "",
        is_online: bool = False,
        attendance: str = "",
        minutes: str = "",
        actor: Actor | None = None,
    ) -> None:
        actor = actor or self.actor
        self._check(case, "record_session", actor)
        self._new(
            MediationSession,
            case_id=case.id,
            held_at=held_at,
            place=place,
            is_online=is_online,
            attendance=attendance,
            minutes=minutes,
            recorded_by_id=_user_id(actor),
            recorded_at=at,
        )
        self._apply(
            case,
            "record_session",
            at,
            actor=actor,
            held_at=held_at,
            place=place or None,
            online=is_online or None,
        )

    def extend(
        self,
        case: BulkCase,
        days: int,
        consents: list[str],
        reason: str,
        at: datetime,
        actor: Actor | None = None,
    ) -> None:
        """An extension with each party's consent (`consents` by party position)."""
        self._check(case, "extend", actor or self.actor)
        row, settings = case.row, self.settings
        if not settings.extensions_allowed:
            raise WorkflowError(_("This centre does not allow extensions."), "days")
        remaining = settings.extension_max_days - row["extension_days"]
        if days < 1 or days > remaining:
            raise WorkflowError(
                _("The extension must be between 1 and %(n)d days.", n=max(remaining, 0)), "days"
            )
        previous = row["deadline_on"]
        row["deadline_on"] = previous + timedelta(days=days)
        row["extension_days"] += days
        row["warned_at"] = None
        self._new(
            Extension,
            case_id=case.id,
            days=days,
            reason=reason,
            previous_deadline_on=previous,
            deadline_on=row["deadline_on"],
            consents={
                str(party["id"]): consent
                for party, consent in zip(case.parties, consents, strict=True)
            },
            at=at,
        )
        self._apply(
            case,
            "extend",
            at,
            actor=actor,
            days=days,
            deadline_on=row["deadline_on"],
            reason=reason,
        )

    def agree(
        self,
        case: BulkCase,
        signed_on: date,
        terms: str,
        obligations: list[PlannedObligation],
        at: datetime,
        actor: Actor | None = None,
    ) -> None:
        self._check(case, "agree", actor or self.actor)
        case.agreement = self._new(
            Agreement,
            case_id=case.id,
            signed_on=signed_on,
            terms=terms,
            confirmation_court=None,
            confirmation_ruling=None,
            confirmed_on=None,
        )
        for item in obligations:
            case.obligations.append(
                self._new(
                    Obligation,
                    case_id=case.id,
                    agreement_id=case.agreement["id"],
                    obligor_id=case.parties[item.obligor]["id"],
                    obligee_id=case.parties[item.obligee]["id"],
                    description=item.description,
                    amount=item.amount,
                    due_on=item.due_on,
                    fulfilled_on=None,
                    defaulted_at=None,
                    is_voluntary=None,
                    reminded_at=None,
                )
            )
        target = State.AGREED if obligations else State.FULFILLED
        self._apply(
            case,
            "agree",
            at,
            target=target,
            actor=actor,
            signed_on=signed_on,
            obligations=len(obligations),
        )

    def confirm(
        self,
        case: BulkCase,
        court: str,
        ruling: str,
        confirmed_on: date,
        at: datetime,
        actor: Actor | None = None,
    ) -> None:
        self._check(case, "confirm", actor or self.actor)
        agreement = case.agreement
        agreement["confirmation_court"], agreement["confirmation_ruling"] = court, ruling
        agreement["confirmed_on"] = confirmed_on
        self._apply(
            case, "confirm", at, actor=actor, court=court, ruling=ruling, confirmed_on=confirmed_on
        )

    def default(self, case: BulkCase, at: datetime, actor: Actor | None = None) -> None:
        today = self._local(at)
        overdue = [o for o in case.obligations if o["fulfilled_on"] is None and o["due_on"] < today]
        if not overdue:
            raise WorkflowError(_("No obligation of this case is overdue."))
        for obligation in overdue:
            obligation["defaulted_at"] = obligation["defaulted_at"] or at
        self._apply(
            case, "default", at, actor=actor, obligations=[o["description"] for o in overdue]
        )

    def record_negative(self, case: BulkCase, obligation: dict, at: datetime) -> None:
        """The obligation sweep's −20 record, 30 days after an unmet due date."""
        today = self._local(at)
        if obligation["fulfilled_on"] is not None:
            return
        if (today - obligation["due_on"]).days < DEFAULT_AFTER_DAYS:
            return
        party = next(p for p in case.parties if p["id"] == obligation["obligor_id"])
        self._new(
            IntegrityRecord,
            centre_id=self.centre.id,
            case_id=case.id,
            party_id=party["id"],
            obligation_id=obligation["id"],
            kind="negative",
            points=POINTS_DEFAULT,
            reason=obligation["description"][:200],
            identity_key=party["id_number"] or party["credit_code"] or None,
            dedupe_key=negative_key(obligation["id"]),
            created_at=at,
            created_on=today,
        )

    def fulfil(
        self,
        case: BulkCase,
        obligation: dict,
        performed_on: date,
        at: datetime,
        actor: Actor | None = None,
    ) -> None:
        self._check(case, "fulfil", actor or self.actor)
        if obligation["fulfilled_on"] is not None:
            raise WorkflowError(_("This obligation is already recorded as performed."))
        obligation["fulfilled_on"] = performed_on
        remaining = [o for o in case.obligations if o["fulfilled_on"] is None]
        self._apply(
            case,
            "fulfil",
            at,
            target=State.AGREED if remaining else State.FULFILLED,
            actor=actor,
            obligation=obligation["description"],
            performed_on=performed_on,
            on_time=performed_on <= obligation["due_on"],
        )
        self._certify(case, obligation["obligor_id"], at)

    def _certify(self, case: BulkCase, obligor_id: int, at: datetime) -> None:
        """As `issue_for_performance`: a certificate once all the obligor owes is performed,
        each on time."""
        owed = [o for o in case.obligations if o["obligor_id"] == obligor_id]
        if any(o["fulfilled_on"] is None or o["fulfilled_on"] > o["due_on"] for o in owed):
            return
        if obligor_id in case.certified:
            return
        case.certified.add(obligor_id)
        party = next(p for p in case.parties if p["id"] == obligor_id)
        issued_on = self._local(at)
        points = sum(points_for(o["fulfilled_on"], o["due_on"]) for o in owed)
        record = self._new(
            IntegrityRecord,
            centre_id=self.centre.id,
            case_id=case.id,
            party_id=obligor_id,
            obligation_id=None,
            kind="positive",
            points=points,
            reason="、".join(o["description"] for o in owed)[:200],
            identity_key=party["id_number"] or party["credit_code"] or None,
            dedupe_key=positive_key(case.id, obligor_id),
            created_at=at,
            created_on=issued_on,
        )
        self._new(
            Certificate,
            record_id=record["id"],
            centre_id=self.centre.id,
            number=certificate_number(self.centre, issued_on, record["id"]),
            verification_code=new_verification_code(),
            holder_name=party["name"],
            issued_on=issued_on,
            valid_until=valid_until(issued_on),
            points=points,
            measures=self.measures,
            revoked_at=None,
            revoked_reason=None,
            revoked_by_id=None,
        )

    def withdraw(
        self, case: BulkCase, reason: str, at: datetime, actor: Actor | None = None
    ) -> None:
        self._apply(case, "withdraw", at, actor=actor, reason=reason)

    def transfer(
        self,
        case: BulkCase,
        action: str,
        reason: str,
        at: datetime,
        court: str = "",
        undisputed_facts: str = "",
        documents: str = "",
        actor: Actor | None = None,
        **details,
    ) -> None:
        """divert, fail, request_litigation, expire or enforce: a transfer to litigation."""
        self._check(case, action, actor or self.actor)
        self._new(
            Transfer,
            case_id=case.id,
            reason=reason,
            court=court,
            undisputed_facts=undisputed_facts,
            documents=documents,
            transferred_on=self._local(at),
            filing_number=None,
        )
        case.transfer_reason = reason
        self._apply(case, action, at, actor=actor, reason=reason, court=court, **details)

    def follow_up(
        self,
        case: BulkCase,
        is_satisfied: bool,
        note: str,
        at: datetime,
        actor: Actor | None = None,
    ) -> None:
        actor = actor or self.actor
        self._check(case, "follow_up", actor)
        self._new(
            FollowUp,
            case_id=case.id,
            visited_on=self._local(at),
            is_satisfied=is_satisfied,
            note=note,
            recorded_by_id=_user_id(actor),
            recorded_at=at,
        )
        self._apply(case, "follow_up", at, actor=actor, satisfied=is_satisfied, note=note)


def _user_id(actor: Actor) -> int | None:
    return actor.user.id if actor.user else None


def _copy(table: Table, rows: list[dict]) -> None:
    """PostgreSQL's COPY: several times faster than INSERTs, even batched ones."""
    # Only datetimes and JSON need converting to what SQLAlchemy's bind processing would send.
    values = _converted(table, rows, _copy_converter)
    names = ", ".join(f'"{column.name}"' for column in table.columns)
    connection = db.session.connection()
    note_write(connection)  # never committed as a read (database.configure_postgresql)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in values:
            copy.write_row(row)


def _insert_many(table: Table, rows: list[dict]) -> None:
    """SQLite: one executemany on the driver, each value converted by SQLAlchemy's own bind
    processor for its column. Through SQLAlchemy, building each row's parameters took longer
    than SQLite took to insert it."""
    dialect = db.session.get_bind().dialect
    values = _converted(
        table, rows, lambda column: column.type.dialect_impl(dialect).bind_processor(dialect)
    )
    names = ", ".join(f'"{column.name}"' for column in table.columns)
    marks = ", ".join("?" * len(table.columns))
    statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
    cursor = db.session.connection().connection.driver_connection.cursor()
    try:
        cursor.executemany(statement, values)
    except sqlite3.Error as error:
        # As SQLAlchemy would have raised it (IntegrityError, OperationalError, ...).
        raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error
    finally:
        cursor.close()


def _converted(table: Table, rows: list[dict], converter_of):
    """Each row's values in the table's column order, those of a column for which
    `converter_of(column)` gives a function passed through it."""
    columns = list(table.columns)
    values_of = itemgetter(*(column.key for column in columns))
    converters = [
        (position, converter)
        for position, column in enumerate(columns)
        if (converter := converter_of(column)) is not None
    ]
    for row in rows:
        values = list(values_of(row))
        for position, converter in converters:
            values[position] = converter(values[position])
        yield values


def _copy_converter(column: Column):
    if isinstance(column.type, UTCDateTime):
        return lambda value: value and value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(column.type, JSON):
        return lambda value: json.dumps(value, ensure_ascii=False)
    return None

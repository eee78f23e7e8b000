"""The ledger import (SPEC 5): check every row, then replay each case through the workflow
with the ledger's dates, all in the caller's one transaction. Cases are replayed, and numbered,
in the order they were registered, whatever the order of the ledger's rows.

All-or-nothing: when any row has a problem nothing is written (the session is rolled back) and
every problem is returned as (row, column, message). A dry run checks and replays the same way
and then rolls back. The caller commits a successful import.

Times of day (the ledger has dates only), in the centre's time zone: registered 09:00, routed
10:00, the session recorded from the ledger 14:00 and the conclusion 15:00 of concluded_on, the
judicial confirmation 16:00 of confirmed_on, the performance 17:00 of fulfilled_on; a default
(the obligation sweep's work) at 01:00 the day after the due date, and the negative integrity
record at 01:00 thirty days after it.

Choices the SPEC leaves open: a party whose name looks like an organisation's (公司, 委员会,
银行 ...) is imported as an organisation, every other one as a natural person; an assigned row
without a mediator goes to the organisation's placeholder mediator "（台账未载明）" (active, with
a caseload of 0, so triage never suggests it), created when first needed and reported;
--create-missing creates organisations of kind `people` and active mediators.
"""

import heapq
import pickle
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from operator import attrgetter
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from sqlalchemy import select

from mediation import clock
from mediation.auth.models import User
from mediation.cases import workflow as wf
from mediation.cases.bulk import BulkCase, BulkWriter
from mediation.cases.models import Case, Party
from mediation.cases.states import TRANSFER_REASONS
from mediation.cases.workflow import Actor, IntakeData, ObligationData, PartyData, WorkflowError
from mediation.database import bulk_page_cache, commit_keeping_loaded
from mediation.directory.calendar import local_date
from mediation.directory.models import Centre, Mediator, Organization
from mediation.directory.settings import mediation_periods
from mediation.directory.terms import CATEGORY_NAMES_ZH, CHANNEL_NAMES_ZH
from mediation.extensions import db
from mediation.integrity.models import IntegrityRecord
from mediation.integrity.records import default_record
from mediation.ledger.reader import COLUMNS, Problem, read_ledger
from mediation.web.language import gettext as _
from mediation.web.sheets import NoSuchDate, NotADate, sheet_date

NOT_RECORDED = "（台账未载明）"
SESSION_PLACE = "台账导入"
PROGRESS_EVERY = 1000
# The rows sorted in memory at a time, for the order of replay.
RUN_ROWS = 20_000
# The two passes over the file, as progress reports them.
READING, WRITING = "reading", "writing"
OUTCOMES_ZH = {"agreed": "调解成功", "transferred": "转诉讼", "withdrawn": "撤回"}
REASONS_ZH = {
    "unsuitable": "不适宜调解",
    "respondent_refused": "被申请人拒绝调解",
    "failed": "调解不成",
    "party_request": "当事人申请诉讼",
    "deadline_expired": "调解期限届满",
    "enforcement": "申请强制执行",
}
# Transfers of a case that was never assigned (divert), and of one that was (SPEC 5).
DIVERTED = ("unsuitable", "respondent_refused")
MEDIATED = ("failed", "party_request", "deadline_expired")
ORGANIZATION_WORDS = re.compile(
    r"公司|集团|委员会|银行|医院|学校|大学|中心|局|厂|店|社|所|协会|村委|居委|物业|合作社"
)
NAME_SEPARATORS = re.compile(r"[、;；]")
DATE_COLUMNS = ("registered_on", "assigned_on", "concluded_on", "due_on", "fulfilled_on")
HOURS = {"register": 9, "route": 10, "session": 14, "conclude": 15, "confirm": 16, "fulfil": 17}
# The longest text each column's database column holds.
MAX_LENGTHS = {
    "ref": Case.__table__.c.ledger_ref.type.length,
    "applicant": Party.__table__.c.name.type.length,
    "respondent": Party.__table__.c.name.type.length,
    "organization": Organization.__table__.c.name.type.length,
    "mediator": Mediator.__table__.c.name.type.length,
}


@dataclass
class LedgerRow:
    line: int
    ref: str
    registered_on: date
    channel: str
    category: str
    applicants: list[str]
    respondents: list[str]
    amount: Decimal | None = None
    summary: str = ""
    organization: str = ""
    mediator: str = ""
    assigned_on: date | None = None
    outcome: str = ""
    transfer_reason: str = ""
    concluded_on: date | None = None
    agreement_amount: Decimal | None = None
    due_on: date | None = None
    fulfilled_on: date | None = None
    confirmed_on: date | None = None


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    created_organizations: list[str] = field(default_factory=list)
    created_mediators: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def import_ledger(
    centre: Centre,
    data: bytes,
    user: User | None = None,
    dry_run: bool = False,
    create_missing: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    ledger_import_id: int | None = None,
    max_rows: int | None = None,
    free_while_reading: bool = False,
) -> ImportResult:
    """Check and import a ledger file into `centre`; the cases record `ledger_import_id`, the
    upload that created them. Raises LedgerFileError when the file cannot be read at all, or
    has more than `max_rows` rows (default: the LEDGER_MAX_ROWS setting). On success (and not
    a dry run) the caller commits; otherwise the session has been rolled back.

    The file is read once, a row at a time, never held whole: every row is checked
    (`progress(READING, rows read, 0)`) and kept, parsed, in a temporary file; then, when none
    has a problem, each is replayed from there in the order the cases were registered
    (`progress(WRITING, rows replayed, rows to replay)`). With `free_while_reading`
    (the job process, whose session has written nothing yet) the session's transaction ends
    before the first reading, so that SQLite's single write lock stays free meanwhile."""
    sheet = read_ledger(data, max_rows)
    if sheet.problems:
        return ImportResult(dry_run=dry_run, problems=list(sheet.problems))
    existing = set(
        db.session.scalars(
            select(Case.ledger_ref).where(Case.centre_id == centre.id, Case.ledger_ref.is_not(None))
        )
    )
    checker = _Checker(centre, sheet.headers, create_missing)
    if free_while_reading:
        commit_keeping_loaded()
    result = ImportResult(dry_run=dry_run)
    with tempfile.TemporaryFile() as checked:
        todo, runs = _check(sheet, checker, existing, result, checked, progress)
        result.problems = checker.problems
        if result.problems:
            return result
        if progress:
            progress(WRITING, 0, todo)
        replay = _Replay(
            centre, Actor.ledger_import(user), checker.headers, create_missing, ledger_import_id
        )
        # The rows' rules again, with the directory and settings as they are now: a change
        # meanwhile is a problem of its row.
        rechecker = _Checker(centre, sheet.headers, create_missing)
        done = 0
        with bulk_page_cache():
            try:
                for row in _checked_rows(checked, runs):
                    if not rechecker.recheck(row):
                        continue
                    replay.run(row)
                    done += 1
                    if done % PROGRESS_EVERY == 0:
                        # The next rows are replayed while the server inserts these.
                        replay.writer.flush(behind=True)
                        if progress:
                            progress(WRITING, done, todo)
                replay.writer.flush()
            finally:
                replay.writer.settle()
        if progress and done % PROGRESS_EVERY:
            progress(WRITING, done, todo)
    # Replayed in the order of registration, reported in the ledger's.
    result.problems = sorted(rechecker.problems + replay.problems, key=attrgetter("row"))
    result.created = done - len({p.row for p in replay.problems})
    result.created_organizations = replay.created_organizations
    result.created_mediators = replay.created_mediators
    if result.problems or dry_run:
        db.session.rollback()
    if result.problems:
        result.created = 0
    return result


def _check(sheet, checker: "_Checker", existing: set[str], result: ImportResult, checked, progress):
    """The first reading: every row checked (its problems in `checker`), and while none has a
    problem, the rows to replay written to the file `checked` in runs of RUN_ROWS, each in
    the order of replay (the file is read once, and a large ledger is never held whole).
    Returns how many rows to replay and where each run starts and ends in the file."""
    todo, run, runs = 0, [], []
    for line, values in sheet.rows():
        result.rows += 1
        row = checker.parse(line, values)
        if row is not None and row.ref in existing:
            result.skipped += 1
        elif row is not None:
            todo += 1
            if not checker.problems:  # with a problem nothing is replayed
                run.append(row)
        if len(run) == RUN_ROWS:
            runs.append(_write_run(run, checked))
        if result.rows % PROGRESS_EVERY == 0 and progress:
            progress(READING, result.rows, 0)
    if run and not checker.problems:
        runs.append(_write_run(run, checked))
    return todo, runs


def _replay_order(row: "LedgerRow") -> tuple[date, int]:
    """Cases are replayed in the order they were registered (then as the ledger lists them):
    they are numbered so, and each index of dates takes them in a moving window of its pages,
    as the centre wrote them, wherever the ledger's rows jump in time."""
    return row.registered_on, row.line


def _write_run(run: list["LedgerRow"], checked) -> tuple[int, int]:
    """Writes `run` to `checked` in the order of replay, PROGRESS_EVERY rows a pickle, and
    empties it; where it starts and ends in the file."""
    run.sort(key=_replay_order)
    start = checked.tell()
    for first in range(0, len(run), PROGRESS_EVERY):
        pickle.dump(run[first : first + PROGRESS_EVERY], checked, pickle.HIGHEST_PROTOCOL)
    run.clear()
    return start, checked.tell()


def _checked_rows(checked, runs: list[tuple[int, int]]) -> Iterator["LedgerRow"]:
    """The rows `_check` wrote, its runs merged in the order of replay (a pickle of each run
    in memory at a time)."""
    return heapq.merge(*(_run_rows(checked, *run) for run in runs), key=_replay_order)


def _run_rows(checked, start: int, end: int) -> Iterator["LedgerRow"]:
    while start < end:
        checked.seek(start)  # the runs are read in turn from the one file
        batch = pickle.load(checked)
        start = checked.tell()
        yield from batch


# --- checking --------------------------------------------------------------------------------


@dataclass
class CheckedLedger:
    """A ledger's rows as checked: those without problems, parsed, and every problem."""

    total: int  # rows in the file
    rows: list[LedgerRow]
    headers: dict[str, str]
    problems: list[Problem]


def check_ledger(centre: Centre, data: bytes, create_missing: bool = False) -> CheckedLedger:
    """Read and check every row of a ledger file for `centre`, writing nothing, and keep the
    parsed rows (for a small ledger: import_ledger keeps none). Raises LedgerFileError when
    the file cannot be read at all."""
    sheet = read_ledger(data)
    if sheet.problems:
        return CheckedLedger(0, [], sheet.headers, list(sheet.problems))
    checker = _Checker(centre, sheet.headers, create_missing)
    parsed = [checker.parse(line, values) for line, values in sheet.rows()]
    rows = [row for row in parsed if row is not None]
    return CheckedLedger(len(parsed), rows, checker.headers, checker.problems)


def _directory(centre: Centre) -> tuple[dict, dict]:
    """The centre's organisations by name and mediators by (organisation, name)."""
    organizations = {
        o.name: o
        for o in db.session.scalars(select(Organization).where(Organization.centre_id == centre.id))
    }
    mediators = {
        (m.organization_id, m.name): m
        for m in db.session.scalars(select(Mediator).where(Mediator.centre_id == centre.id))
    }
    return organizations, mediators


class _Checker:
    def __init__(self, centre: Centre, headers: dict[str, str], create_missing: bool):
        self.centre = centre
        self.headers = headers
        self.create_missing = create_missing
        self.problems: list[Problem] = []
        self.refs: dict[str, int] = {}
        self.today = local_date(clock.now(), centre)
        self.organizations, self.mediators = _directory(centre)
        self.periods = mediation_periods(centre.id)
        self.channels = _vocabulary(CHANNEL_NAMES_ZH)
        self.categories = _vocabulary(CATEGORY_NAMES_ZH)
        self.outcomes = _vocabulary(OUTCOMES_ZH)
        self.reasons = _vocabulary({code: REASONS_ZH[code] for code in TRANSFER_REASONS})

    def problem(self, line: int, column: str, message: str) -> None:
        self.problems.append(Problem(line, self.headers.get(column, column), message))

    def parse(self, line: int, values: dict) -> LedgerRow | None:
        before = len(self.problems)
        text = {name: _text(values.get(name)) for name in COLUMNS}
        for name in ("ref", "registered_on", "channel", "category", "applicant", "respondent"):
            if not text[name]:
                self.problem(line, name, _("This column must be filled in."))
        dates = {name: self._date(line, name, values.get(name)) for name in DATE_COLUMNS}
        dates["confirmed_on"] = self._date(line, "confirmed_on", values.get("confirmed_on"))
        row = LedgerRow(
            line=line,
            ref=text["ref"],
            registered_on=dates["registered_on"],
            channel=self._term(line, "channel", text["channel"], self.channels),
            category=self._term(line, "category", text["category"], self.categories),
            applicants=_names(text["applicant"]),
            respondents=_names(text["respondent"]),
            amount=self._money(line, "amount", values.get("amount")),
            summary=text["summary"],
            organization=text["organization"],
            mediator=text["mediator"],
            assigned_on=dates["assigned_on"],
            outcome=self._term(line, "outcome", text["outcome"], self.outcomes),
            transfer_reason=self._term(
                line, "transfer_reason", text["transfer_reason"], self.reasons
            ),
            concluded_on=dates["concluded_on"],
            agreement_amount=self._money(line, "agreement_amount", values.get("agreement_amount")),
            due_on=dates["due_on"],
            fulfilled_on=dates["fulfilled_on"],
            confirmed_on=dates["confirmed_on"],
        )
        texts = {
            "ref": [row.ref],
            "applicant": row.applicants,
            "respondent": row.respondents,
            "organization": [row.organization],
            "mediator": [row.mediator],
        }
        for name, limit in MAX_LENGTHS.items():
            if any(len(value) > limit for value in texts[name]):
                self.problem(line, name, _("At most %(n)d characters.", n=limit))
        if row.ref:
            if row.ref in self.refs:
                self.problem(
                    line,
                    "ref",
                    _("The same ref is in row %(row)d already.", row=self.refs[row.ref]),
                )
            else:
                self.refs[row.ref] = line
        if len(self.problems) == before:
            self._rules(row)
            self._directory(row)
        return row if len(self.problems) == before else None

    def recheck(self, row: LedgerRow) -> bool:
        """Check a parsed row again where the database has a say (the directory, the
        mediation periods); whether it has no problem."""
        before = len(self.problems)
        self._rules(row)
        self._directory(row)
        return len(self.problems) == before

    def _rules(self, row: LedgerRow) -> None:
        """The rules between columns (SPEC 5)."""
        line, registered = row.line, row.registered_on
        if row.organization and row.assigned_on is None:
            self.problem(line, "assigned_on", _("Give the date the case was assigned."))
        if row.assigned_on and not row.organization:
            self.problem(line, "organization", _("Give the organisation the case went to."))
        if row.mediator and not row.organization:
            self.problem(line, "organization", _("Give the organisation of the mediator."))
        if row.assigned_on and row.assigned_on < registered:
            self.problem(
                line, "assigned_on", _("This date cannot be before the registration date.")
            )
        if row.outcome and row.concluded_on is None:
            self.problem(line, "concluded_on", _("A case with an outcome needs its date."))
        if row.concluded_on and not row.outcome:
            self.problem(line, "outcome", _("A conclusion date needs an outcome."))
        if row.concluded_on:
            start = row.assigned_on or registered
            if row.concluded_on < start:
                self.problem(
                    line,
                    "concluded_on",
                    _("This date cannot be before the registration or assignment date."),
                )
        if row.outcome == "transferred" and not row.transfer_reason:
            self.problem(line, "transfer_reason", _("Give the reason for the transfer."))
        if row.transfer_reason and row.outcome != "transferred":
            self.problem(line, "transfer_reason", _("Only a transferred case has this reason."))
        assigned = bool(row.organization)
        if row.outcome == "agreed" and not assigned:
            self.problem(line, "organization", _("An agreed case must have been assigned."))
        if row.outcome == "transferred":
            self._transfer_rules(row, assigned)
        self._agreement_rules(row)

    def _transfer_rules(self, row: LedgerRow, assigned: bool) -> None:
        reason = row.transfer_reason
        if reason in MEDIATED and not assigned:
            self.problem(
                row.line,
                "organization",
                _("A case transferred for this reason must have been assigned."),
            )
        if reason in DIVERTED and assigned:
            self.problem(
                row.line,
                "organization",
                _("A case diverted for this reason was never assigned: leave this empty."),
            )
        if reason == "enforcement":
            self.problem(
                row.line,
                "transfer_reason",
                _("An enforcement transfer cannot be imported; import the case as agreed."),
            )
        if reason == "deadline_expired" and assigned and row.concluded_on and row.assigned_on:
            deadline = row.assigned_on + timedelta(days=self.periods[row.category])
            if row.concluded_on <= deadline:
                self.problem(
                    row.line,
                    "concluded_on",
                    _(
                        "The mediation period ran until %(deadline)s; the case cannot have "
                        "expired before.",
                        deadline=deadline.isoformat(),
                    ),
                )

    def _agreement_rules(self, row: LedgerRow) -> None:
        line = row.line
        for name in ("agreement_amount", "due_on", "fulfilled_on", "confirmed_on"):
            if getattr(row, name) is not None and row.outcome != "agreed":
                self.problem(line, name, _("Only an agreed case has this column."))
                return
        if row.outcome != "agreed" or row.concluded_on is None:
            return
        for name in ("due_on", "fulfilled_on", "confirmed_on"):
            value = getattr(row, name)
            if value is not None and value < row.concluded_on:
                self.problem(line, name, _("This date cannot be before the conclusion date."))
        if row.fulfilled_on and row.due_on is None:
            self.problem(line, "due_on", _("A performance needs the due date of the obligation."))

    def _directory(self, row: LedgerRow) -> None:
        if not row.organization:
            return
        organization = self.organizations.get(row.organization)
        if organization is None:
            if not self.create_missing:
                self.problem(
                    row.line,
                    "organization",
                    _("No organisation of this centre is named %(name)s.", name=row.organization),
                )
            return
        if not organization.is_active:
            self.problem(row.line, "organization", _("This organisation is not active."))
            return
        if not row.mediator:
            return
        mediator = self.mediators.get((organization.id, row.mediator))
        if mediator is None and not self.create_missing:
            self.problem(
                row.line,
                "mediator",
                _(
                    "%(organization)s has no mediator named %(name)s.",
                    organization=organization.name,
                    name=row.mediator,
                ),
            )
        elif mediator is not None and not mediator.is_active:
            self.problem(
                row.line,
                "mediator",
                _("This mediator is not active; activate them for the import."),
            )

    def _date(self, line: int, name: str, value) -> date | None:
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            day = value.date()
        elif isinstance(value, date):
            day = value
        elif not str(value).strip():
            return None
        else:
            try:
                day = sheet_date(str(value))
            except NotADate:
                self.problem(
                    line, name, _("Write the date as YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日.")
                )
                return None
            except NoSuchDate as error:
                self.problem(line, name, str(error))
                return None
        # Everything else has happened; a performance may still be due.
        if day > self.today and name != "due_on":
            self.problem(line, name, _("This date is in the future."))
            return None
        return day

    def _money(self, line: int, name: str, value) -> Decimal | None:
        text = _text(value).replace(",", "").replace("，", "").removesuffix("元").strip()
        if not text:
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation:
            self.problem(line, name, _("Write an amount in yuan, e.g. 12000.50."))
            return None
        if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
            self.problem(line, name, _("Write an amount in yuan, e.g. 12000.50."))
            return None
        return amount.quantize(Decimal("0.01"))

    def _term(self, line: int, name: str, text: str, vocabulary: dict[str, str]) -> str:
        if not text:
            return ""
        code = vocabulary.get(text) or vocabulary.get(text.lower())
        if code is None:
            self.problem(
                line,
                name,
                _(
                    "Unknown value %(value)s; use a code or a Chinese name: %(choices)s.",
                    value=text,
                    choices=_choices(vocabulary),
                ),
            )
            return ""
        return code


def _choices(vocabulary: dict[str, str]) -> str:
    """The values a column takes, for a message in the user's language: the Chinese names in
    Chinese, else each code with its Chinese name."""
    codes = set(vocabulary.values())
    names = {code: name for name, code in vocabulary.items() if name not in codes}
    if get_locale().language == "zh":
        return "、".join(names.values())
    return ", ".join(f"{code} ({name})" for code, name in names.items())


def _vocabulary(names_zh: dict[str, str]) -> dict[str, str]:
    """Code or Chinese name → code."""
    return {**{code: code for code in names_zh}, **{zh: code for code, zh in names_zh.items()}}


def _names(text: str) -> list[str]:
    return [name.strip() for name in NAME_SEPARATORS.split(text) if name.strip()]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an XLSX number cell: 2021001.0 is the ref 2021001
    return str(value).strip()


# --- replaying -------------------------------------------------------------------------------


class _Replay:
    def __init__(
        self,
        centre: Centre,
        actor: Actor,
        headers: dict[str, str],
        create_missing: bool,
        ledger_import_id: int | None,
    ):
        self.centre = centre
        self.actor = actor
        self.headers = headers
        self.create_missing = create_missing
        self.zone = ZoneInfo(centre.timezone)
        self.today = local_date(clock.now(), centre)
        self.problems: list[Problem] = []
        self.created_organizations: list[str] = []
        self.created_mediators: list[str] = []
        self.organizations, self.mediators = _directory(centre)
        self.writer = BulkWriter(centre)
        self.rules = self.writer.rules
        self.ledger_import_id = ledger_import_id

    def at(self, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=self.zone).astimezone(UTC)

    def run(self, row: LedgerRow) -> None:
        try:
            self._replay(row)
        except WorkflowError as error:
            column = {"signed_on": "concluded_on", "performed_on": "fulfilled_on"}.get(
                error.field or "", error.field or ""
            )
            self.problems.append(
                Problem(
                    row.line,
                    self.headers.get(column, column if column in COLUMNS else ""),
                    str(error),
                )
            )

    def _replay(self, row: LedgerRow) -> None:
        parties = [PartyData("applicant", _kind(n), n) for n in row.applicants] + [
            PartyData("respondent", _kind(n), n) for n in row.respondents
        ]
        intake = IntakeData(
            channel_code=row.channel,
            category_code=row.category,
            parties=parties,
            amount=row.amount,
            summary=row.summary,
        )
        at = self.at(row.registered_on, HOURS["register"])
        plan = wf.decide_registration(self.rules, intake, self.actor, at=at)
        case = self.writer.register(
            plan, ledger_ref=row.ref, ledger_import_id=self.ledger_import_id
        )
        if row.organization:
            organization = self._organization(row.organization)
            mediator = self._mediator(organization, row.mediator)
            at = self.at(row.assigned_on, HOURS["route"])
            self._apply(case, wf.decide_route, organization, mediator, self.actor, at=at)
        if row.outcome:
            self._conclude(case, row)

    def _apply(self, case: BulkCase, decide: Callable, *args, at: datetime, **kwargs) -> None:
        """Decide a move as the workflow decides it, with the centre's rules, and write it."""
        change = decide(case, *args, self.rules, at=at, **kwargs)
        self.writer.apply(case, change)

    def _conclude(self, case: BulkCase, row: LedgerRow) -> None:
        at, actor = self.at(row.concluded_on, HOURS["conclude"]), self.actor
        if row.outcome == "withdrawn":
            self._apply(case, wf.decide_withdraw, NOT_RECORDED, actor, at=at)
        elif row.outcome == "agreed":
            self._agree(case, row, at)
        elif row.transfer_reason in DIVERTED:
            reason = row.transfer_reason
            self._apply(
                case, wf.decide_divert, reason, NOT_RECORDED, actor, note=NOT_RECORDED, at=at
            )
        elif row.transfer_reason == "failed":
            self._apply(case, wf.decide_fail, NOT_RECORDED, NOT_RECORDED, actor, at=at)
        elif row.transfer_reason == "party_request":
            applicant = next(p for p in case.parties if p.role == "applicant")
            self._apply(case, wf.decide_request_litigation, actor, on_behalf_of=applicant, at=at)
        elif row.transfer_reason == "deadline_expired":
            self._apply(case, wf.decide_expire, actor, at=at)

    def _agree(self, case: BulkCase, row: LedgerRow, at: datetime) -> None:
        actor = self.actor
        held_at = self.at(row.concluded_on, HOURS["session"])
        self._apply(
            case,
            wf.decide_record_session,
            held_at,
            actor,
            place=SESSION_PLACE,
            attendance=NOT_RECORDED,
            minutes=NOT_RECORDED,
            at=held_at,
        )
        amount = row.agreement_amount
        terms = f"协议金额{amount}元。" if amount is not None else NOT_RECORDED
        obligations = []
        if row.due_on is not None:
            description = f"支付{amount}元" if amount is not None else "履行调解协议"
            applicant = next(p for p in case.parties if p.role == "applicant")
            respondent = next(p for p in case.parties if p.role == "respondent")
            obligations.append(
                ObligationData(respondent.id, applicant.id, description, row.due_on, amount)
            )
        self._apply(case, wf.decide_agree, row.concluded_on, terms, obligations, actor, at=at)
        steps: list[tuple[datetime, Callable[[], object]]] = []
        if row.confirmed_on:
            confirm_at = self.at(row.confirmed_on, HOURS["confirm"])
            confirmation = (NOT_RECORDED, NOT_RECORDED, row.confirmed_on, actor)
            steps.append(
                (
                    confirm_at,
                    partial(self._apply, case, wf.decide_confirm, *confirmation, at=confirm_at),
                )
            )
        if case.agreement.obligations:
            steps += self._performance(case, case.agreement.obligations[0], row)
        for _at, step in sorted(steps, key=lambda item: item[0]):
            step()

    def _performance(self, case: BulkCase, obligation, row: LedgerRow) -> list:
        """Performance, and what the obligation sweep would have done before it: a default
        the day after the due date, a negative record 30 days after it."""
        steps = []
        performed = row.fulfilled_on
        late_until = performed or self.today
        if late_until > row.due_on:
            default_at = self.at(row.due_on + timedelta(days=1), 1)
            steps.append(
                (
                    default_at,
                    partial(self._apply, case, wf.decide_default, self.actor, at=default_at),
                )
            )
        negative_on = row.due_on + timedelta(days=30)
        if late_until >= negative_on:
            negative_at = self.at(negative_on, 1)
            steps.append((negative_at, partial(self._negative, case, obligation, negative_at)))
        if performed:
            fulfil_at = self.at(performed, HOURS["fulfil"])
            performance = (obligation, performed, self.actor)
            steps.append(
                (
                    fulfil_at,
                    partial(self._apply, case, wf.decide_fulfil, *performance, at=fulfil_at),
                )
            )
        return steps

    def _negative(self, case: BulkCase, obligation, at: datetime) -> None:
        record = default_record(case, obligation, self.centre, at)
        if record is not None:
            self.writer.insert(IntegrityRecord, record)

    def _organization(self, name: str) -> Organization:
        organization = self.organizations.get(name)
        if organization is None:  # only with --create-missing: the check refused it otherwise
            organization = Organization(centre_id=self.centre.id, name=name, kind="people")
            db.session.add(organization)
            db.session.flush()
            self.organizations[name] = organization
            self.created_organizations.append(name)
        return organization

    def _mediator(self, organization: Organization, name: str) -> Mediator:
        placeholder = not name
        name = name or NOT_RECORDED
        mediator = self.mediators.get((organization.id, name))
        if mediator is None:
            mediator = Mediator(
                centre_id=self.centre.id,
                organization=organization,
                name=name,
                max_caseload=0 if placeholder else 20,
            )
            db.session.add(mediator)
            db.session.flush()
            self.mediators[(organization.id, name)] = mediator
            self.created_mediators.append(f"{organization.name} {name}")
        return mediator


def _kind(name: str) -> str:
    return "organization" if ORGANIZATION_WORDS.search(name) else "person"

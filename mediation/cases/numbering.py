"""Case numbers: `{abbr}调〔{year}〕{seq}号`, per centre and year, gapless and unique."""

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import CompoundSelect, bindparam, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mediation.cases.models import Case, CaseCounter, FormerNumber
from mediation.database import read
from mediation.directory.models import Centre
from mediation.extensions import db

OPENING = "〔[(（【"
CLOSING = "〕])）】"
_BRACKETS = str.maketrans({**dict.fromkeys(OPENING, "〔"), **dict.fromkeys(CLOSING, "〕")})


def format_case_number(abbreviation: str, year: int, seq: int) -> str:
    return f"{abbreviation}调〔{year}〕{seq}号"


def normalise_case_number(text: str) -> str:
    """What a party typed → the stored form: NFKC, no spaces, any bracket pair as 〔〕."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\s+", "", text)
    # NFKC turns full-width （） into (); map every bracket style to the stored one.
    return text.translate(_BRACKETS)


@dataclass(frozen=True)
class NumberParts:
    """What a typed case number, or a part of one, names: its sequence number, and its year
    and abbreviation when they were typed."""

    seq: int
    year: int | None = None
    abbreviation: str | None = None

    @property
    def number(self) -> str | None:
        """The whole number as it is stored, when all of it was typed."""
        if self.abbreviation and self.year is not None:
            return format_case_number(self.abbreviation, self.year, self.seq)
        return None


# After normalising (no spaces, brackets as 〔〕): 西湖调〔2026〕42号, 西湖调202642号 (a year has
# four digits), 西湖调2026-42, 西湖调2026年第42号; 〔2026〕42号, 2026〕42; 42号, 42.
_WITH_ABBREVIATION = re.compile(
    r"(?P<abbreviation>.+)调〔?(?P<year>[0-9]{4})(?:〕|年|[-/.])?第?(?P<seq>[0-9]{1,9})号?"
)
_BRACKETED_YEAR = re.compile(r"〔?(?P<year>[0-9]{4})〕(?P<seq>[0-9]{1,9})号?")
_SEQ = re.compile(r"(?P<seq>[0-9]{1,9})号?")
# Before removing spaces: a year and a number apart, 2026 42, 2026-42, 2026年42号.
_YEAR_AND_SEQ = re.compile(r"(?P<year>[0-9]{4})(?:\s+|\s*[-/年]\s*)(?P<seq>[0-9]{1,9})\s*号?")


def parse_case_number(text: str) -> NumberParts | None:
    """The parts of a case number typed in any of the ways SPEC 3.1 accepts (any brackets or
    none, spaces, full-width characters), whole or from its year on, or its sequence number
    alone; None when it is none of these."""
    spaced = unicodedata.normalize("NFKC", text).translate(_BRACKETS).strip()
    compact = normalise_case_number(spaced)
    match = (
        _WITH_ABBREVIATION.fullmatch(compact)
        or _BRACKETED_YEAR.fullmatch(compact)
        or _YEAR_AND_SEQ.fullmatch(spaced)
        or _SEQ.fullmatch(compact)
    )
    if match is None or int(match["seq"]) == 0:
        return None
    found = match.groupdict()
    year = int(found["year"]) if found.get("year") else None
    return NumberParts(int(found["seq"]), year, found.get("abbreviation"))


def case_ids_numbered(seq, year=None, number=None) -> CompoundSelect:
    """The ids of the cases whose number matches, now or before a move to another centre
    (their former numbers): one rule for staff search, the portal and anyone else who finds
    a case by its number. `seq`, `year` and `number` are SQL values (bound parameters);
    `year` and `number` None leave them out, for a part of a number. Each side reads its
    (seq, year) index."""
    own = select(Case.id.label("case_id")).where(Case.seq == seq)
    former = select(FormerNumber.case_id).where(FormerNumber.seq == seq)
    if year is not None:
        own, former = own.where(Case.year == year), former.where(FormerNumber.year == year)
    if number is not None:
        own, former = own.where(Case.number == number), former.where(FormerNumber.number == number)
    return union_all(own, former)


_CASES_NUMBERED = case_ids_numbered(bindparam("seq"), bindparam("year"), bindparam("number"))


def cases_numbered(text: str) -> list[int]:
    """The ids of the cases that have or had this number (typed in any accepted way): the
    case it was issued to, also after the case moved and got a number at another centre.
    Usually one; two centres that share an abbreviation could share a number, so a caller
    keeps to the centres it may see. [] for a text that is no whole number."""
    parts = parse_case_number(text)
    if parts is None or parts.number is None:
        return []
    params = {"seq": parts.seq, "year": parts.year, "number": parts.number}
    return sorted(set(read(_CASES_NUMBERED, params).scalars()))


def former_numbers_of(case_id: int) -> list:
    """The numbers a case had at the centres it left, oldest first: number, centre (its
    name), moved_at."""
    return read(_FORMER_NUMBERS, {"case_id": case_id}).all()


_FORMER_NUMBERS = (
    select(FormerNumber.number, Centre.name.label("centre"), FormerNumber.moved_at)
    .join(Centre, Centre.id == FormerNumber.centre_id)
    .where(FormerNumber.case_id == bindparam("case_id"))
    .order_by(FormerNumber.moved_at, FormerNumber.id)
)


def moved_away(centre_id: int, text: str, limit: int = 10) -> list:
    """Cases this centre numbered and moved to another, whose old number (or its part) is
    what was typed: number, moved_at, to_centre (its name), now (the number there). The
    centre's staff learn where a case went, and no more: the case is the other centre's."""
    parts = parse_case_number(text)
    if parts is None:
        return []
    query = (
        select(
            FormerNumber.number,
            FormerNumber.moved_at,
            Centre.name.label("to_centre"),
            Case.number.label("now"),
        )
        .join(Centre, Centre.id == FormerNumber.to_centre_id)
        .join(Case, Case.id == FormerNumber.case_id)
        .where(FormerNumber.centre_id == centre_id, FormerNumber.seq == parts.seq)
        .order_by(FormerNumber.moved_at.desc(), FormerNumber.id.desc())
        .limit(limit)
    )
    if parts.year is not None:
        query = query.where(FormerNumber.year == parts.year)
    if parts.number is not None:
        query = query.where(FormerNumber.number == parts.number)
    return read(query).all()


def canonical_case_number(text: str) -> str:
    """What a party typed as a whole case number → the number as it is stored, however it was
    typed (SPEC 3.1: brackets of any kind or none, spaces, full-width digits, 2026-42 or
    2026年第42号); text that is no whole number comes back only normalised. Every look-up of a
    number typed by a party (the portal, its throttles, the audit log's filter) goes through
    here, so one number is one key whatever the typing."""
    parts = parse_case_number(text)
    if parts is not None and parts.number is not None:
        return parts.number
    return normalise_case_number(text)


def _ensure_counter(centre: Centre, year: int) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(CaseCounter)
        .values(centre_id=centre.id, year=year, last_seq=0)
        .on_conflict_do_nothing(index_elements=["centre_id", "year"])
    )


_NEXT_NUMBER = (
    update(CaseCounter)
    .where(
        CaseCounter.centre_id == bindparam("the_centre"), CaseCounter.year == bindparam("the_year")
    )
    .values(last_seq=CaseCounter.last_seq + 1)
    .returning(CaseCounter.last_seq)
)


def issue_case_number(centre: Centre, year: int) -> tuple[int, str]:
    """Take the next number for the centre and year inside the caller's transaction.

    The counter row is locked by the UPDATE until the transaction ends, so concurrent
    registrations queue; a rolled-back registration gives its number back. The year's
    first registration makes the row (INSERT … ON CONFLICT DO NOTHING, so two first
    registrations at once both go on) and takes its number again.
    """
    params = {"the_centre": centre.id, "the_year": year}
    # On the session's connection, as a row update: no counter is ever loaded as an entity.
    seq = read(_NEXT_NUMBER, params).scalar_one_or_none()
    if seq is None:
        _ensure_counter(centre, year)
        seq = read(_NEXT_NUMBER, params).scalar_one()
    return seq, format_case_number(centre.abbreviation, year, seq)


class NumberBlock:
    """Numbers for many registrations in one transaction (an import): each year's counter row
    is locked when first used and written back by `save()`, so the numbers stay gapless and
    concurrent registrations wait for the import's commit, as they would for one case."""

    def __init__(self, centre: Centre):
        self.centre = centre
        self.last: dict[int, int] = {}

    def issue(self, year: int) -> tuple[int, str]:
        if year not in self.last:
            _ensure_counter(self.centre, year)
            self.last[year] = db.session.execute(
                select(CaseCounter.last_seq)
                .where(CaseCounter.centre_id == self.centre.id, CaseCounter.year == year)
                .with_for_update()
            ).scalar_one()
        self.last[year] += 1
        return self.last[year], format_case_number(self.centre.abbreviation, year, self.last[year])

    def save(self) -> None:
        for year, last in self.last.items():
            db.session.execute(
                update(CaseCounter)
                .where(CaseCounter.centre_id == self.centre.id, CaseCounter.year == year)
                .values(last_seq=last)
            )

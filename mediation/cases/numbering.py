"""Case numbers: `{abbr}调〔{year}〕{seq}号`, per centre and year, gapless and unique."""

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mediation.cases.models import CaseCounter
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
# four digits); 〔2026〕42号, 2026〕42; 42号, 42.
_WITH_ABBREVIATION = re.compile(
    r"(?P<abbreviation>.+)调〔?(?P<year>[0-9]{4})〕?(?P<seq>[0-9]{1,9})号?"
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


def stored_number(text: str) -> str:
    """A case number however it was typed (SPEC 3.1) → the form it is stored in, for a
    look-up by the whole number (the portal's, the API's)."""
    parts = parse_case_number(text)
    return parts.number if parts and parts.number else normalise_case_number(text)


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

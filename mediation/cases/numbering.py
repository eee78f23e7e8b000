"""Case numbers: `{abbr}调〔{year}〕{seq}号`, per centre and year, gapless and unique."""

import re
import unicodedata

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

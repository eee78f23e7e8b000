"""The case list's search box: what was typed — a case number or a part of one, a mobile, a
resident ID number or credit code, a party's name — and how each is found through an index.

A number is read into its parts (`parse_case_number`) and found on (seq, year), also among
the former numbers of cases moved to another centre (`case_ids_numbered`); a mobile or
an ID exactly on the party's column; a name by its start on the name index and anywhere in
it through trigrams: on SQLite the FTS5 table `party_name_search`, on PostgreSQL a pg_trgm GIN
index on party.name (both made by the migration, the table kept by triggers). Trigrams need
three characters, so one character is looked for as a surname (a name's start), two as a
name's start or end (a two-character name, a surname and a first given character, a given
name), three or more anywhere in a name.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    String,
    and_,
    bindparam,
    column,
    exists,
    func,
    or_,
    select,
    table,
    union_all,
)

from mediation.cases.identity import CREDIT_PATTERN, ID_PATTERN, MOBILE_PATTERN
from mediation.cases.models import Case, Party
from mediation.cases.numbering import case_ids_numbered, parse_case_number
from mediation.database import read

# The SQLite trigram table: each party's name followed by END, under the party's id.
NAME_TRIGRAMS = table("party_name_search", column("rowid"), column("party_name_search"))
END = "\x03"

NUMBER_KINDS = ("number", "year_seq", "seq")
PARTY_KINDS = ("phone", "identifier", "name_initial", "name_ends", "name_within")

# A search of parties that finds more of them than this tests the cases in list order: a
# page is full after a few, where reading and sorting every case found grows with them.
MANY_PARTIES = 10_000

_PHONE_SEPARATORS = re.compile(r"[\s\-()]")


@dataclass(frozen=True)
class Search:
    """How to look for what was typed (`kind`, part of the list statement's shape) and the
    values to look for (its parameters)."""

    kind: str
    params: dict


def read_search(q: str) -> Search | None:
    """What the search box holds, as a kind of search and its values; None when empty."""
    text = "".join(c for c in unicodedata.normalize("NFKC", q) if unicodedata.category(c) != "Cc")
    text = text.strip()
    if not text:
        return None
    phone = _PHONE_SEPARATORS.sub("", text).removeprefix("+")
    if len(phone) == 13 and phone.startswith("86"):
        phone = phone[2:]
    if MOBILE_PATTERN.fullmatch(phone):
        return Search("phone", {"q_phone": phone})
    identifier = "".join(text.split()).upper()
    if ID_PATTERN.fullmatch(identifier) or CREDIT_PATTERN.fullmatch(identifier):
        return Search("identifier", {"q_identifier": identifier})
    number = parse_case_number(text)
    if number is not None:
        params = {"q_seq": number.seq, "q_year": number.year}
        if number.number is not None:
            return Search("number", params | {"q_number": number.number})
        return Search("year_seq" if number.year is not None else "seq", params)
    return _name_search(text)


def _name_search(name: str) -> Search:
    escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    following = chr(ord(name[-1]) + 1) if ord(name[-1]) < 0x10FFFF else name[-1]
    starts = {"q_like": escaped + "%", "q_from": name, "q_before": name[:-1] + following}
    if len(name) == 1:
        return Search("name_initial", starts)
    if len(name) == 2:
        ends = {"q_text": name, "q_end_like": "%" + escaped, "q_end_match": _phrase(name + END)}
        return Search("name_ends", starts | ends)
    return Search(
        "name_within", {"q_text": name, "q_within_like": f"%{escaped}%", "q_match": _phrase(name)}
    )


def _phrase(text: str) -> str:
    """An FTS5 query for `text` as it stands: one phrase, its trigrams in a row."""
    return '"' + text.replace('"', '""') + '"'


def prefix_match(column, engine: str):
    """`column LIKE :q_like`, a prefix, which an index on the column can serve.

    SQLite uses an index for LIKE only under NOCASE collation, so there the same prefix is
    also given as a range (`:q_from <= column < :q_before`), which a binary index serves.
    PostgreSQL serves a LIKE prefix from an index with the C collation or text_pattern_ops.
    """
    condition = column.like(bindparam("q_like"), escape="\\")
    if engine == "sqlite":
        condition = and_(column >= bindparam("q_from"), column < bindparam("q_before"), condition)
    return condition


def search_condition(kind: str, engine: str, in_order: bool = False):
    """The condition on Case of a search of this kind, its values the parameters `Search`
    gives: the cases it finds (`Case.id IN (...)`, read from the indexes), or with `in_order`
    a test of each case the list reads in its order (for a party search that finds many, on
    SQLite: see `finds_many`)."""
    if in_order:
        return exists().where(Party.case_id == Case.id, _party_matches(kind))
    return Case.id.in_(found_cases(kind, engine))


def finds_many(search: Search) -> bool:
    """Whether a search of parties finds more than MANY_PARTIES, counted on its indexes (on
    SQLite, which keeps no statistics to tell; PostgreSQL's planner knows from its own)."""
    if search.kind not in PARTY_KINDS:
        return False
    return read(_count_of_found(search.kind), search.params).scalar_one() > MANY_PARTIES


@cache
def _count_of_found(kind: str):
    found = found_cases(kind, "sqlite").limit(MANY_PARTIES + 1).subquery()
    return select(func.count()).select_from(found)


def found_cases(kind: str, engine: str):
    """The ids of the cases a search finds (a case may come more than once), each part read
    from an index."""
    if kind in NUMBER_KINDS:
        # The number keeps the abbreviation it was issued with (SPEC 3.1), and a moved case
        # is found by the numbers it had at the centres it left.
        return case_ids_numbered(
            bindparam("q_seq"),
            bindparam("q_year") if kind != "seq" else None,
            bindparam("q_number") if kind == "number" else None,
        )
    if kind == "phone":
        return select(Party.case_id).where(Party.phone == bindparam("q_phone"))
    if kind == "identifier":
        identifier = bindparam("q_identifier")
        return select(Party.case_id).where(
            or_(Party.id_number == identifier, Party.credit_code == identifier)
        )
    starts = prefix_match(Party.name, engine)
    if kind == "name_initial":
        return select(Party.case_id).where(starts)
    if engine == "sqlite":
        match = "q_end_match" if kind == "name_ends" else "q_match"
        within = (
            select(Party.case_id)
            .select_from(NAME_TRIGRAMS)
            .join(Party, Party.id == NAME_TRIGRAMS.c.rowid)
            .where(NAME_TRIGRAMS.c.party_name_search.match(bindparam(match, type_=String)))
        )
        if kind == "name_ends":
            return union_all(select(Party.case_id).where(starts), within)
        return within
    # One statement with OR (not a union, whose distinct cases PostgreSQL guesses at 200):
    # its estimates let the planner choose between these cases and the list's order.
    like = "q_end_like" if kind == "name_ends" else "q_within_like"
    within = Party.name.like(bindparam(like), escape="\\")
    return select(Party.case_id).where(or_(starts, within) if kind == "name_ends" else within)


def _party_matches(kind: str):
    """Whether a party row is one the search finds, tested on the row itself (SQLite)."""
    if kind == "phone":
        return Party.phone == bindparam("q_phone")
    if kind == "identifier":
        identifier = bindparam("q_identifier")
        return or_(Party.id_number == identifier, Party.credit_code == identifier)
    starts = prefix_match(Party.name, "sqlite")
    if kind == "name_initial":
        return starts
    if kind == "name_ends":
        return or_(starts, func.substr(Party.name, -2) == bindparam("q_text", type_=String))
    if kind == "name_within":
        return func.instr(Party.name, bindparam("q_text", type_=String)) > 0
    raise ValueError(f"not a search of parties: {kind!r}")

"""What pages and statistics read of applications: the dashboard's queue, the month's counts."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, func, select, tuple_

from mediation.applications.models import Application
from mediation.database import read
from mediation.extensions import db

QUEUE_LENGTH = 10
COUNT_CAP = 1000


@dataclass(frozen=True, slots=True)
class PendingApplication:
    id: int
    number: str
    due_on: date
    submitted_on: date
    category_code: str
    parties: list

    @property
    def applicant(self) -> str:
        return self.parties[0]["name"]


@dataclass(frozen=True)
class ApplicationQueue:
    rows: list[PendingApplication]
    count: int  # at most COUNT_CAP + 1


_PENDING = (
    select(
        Application.id,
        Application.number,
        Application.due_on,
        Application.submitted_on,
        Application.category_code,
        Application.parties,
    )
    .where(Application.centre_id == bindparam("centre_id"), Application.state == "pending")
    .order_by(Application.due_on, Application.id)
    .limit(QUEUE_LENGTH)
)
_PENDING_COUNT = select(func.count()).select_from(
    select(Application.id)
    .where(Application.centre_id == bindparam("centre_id"), Application.state == "pending")
    .limit(COUNT_CAP + 1)
    .subquery()
)


def pending_queue(centre_id: int) -> ApplicationQueue:
    """A centre's pending applications, soonest due first, read on the queue's index."""
    params = {"centre_id": centre_id}
    rows = [PendingApplication(*row) for row in read(_PENDING, params)]
    count = len(rows) if len(rows) < QUEUE_LENGTH else read(_PENDING_COUNT, params).scalar_one()
    return ApplicationQueue(rows, count)


PAGE_SIZE = 50

_PAGE = (
    select(
        Application.id,
        Application.number,
        Application.due_on,
        Application.submitted_on,
        Application.category_code,
        Application.parties,
    )
    .where(
        Application.centre_id == bindparam("centre_id"),
        Application.state == "pending",
        tuple_(Application.due_on, Application.id)
        > tuple_(bindparam("due_on", type_=Application.due_on.type), bindparam("id")),
    )
    .order_by(Application.due_on, Application.id)
    .limit(PAGE_SIZE + 1)
)


def pending_page(centre_id: int, after: tuple[date, int] | None) -> tuple[list, str | None]:
    """A page of the centre's pending applications, soonest due first, after the (due date,
    id) of the previous page's last (a seek on the queue's index); and the next page's key."""
    due_on, last_id = after or (date.min, 0)
    params = {"centre_id": centre_id, "due_on": due_on, "id": last_id}
    rows = [PendingApplication(*row) for row in read(_PAGE, params)]
    following = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        following = f"{rows[-1].due_on.isoformat()}_{rows[-1].id}"
    return rows, following


def parse_after(value: str | None) -> tuple[date, int] | None:
    """The key of `pending_page` as the page's link carries it; None for anything else."""
    day, _sep, ident = (value or "").partition("_")
    try:
        key = date.fromisoformat(day), int(ident)
    except ValueError:
        return None
    return key if 0 < key[1] < 2**31 else None


def month_counts(centre_ids: list[int], first: date, last: date) -> dict[int, tuple[int, int]]:
    """Per centre, applications submitted, and accepted, in the month (local dates), on their
    indexes."""
    of_centres = Application.centre_id.in_(centre_ids)
    received = {
        centre_id: count
        for centre_id, count in db.session.execute(
            select(Application.centre_id, func.count())
            .where(of_centres, Application.submitted_on.between(first, last))
            .group_by(Application.centre_id)
        )
    }
    accepted = {
        centre_id: count
        for centre_id, count in db.session.execute(
            select(Application.centre_id, func.count())
            .where(
                of_centres,
                Application.decided_on.between(first, last),
                Application.state == "accepted",
            )
            .group_by(Application.centre_id)
        )
    }
    return {
        centre_id: (received.get(centre_id, 0), accepted.get(centre_id, 0))
        for centre_id in received.keys() | accepted.keys()
    }

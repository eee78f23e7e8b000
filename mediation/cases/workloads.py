"""Mediators' open caseloads and outcomes (SPEC 3.1: always visible to staff), counted for
triage's ranking, the caseload page and the mediators' admin page alike: one grouped query
each, whatever the number of mediators."""

from dataclasses import dataclass
from datetime import date

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import contains_eager, selectinload

from mediation.cases.models import Case
from mediation.cases.states import IN_MEDIATION, MEDIATED_TRANSFER_REASONS
from mediation.directory.models import Mediator, Organization
from mediation.extensions import db


@dataclass(frozen=True)
class Workload:
    """Open cases (assigned or in mediation) and mediated conclusions: agreements, and
    transfers after failure, a party's request or the deadline (as SPEC 4 counts success)."""

    open_cases: int = 0
    concluded: int = 0
    agreed: int = 0

    @property
    def success_rate(self) -> float | None:
        return self.agreed / self.concluded if self.concluded else None


def open_caseloads(mediator_ids: list[int]) -> dict[int, int]:
    """Cases assigned or in mediation per mediator, on ix_case_mediator_state."""
    if not mediator_ids:
        return {}
    return dict(
        db.session.execute(
            select(Case.mediator_id, func.count())
            .where(
                Case.mediator_id.in_(mediator_ids),
                Case.state.in_([state.value for state in IN_MEDIATION]),
            )
            .group_by(Case.mediator_id)
        )
        .tuples()
        .all()
    )


def outcomes(mediator_ids: list[int], since: date | None = None) -> dict[int, tuple[int, int]]:
    """(mediated conclusions, agreements) per mediator who handled the case when it concluded,
    on ix_case_concluded_mediator; only conclusions on or after `since` when given."""
    if not mediator_ids:
        return {}
    query = (
        select(
            Case.concluded_mediator_id,
            func.count(),
            func.sum(sql_case((Case.outcome == "agreed", 1), else_=0)),
        )
        .where(
            Case.concluded_mediator_id.in_(mediator_ids),
            or_(
                Case.outcome == "agreed",
                and_(
                    Case.outcome == "transferred",
                    Case.transfer_reason.in_(MEDIATED_TRANSFER_REASONS),
                ),
            ),
        )
        .group_by(Case.concluded_mediator_id)
    )
    if since is not None:
        query = query.where(Case.concluded_on >= since)
    return {
        mediator_id: (concluded, int(agreed or 0))
        for mediator_id, concluded, agreed in db.session.execute(query)
    }


def workloads(mediator_ids: list[int], since: date | None = None) -> dict[int, Workload]:
    """Every mediator's Workload (zeros for one with no cases), in two queries."""
    open_counts = open_caseloads(mediator_ids)
    done = outcomes(mediator_ids, since)
    return {
        mediator_id: Workload(open_counts.get(mediator_id, 0), *done.get(mediator_id, (0, 0)))
        for mediator_id in mediator_ids
    }


def mediators_page(centre_id: int, page: int, per_page: int) -> Pagination:
    """A page of the centre's mediators, active first, by organisation and name, with their
    organisation and specialties (two queries and the count)."""
    return db.paginate(
        select(Mediator)
        .join(Mediator.organization)
        .where(Mediator.centre_id == centre_id)
        .options(contains_eager(Mediator.organization), selectinload(Mediator.specialties))
        .order_by(Mediator.is_active.desc(), Organization.name, Mediator.name, Mediator.id),
        page=page,
        per_page=per_page,
        error_out=False,
    )

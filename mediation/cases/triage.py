"""Triage help: organisations from the routing rules, mediators ranked for a case."""

from dataclasses import dataclass

from sqlalchemy import case as sql_case
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from mediation.cases.workloads import Workload, workloads
from mediation.directory.models import Mediator, Organization, RoutingRule, mediator_specialty
from mediation.extensions import db


def suggested_organizations(centre_id: int, category_code: str, street: str) -> list[Organization]:
    """Organisations the rules name for this category, rules for the case's street first,
    then by rank."""
    street_first = sql_case((RoutingRule.street == "", 1), else_=0)
    rows = (
        db.session.execute(
            select(Organization)
            .join(RoutingRule, RoutingRule.organization_id == Organization.id)
            .where(
                RoutingRule.centre_id == centre_id,
                RoutingRule.category_code == category_code,
                or_(RoutingRule.street == "", RoutingRule.street == street),
                Organization.is_active,
            )
            .order_by(street_first, RoutingRule.rank, Organization.name)
        )
        .scalars()
        .all()
    )
    seen, ordered = set(), []
    for organization in rows:
        if organization.id not in seen:
            seen.add(organization.id)
            ordered.append(organization)
    return ordered


@dataclass(frozen=True)
class MediatorSuggestion:
    mediator: Mediator
    is_specialist: bool
    workload: Workload

    @property
    def open_cases(self) -> int:
        return self.workload.open_cases

    @property
    def concluded(self) -> int:
        return self.workload.concluded

    @property
    def agreed(self) -> int:
        return self.workload.agreed

    @property
    def success_rate(self) -> float | None:
        return self.workload.success_rate

    @property
    def has_capacity(self) -> bool:
        return self.open_cases < self.mediator.max_caseload


def mediator_workloads(
    centre_id: int, category_code: str | None = None, organization_id: int | None = None
) -> list[MediatorSuggestion]:
    """Active mediators with open caseload and past outcomes, best suited first: specialists
    in the category, then those with room under their maximum, then by success rate and by
    lightest load. Five queries, whatever the number of mediators."""
    query = select(Mediator).where(Mediator.centre_id == centre_id, Mediator.is_active)
    if organization_id:
        query = query.where(Mediator.organization_id == organization_id)
    mediators = db.session.scalars(
        query.options(selectinload(Mediator.organization)).order_by(Mediator.name)
    ).all()
    ids = [m.id for m in mediators]
    if not ids:
        return []
    counts = workloads(ids)
    specialists = set()
    if category_code:
        specialists = set(
            db.session.scalars(
                select(mediator_specialty.c.mediator_id).where(
                    mediator_specialty.c.mediator_id.in_(ids),
                    mediator_specialty.c.category_code == category_code,
                )
            )
        )
    suggestions = [
        MediatorSuggestion(mediator=m, is_specialist=m.id in specialists, workload=counts[m.id])
        for m in mediators
    ]
    suggestions.sort(
        key=lambda s: (
            not s.is_specialist,
            not s.has_capacity,
            -(s.success_rate or 0),
            s.open_cases,
        )
    )
    return suggestions

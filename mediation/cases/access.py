"""Who may see a case: one rule, `scope_of`, read by every page, form, download and print, by
the workflow's guards and by the case list's filter.

A user's scope is the cases of their centre (a global administrator: every centre; a
regional administrator: the centres of their region, to read only); a mediator's only those
handed to them. Another centre's case does not exist for a user (404); a case of their centre
that is not theirs is refused (403). What a user may do with a case they see is the
workflow's table of roles (a regional administrator has none of them).
"""

import enum
from dataclasses import dataclass

from flask import abort
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from mediation.auth.models import Role, User
from mediation.cases.models import Agreement, Case, Party
from mediation.database import preload, with_children
from mediation.directory.centres import region_centre_ids
from mediation.directory.models import Mediator
from mediation.integrity.models import Obligation


class Access(enum.Enum):
    GRANTED = "granted"
    HIDDEN = "hidden"  # another centre's case: 404
    REFUSED = "refused"  # their centre's case, not theirs: 403


@dataclass(frozen=True)
class CaseScope:
    """The cases a signed-in user may see: those of `centre_id` (of every centre when
    `every_centre`; of the centres whose codes start with `region_code` when that is set, whose
    ids are `region_centre_ids`), and when `mediator_user_id` is set only those whose mediator
    has that login."""

    every_centre: bool
    centre_id: int | None
    mediator_user_id: int | None = None
    region_code: str | None = None
    region_centre_ids: frozenset[int] = frozenset()

    def access_to(self, centre_id: int, mediator_user_id: int | None) -> Access:
        """The scope's answer for one case, given its centre and its mediator's login."""
        if self.region_code is not None:
            if centre_id not in self.region_centre_ids:
                return Access.HIDDEN
        elif not self.every_centre and centre_id != self.centre_id:
            return Access.HIDDEN
        if self.mediator_user_id is not None and mediator_user_id != self.mediator_user_id:
            return Access.REFUSED
        return Access.GRANTED

    @property
    def shape(self) -> tuple[bool, bool, bool]:
        """What the list's conditions depend on (their values are parameters)."""
        return (self.every_centre, self.mediator_user_id is not None, self.region_code is not None)

    @property
    def params(self) -> dict:
        return {
            "scope_centre": self.centre_id,
            "scope_mediator_user": self.mediator_user_id,
            "scope_region_centres": sorted(self.region_centre_ids),
        }


def scope_of(user: User) -> CaseScope:
    """The one rule of who sees which cases (SPEC 2, 10)."""
    if user.is_global_admin:
        return CaseScope(every_centre=True, centre_id=None)
    if user.is_regional_admin:
        return CaseScope(
            every_centre=False,
            centre_id=None,
            region_code=user.region_code,
            region_centre_ids=region_centre_ids(user.region_code),
        )
    if user.role == Role.MEDIATOR:
        return CaseScope(every_centre=False, centre_id=user.centre_id, mediator_user_id=user.id)
    return CaseScope(every_centre=False, centre_id=user.centre_id)


def scope_conditions(shape: tuple[bool, bool, bool]) -> list:
    """The scope as SQL conditions on Case, for a scope of this `shape`; the values are the
    parameters `CaseScope.params` gives."""
    every_centre, by_mediator, by_region = shape
    if by_region:
        conditions = [Case.centre_id.in_(bindparam("scope_region_centres", expanding=True))]
    else:
        conditions = [] if every_centre else [Case.centre_id == bindparam("scope_centre")]
    if by_mediator:
        handled_by = select(Mediator.id).where(Mediator.user_id == bindparam("scope_mediator_user"))
        conditions.append(Case.mediator_id == handled_by.scalar_subquery())
    return conditions


def may_see(user: User, centre_id: int, mediator_user_id: int | None) -> bool:
    return scope_of(user).access_to(centre_id, mediator_user_id) is Access.GRANTED


def require_case_access(centre_id: int, mediator_user_id: int | None) -> None:
    """404 for another centre's case, 403 for a case of the user's centre that is not theirs."""
    access = scope_of(current_user).access_to(centre_id, mediator_user_id)
    if access is Access.HIDDEN:
        abort(404)
    if access is Access.REFUSED:
        abort(403)


def case_or_404(case_id: int, *relationships) -> Case:
    """The case, with its parties and the `relationships` asked for (Case.sessions, …)
    loaded, if the current user may see it (see `require_case_access`); 404 when there is
    none."""
    case = case_with_parties(case_id)
    if case is None:
        abort(404)
    require_case_access(case.centre_id, case.mediator_user_id)
    preload(case, *relationships)
    return case


def case_with_parties(case_id: int) -> Case | None:
    """The case with its parties, in one statement."""
    return with_children(_CASE_AND_PARTIES, {"case_id": case_id}, "parties")


_CASE_AND_PARTIES = (
    select(Case, Party)
    .outerjoin(Party, Party.case_id == Case.id)
    .where(Case.id == bindparam("case_id"))
    .order_by(Party.position)
)


def preload_agreement(case: Case) -> None:
    """The case's agreement with its obligations (their obligors and obligees are among the
    case's parties, loaded already)."""
    agreement = with_children(_AGREEMENT_AND_OBLIGATIONS, {"case_id": case.id}, "obligations")
    set_committed_value(case, "agreement", agreement)


_AGREEMENT_AND_OBLIGATIONS = (
    select(Agreement, Obligation)
    .outerjoin(Obligation, Obligation.agreement_id == Agreement.id)
    .where(Agreement.case_id == bindparam("case_id"))
    .order_by(Obligation.id)
)

"""Who may see a case (SPEC 2), the same on every page that shows one: the list, the case
page, its action forms, its dossier and its printable documents, and the workflow's buttons.

Staff and administrators see their centre's cases, a global administrator every centre's,
a mediator only the cases handed to them. Another centre's case does not exist (404); a case
of one's own centre that is not one's own is refused (403).
"""

import re

import pytest

from mediation.auth.accounts import user_by_username
from mediation.cases import workflow
from mediation.cases.access import Access, CaseScope, scope_of
from mediation.cases.models import Case
from mediation.extensions import db as _db
from tests.case_factory import centre_for, mediator_for, user_for

# (who signs in: role, centre, username) → their view of each case below.
VIEWERS = {
    "staff": ("staff", "330106", None),
    "admin": ("admin", "330106", None),
    "global admin": ("admin", None, None),
    "other centre's staff": ("staff", "330105", None),
    "mediator": ("mediator", "330106", "mediator-330106"),
    "other mediator": ("mediator", "330106", "mediator2-330106"),
}
G, H, R = Access.GRANTED, Access.HIDDEN, Access.REFUSED
EXPECTED = {
    # case:          mine  colleague's  awaiting triage  other centre
    "staff": (G, G, G, H),
    "admin": (G, G, G, H),
    "global admin": (G, G, G, G),
    "other centre's staff": (H, H, H, G),
    "mediator": (G, R, R, H),
    "other mediator": (R, G, R, H),
}
STATUS = {G: 200, H: 404, R: 403}
CASE_LINK = re.compile(r'href="/cases/(\d+)"')


@pytest.fixture
def case_ids(db, make_case) -> list[int]:
    """A case with each mediator of centre 330106, one awaiting triage, one of 330105."""
    centre = centre_for("330106")
    mine = make_case("mediating", mediator=mediator_for(centre))
    other = mediator_for(centre, name="李调解", username="mediator2-330106")
    colleagues = make_case("mediating", mediator=other)
    registered = make_case("registered")
    elsewhere = make_case("mediating", centre="330105")
    user_for(None, "admin")
    ids = [mine.id, colleagues.id, registered.id, elsewhere.id]
    _db.session.commit()  # and so ends the transaction that reading the ids began
    return ids


@pytest.mark.parametrize("viewer", VIEWERS)
def test_every_page_of_a_case_answers_as_the_list_shows_it(client, login, case_ids, viewer):
    role, centre, username = VIEWERS[viewer]
    login(role, centre, username=username)
    listed = {int(i) for i in CASE_LINK.findall(client.get("/cases/").get_data(as_text=True))}
    for case_id, access in zip(case_ids, EXPECTED[viewer], strict=True):
        assert (case_id in listed) == (access is G), (viewer, case_id)
        for path in ("", "/dossier", "/print/notice"):
            response = client.get(f"/cases/{case_id}{path}")
            assert response.status_code == STATUS[access], (viewer, case_id, path)
        # An action form opens, or sends back to the case page when the action is not
        # possible there now; either way only for those who may see the case.
        response = client.get(f"/cases/{case_id}/act/record_session")
        if access is G:
            assert response.status_code == 200 or response.location == f"/cases/{case_id}"
        else:
            assert response.status_code == STATUS[access], (viewer, case_id)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_workflow_lets_act_only_those_who_may_see(case_ids, viewer):
    role, centre, username = VIEWERS[viewer]
    user = user_by_username(username or f"{role}-{centre or 'global'}")
    if user is None:
        user = user_for(centre_for(centre), role)
    actor = workflow.Actor.for_user(user)
    for case_id, access in zip(case_ids, EXPECTED[viewer], strict=True):
        case = _db.session.get(Case, case_id)
        assert scope_of(user).access_to(case.centre_id, case.mediator_user_id) is access
        assert bool(workflow.allowed_actions(case, actor)) == (access is G), (viewer, case_id)
        if access is not G:
            with pytest.raises(workflow.WorkflowError):
                workflow.withdraw_case(case, "申请人撤回", actor)
            _db.session.rollback()


def test_a_user_without_a_centre_who_is_not_a_global_admin_sees_nothing():
    scope = CaseScope(every_centre=False, centre_id=None)
    assert scope.access_to(1, None) is H

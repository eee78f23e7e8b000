"""Triage help (SPEC 3.1): organisations from the routing rules, mediators ranked for a case."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from mediation import clock
from mediation.cases.triage import mediator_workloads, suggested_organizations
from mediation.directory.models import Category, Organization, RoutingRule
from tests.case_factory import centre_for, mediator_for


@pytest.fixture(autouse=True)
def _fixed_clock():
    with clock.frozen_at(datetime(2026, 5, 11, 9, tzinfo=ZoneInfo("Asia/Shanghai"))):
        yield


def organization(db, centre, name, kind="people", is_active=True) -> Organization:
    made = Organization(centre_id=centre.id, name=name, kind=kind, is_active=is_active)
    db.session.add(made)
    db.session.flush()
    return made


def test_mediators_rank_specialists_then_room_then_success_then_load(db, make_case):
    centre = centre_for()
    labour = db.session.get(Category, "labour")
    lawyers = organization(db, centre, "西湖律师调解工作室", "lawyer")

    def mediator(name, specialist, max_caseload, organization=None, is_active=True):
        made = mediator_for(centre, name, username=None)
        if organization is not None:
            made.organization = organization
        made.max_caseload, made.is_active = max_caseload, is_active
        if specialist:
            made.specialties.append(labour)
        return made

    wu = mediator("戊", True, 5)  # best record, though busier
    geng = mediator("庚", True, 5)  # no history, idle
    ding = mediator("丁", True, 5)  # no history, one case
    jia = mediator("甲", True, 1)  # a specialist, but full
    yi = mediator("乙", False, 5, lawyers)
    bing = mediator("丙", False, 1)  # full, and one failed mediation
    mediator("辛", True, 5, is_active=False)
    elsewhere = mediator_for(centre_for("330105"), "外区调解员", username=None)
    elsewhere.specialties.append(labour)
    db.session.commit()
    for person in (wu, wu, ding, jia, bing):
        make_case("assigned", mediator=person)
    make_case("agreed", mediator=wu)
    make_case("transferred", mediator=bing)
    make_case("withdrawn", mediator=geng)  # neither a success nor a failure

    ranked = mediator_workloads(centre.id, "labour")
    assert [s.mediator.name for s in ranked] == ["戊", "庚", "丁", "甲", "乙", "丙"]
    rows = {s.mediator.name: s for s in ranked}
    assert (rows["戊"].open_cases, rows["戊"].concluded, rows["戊"].agreed) == (2, 1, 1)
    assert rows["戊"].success_rate == 1.0
    assert (rows["丙"].concluded, rows["丙"].success_rate) == (1, 0.0)
    assert rows["庚"].success_rate is None and rows["庚"].concluded == 0
    assert [rows[n].has_capacity for n in ("丁", "甲", "乙", "丙")] == [True, False, True, False]
    assert [s.is_specialist for s in ranked] == [True] * 4 + [False] * 2

    assert [s.mediator for s in mediator_workloads(centre.id, "labour", lawyers.id)] == [yi]
    # Without a category nobody is a specialist: room first, then record and load.
    anyone = [s.mediator.name for s in mediator_workloads(centre.id)]
    assert anyone[0] == "戊" and set(anyone[-2:]) == {"甲", "丙"}


def test_rules_for_the_street_come_first(db):
    centre = centre_for()
    x = organization(db, centre, "西湖区人民调解委员会")
    y = organization(db, centre, "西湖区劳动争议调解中心", "professional")
    z = organization(db, centre, "西湖律师调解工作室", "lawyer")
    v = organization(db, centre, "北山街道人民调解委员会")
    idle = organization(db, centre, "已撤销调解组织", is_active=False)
    foreign = organization(db, centre_for("330105"), "拱墅区人民调解委员会")
    rules = [
        (centre, "labour", "", x, 1),
        (centre, "labour", "", z, 2),
        (centre, "labour", "西溪街道", y, 3),
        (centre, "labour", "西溪街道", x, 5),
        (centre, "labour", "北山街道", v, 9),
        (centre, "labour", "", idle, 0),
        (centre, "family", "西溪街道", x, 1),
        (centre_for("330105"), "labour", "", foreign, 1),
    ]
    for owner, category, street, target, rank in rules:
        db.session.add(
            RoutingRule(
                centre_id=owner.id,
                category_code=category,
                street=street,
                organization_id=target.id,
                rank=rank,
            )
        )
    db.session.flush()

    assert suggested_organizations(centre.id, "labour", "西溪街道") == [y, x, z]
    assert suggested_organizations(centre.id, "labour", "北山街道") == [v, x, z]
    assert suggested_organizations(centre.id, "labour", "") == [x, z]
    assert suggested_organizations(centre.id, "family", "西溪街道") == [x]
    assert suggested_organizations(centre.id, "traffic", "西溪街道") == []


def test_inactive_mediators_are_not_suggested(db):
    centre = centre_for()
    away = mediator_for(centre, "休假中", username=None)
    away.is_active = False
    db.session.flush()
    assert mediator_workloads(centre.id, "labour") == []
    away.is_active = True
    db.session.flush()
    assert [s.mediator for s in mediator_workloads(centre.id, "labour")] == [away]

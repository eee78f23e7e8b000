"""The caseload page (SPEC 3.1: mediators' open caseloads and outcomes, always visible to
staff): what it shows, to whom, and that it reads a page of mediators in a fixed number of
queries."""

import re
from datetime import UTC, datetime

from mediation import clock
from mediation.directory.models import Category, Mediator, Organization
from mediation.extensions import db
from tests.case_factory import build_case, centre_for, mediator_for
from tests.conftest import recorded_statements

NOW = datetime(2026, 6, 15, 2, tzinfo=UTC)
LAST_YEAR = datetime(2025, 11, 3, 2, tzinfo=UTC)
TAGS = re.compile(r"<[^>]+>")


def table_rows(page: str) -> dict[str, list[str]]:
    """Each mediator's row as the cells' text, by the mediator's name (the first cell)."""
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = [
            " ".join(TAGS.sub(" ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        rows[cells[0]] = cells[1:]
    return rows


def caseloads(client, **args) -> str:
    with clock.frozen_at(NOW):
        response = client.get("/cases/caseloads", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def two_mediators(app) -> dict:
    """王调解: two open cases, this year an agreement and a failed mediation, last year an
    agreement, and a withdrawal (not a mediated conclusion). 李调解: inactive, labour
    specialist, in another organisation, no cases. Returns their ids and the centre's."""
    with app.app_context():
        wang = mediator_for(centre_for())
        for state in ("assigned", "mediating", "agreed", "withdrawn"):
            build_case(state, at=NOW, mediator=wang)
        build_case("transferred", at=NOW, mediator=wang, transfer_reason="failed")
        build_case("agreed", at=LAST_YEAR, mediator=wang)
        lawyers = Organization(centre_id=wang.centre_id, name="西湖律师调解工作室", kind="lawyer")
        li = Mediator(
            centre_id=wang.centre_id,
            organization=lawyers,
            name="李调解",
            is_active=False,
            max_caseload=8,
            specialties=[db.session.get(Category, "labour")],
        )
        db.session.add(li)
        db.session.commit()
        return {
            "wang": wang.id,
            "li": li.id,
            "centre": wang.centre_id,
            "organization": wang.organization_id,
        }


def test_staff_see_each_mediators_open_cases_and_outcomes(app, client, login):
    two_mediators(app)
    login("staff")
    rows = table_rows(caseloads(client))
    # organisation, specialties, status, open / maximum, concluded, agreed, success rate
    assert rows["王调解"] == ["西湖人民调解委员会", "—", "启用", "2 / 20", "2", "1", "50%"]
    assert rows["李调解"] == ["西湖律师调解工作室", "劳动争议", "已停用", "0 / 8", "0", "0", "—"]
    page = caseloads(client, period="all")
    assert table_rows(page)["王调解"][3:] == ["2 / 20", "3", "2", "67%"]
    assert "2026 年内办结" not in page and "历年办结" in page
    assert "2026 年内办结" in caseloads(client)


def test_a_mediator_at_the_maximum_is_marked(app, client, login):
    ids = two_mediators(app)
    with app.app_context():
        db.session.get(Mediator, ids["wang"]).max_caseload = 2
        db.session.commit()
    login("staff")
    assert 'title="已达到或超过最大在办案件数">2 / 2</span>' in caseloads(client)


def test_who_sees_the_caseload_page(app, client, login, make_centre):
    here = two_mediators(app)["centre"]
    make_centre("330105", "拱墅区社会矛盾纠纷调处化解中心", "拱墅")
    assert client.get("/cases/caseloads").headers["Location"].startswith("/login")
    for role in ("staff", "admin"):
        login(role)
        assert "王调解" in caseloads(client)
        client.post_form("/logout")
    login("mediator")
    assert client.get("/cases/caseloads").status_code == 403
    client.post_form("/logout")
    login("staff", centre="330105")
    page = caseloads(client)
    assert "拱墅区" in page and "王调解" not in page and 'id="centre-picker"' not in page
    assert client.get(f"/cases/caseloads?centre={here}").status_code == 404
    client.post_form("/logout")
    login("admin", centre=None)
    page = caseloads(client)  # the first centre by code, and a picker for the others
    assert "拱墅区" in page and "王调解" not in page and 'id="centre-picker"' in page
    page = caseloads(client, centre=here, period="all")
    assert table_rows(page)["王调解"][3:] == ["2 / 20", "3", "2", "67%"]
    assert f"/cases/caseloads?period=year&amp;centre={here}" in page


def test_the_page_reads_no_query_per_mediator_and_is_paged(app, client, login):
    ids = two_mediators(app)
    login("staff")
    with recorded_statements(app) as few:
        caseloads(client)
    with app.app_context():
        labour = db.session.get(Category, "labour")
        for n in range(50):
            db.session.add(
                Mediator(
                    centre_id=ids["centre"],
                    organization_id=ids["organization"],
                    name=f"调解员{n:02d}",
                    specialties=[labour],
                )
            )
        db.session.commit()
    with recorded_statements(app) as many:
        first = caseloads(client)
    assert len(many) == len(few)
    assert len(table_rows(first)) == 50 and '<span class="page-link">1 / 2</span>' in first
    assert "李调解" not in first  # inactive mediators come last
    second = table_rows(caseloads(client, page=2))
    assert len(second) == 2 and "李调解" in second


def test_the_staff_menu_links_to_the_caseload_page(client, login):
    login("staff")
    menu = client.get("/notices").get_data(as_text=True)
    assert re.search(r'class="nav-link"\s+href="/cases/caseloads">调解员工作量</a>', menu)
    client.post_form("/logout")
    login("mediator")
    assert "/cases/caseloads" not in client.get("/notices").get_data(as_text=True)

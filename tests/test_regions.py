"""Regions (SPEC 10): a regional administrator reads the cases of the centres under its
division code and compares their statistics; a region's figures are its centres' added up."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from mediation.audit.models import AuditEntry
from mediation.auth.accounts import add_user
from mediation.auth.models import Role, User
from mediation.cases import workflow
from mediation.cases.models import Case, CaseEvent
from mediation.cases.workflow import MOVES, Actor, WorkflowError
from mediation.directory.centres import centre_by_code
from mediation.documents import dossier
from mediation.stats.queries import COMPARED_KEYS, SUMMARY_KEYS, month_stats, region_stats
from tests.case_factory import build_case, centre_for
from tests.conftest import PASSWORD, recorded_statements

REGIONAL = "region-3301"
# 330106 and 330108 are districts of Hangzhou (3301); 330206 is in Ningbo (3302).
IN_REGION, ALSO_IN_REGION, OUTSIDE = "330106", "330108", "330206"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def regional(db):
    """The centres of both sides of the border and a regional admin of 3301."""
    for code in (IN_REGION, ALSO_IN_REGION, OUTSIDE):
        centre_for(code)
    user = add_user(REGIONAL, "市矛调中心", Role.REGIONAL_ADMIN, PASSWORD, None, "3301")
    db.session.commit()
    return user


@pytest.fixture
def sign_in_regional(client, db, regional):
    def sign_in():
        db.session.rollback()  # the app writes as the client asks: this test holds no lock
        response = client.post_form("/login", {"username": REGIONAL, "password": PASSWORD})
        assert response.status_code == 302
        return regional

    return sign_in


# --- making one -----------------------------------------------------------------------------


def test_user_add_with_a_region_makes_a_regional_admin(app, db):
    centre_for(IN_REGION)
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["user", "add", "hz", "--role", "admin", "--region", "3301", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).filter_by(username="hz"))
    assert (user.role, user.region_code, user.centre_id) == ("regional_admin", "3301", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "staff", "--region", "3301"], "只有管理员"),
        (["--role", "admin", "--region", "3399"], "没有代码以 3399 开头的中心"),
        (["--role", "admin", "--region", "33010"], "2 位"),
        (["--role", "admin", "--region", "3301", "--centre", IN_REGION], "区域，而不是中心"),
    ],
)
def test_user_add_refuses_a_region_it_cannot_hold(app, db, args, message):
    centre_for(IN_REGION)
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["user", "add", "hz", *args, "--password-stdin"], input=f"{PASSWORD}\n"
    )
    assert result.exit_code == 1 and message in result.output, result.output


# --- reading cases --------------------------------------------------------------------------


def test_regional_admin_reads_every_case_of_its_region_and_none_outside(
    client, db, sign_in_regional
):
    here = build_case("mediating", centre=IN_REGION)
    there = build_case("agreed", centre=ALSO_IN_REGION)
    outside = build_case("registered", centre=OUTSIDE)
    ids = here.id, there.id, outside.id
    numbers = here.number, there.number, outside.number
    db.session.commit()
    sign_in_regional()
    listed = client.get("/cases/").get_data(as_text=True)
    links = [f'href="/cases/{case_id}"' for case_id in ids]
    assert links[0] in listed and links[1] in listed and links[2] not in listed
    found = client.get("/cases/", query_string={"q": numbers[1]}).get_data(as_text=True)
    assert links[1] in found
    not_found = client.get("/cases/", query_string={"q": numbers[2]}).get_data(as_text=True)
    assert links[2] not in not_found
    page = client.get(f"/cases/{ids[1]}")
    assert page.status_code == 200 and numbers[1] in page.get_data(as_text=True)
    assert client.get(f"/cases/{ids[2]}").status_code == 404
    assert client.get(f"/cases/{ids[1]}/print/agreement").status_code == 200
    assert client.get(f"/cases/{ids[2]}/print/notice").status_code == 404


def test_regional_admin_sees_no_action_on_a_case_page(client, db, sign_in_regional):
    case_id = build_case("mediating", centre=IN_REGION).id
    sign_in_regional()
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    for action in ("record_session", "agree", "fail", "withdraw", "correct"):
        assert f"/act/{action}" not in page
    assert "添加文件" not in page  # the dossier's upload button


def test_a_centre_admin_still_sees_only_their_centre(client, db, login, regional):
    mine = build_case("registered", centre=IN_REGION).id
    neighbours = build_case("registered", centre=ALSO_IN_REGION).id
    db.session.rollback()
    login("admin", centre=IN_REGION)
    assert client.get(f"/cases/{mine}").status_code == 200
    assert client.get(f"/cases/{neighbours}").status_code == 404


@pytest.mark.parametrize("action", sorted(set(MOVES) - {"register"}))
def test_the_workflow_refuses_every_action_to_a_regional_admin(db, regional, action):
    case = build_case("mediating", centre=IN_REGION)
    actor = Actor.for_user(regional)
    assert workflow.allowed_actions(case, actor) == []
    assert not MOVES[action].roles & actor.roles


@pytest.mark.parametrize("state", ["registered", "mediating", "agreed", "transferred"])
def test_a_regional_admin_may_not_open_any_action_form(client, db, sign_in_regional, state):
    case_id = build_case(state, centre=IN_REGION).id
    sign_in_regional()
    for action in sorted(set(MOVES) - {"register"}):
        response = client.get(f"/cases/{case_id}/act/{action}")
        assert response.status_code in (403, 404), action
        assert client.post_form(f"/cases/{case_id}/act/{action}", {}).status_code in (403, 404)


def test_the_workflow_refuses_a_regional_admin_a_withdrawal_and_a_registration(db, regional):
    case = build_case("mediating", centre=IN_REGION)
    with pytest.raises(WorkflowError):
        workflow.withdraw_case(case, "撤回", Actor.for_user(regional))
    db.session.rollback()
    assert db.session.get(Case, case.id).state == "mediating"


def test_every_write_route_refuses_a_regional_admin(app, client, db, sign_in_regional):
    """Every form a signed-in user posts to, with the ids of a case of the region: refused,
    and nothing written."""
    case = build_case("agreed", centre=IN_REGION)
    ids = {
        "case_id": case.id,
        "party_id": case.parties[0].id,
        "attachment_id": 1,
        "certificate_id": 1,
        "message_id": 1,
        "obligation_id": 1,
        "user_id": 1,
        "centre_id": case.centre_id,
        "organization_id": 1,
        "mediator_id": 1,
        "rule_id": 1,
        "import_id": 1,
        "checked_id": 1,
        "day": "2026-10-01",
        "action": "withdraw",
        "session_id": 1,
        "token": "x",
        "year": 2026,
    }
    sign_in_regional()
    events = db.session.scalar(select(func.count()).select_from(CaseEvent))
    own = {"/logout", "/language", "/notices/read", "/notices/<id:message_id>/read"}
    tried = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "allowed_roles", None)
        if "POST" not in rule.methods or roles is None or rule.rule in own:
            continue
        url = rule.build({name: ids.get(name, 1) for name in rule.arguments})[1]
        assert client.post_form(url, {}).status_code in (403, 404), url
        tried += 1
    assert tried > 20
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == events


@pytest.fixture
def dossier_folder(app, tmp_path):
    previous = app.config["DOSSIER_FOLDER"]
    app.config["DOSSIER_FOLDER"] = str(tmp_path / "dossier")
    yield
    app.config["DOSSIER_FOLDER"] = previous


def test_reading_a_dossier_and_its_file_is_allowed_and_audited(
    client, db, sign_in_regional, dossier_folder
):
    case = build_case("mediating", centre=IN_REGION)
    staff = db.session.scalar(select(User).filter_by(username=f"staff-{IN_REGION}"))
    attachment = dossier.add_file(
        case, io.BytesIO(b"%PDF-1.4 a receipt"), "收据.pdf", "evidence", staff
    )
    db.session.commit()
    case_id, attachment_id, number = case.id, attachment.id, case.number
    sign_in_regional()
    page = client.get(f"/cases/{case_id}/dossier")
    assert page.status_code == 200 and "收据.pdf" in page.get_data(as_text=True)
    assert 'id="add-file"' not in page.get_data(as_text=True)
    download = client.get(f"/cases/{case_id}/dossier/{attachment_id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    download.close()
    upload = {"kind": "evidence", "file": (io.BytesIO(b"%PDF-1.4 x"), "x.pdf")}
    posted = client.post_form(
        f"/cases/{case_id}/dossier", upload, content_type="multipart/form-data"
    )
    assert posted.status_code == 403
    client.get(f"/cases/{case_id}")
    entries = db.session.execute(
        select(AuditEntry.action, AuditEntry.target, AuditEntry.actor_name).order_by(AuditEntry.id)
    ).all()
    read = [(a, t, n) for a, t, n in entries if n == REGIONAL and a != "login.success"]
    assert read == [
        ("case.dossier", number, REGIONAL),
        ("dossier.download", number, REGIONAL),
        ("case.view", number, REGIONAL),
    ]


def test_a_centre_users_reading_is_not_recorded(client, db, login):
    case_id = build_case("mediating", centre=IN_REGION).id
    db.session.rollback()
    login("staff", centre=IN_REGION)
    client.get(f"/cases/{case_id}")
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "case.view" not in actions


def test_regional_admin_gets_403_on_every_admin_page_but_statistics(
    app, client, db, sign_in_regional
):
    sign_in_regional()
    for rule in app.url_map.iter_rules():
        roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", ())
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods:
            continue
        url = rule.build({name: 1 for name in rule.arguments})[1]
        expected = 200 if "regional_admin" in roles else 403
        assert client.get(url).status_code == expected, url


# --- statistics -----------------------------------------------------------------------------


@pytest.fixture
def april(db, regional):
    """April 2026 in two centres of 3301 and one outside, worked out by hand below."""
    # 330106: received a1 a2 a3; concluded a2 (agreed) and a3 (failed: mediated, not agreed);
    # a4 and a5, agreed in March, each owe 5,000 due in April and paid on time.
    build_case("registered", centre=IN_REGION, at=utc("2026-04-02 02:00"))
    build_case("agreed", centre=IN_REGION, at=utc("2026-04-10 02:00"))
    build_case("transferred", centre=IN_REGION, at=utc("2026-04-12 02:00"))
    build_case("fulfilled", centre=IN_REGION, at=utc("2026-03-20 02:00"))
    build_case("fulfilled", centre=IN_REGION, at=utc("2026-03-21 02:00"))
    # 330108: received b1 b2; concluded b2 (agreed); b3, agreed in March, owes 5,000 due in
    # April and has not paid.
    build_case("registered", centre=ALSO_IN_REGION, at=utc("2026-04-03 02:00"))
    build_case("agreed", centre=ALSO_IN_REGION, at=utc("2026-04-15 02:00"))
    build_case("agreed", centre=ALSO_IN_REGION, at=utc("2026-03-20 02:00"))
    # 330206 is in Ningbo: not the region's.
    build_case("agreed", centre=OUTSIDE, at=utc("2026-04-05 02:00"))
    db.session.commit()


HAND_WORKED = {
    IN_REGION: {
        "received": 3,
        "concluded": 2,
        "agreed": 1,
        "success_rate": 0.5,  # 1 agreed / 2 mediated conclusions
        "on_time_rate": 1.0,
        "obligations_due": 2,
        "fulfilled_on_time": 2,
        "performance_rate": 1.0,
    },
    ALSO_IN_REGION: {
        "received": 2,
        "concluded": 1,
        "agreed": 1,
        "success_rate": 1.0,
        "on_time_rate": 1.0,
        "obligations_due": 1,
        "fulfilled_on_time": 0,
        "performance_rate": 0.0,
    },
    "3301": {
        "received": 5,
        "concluded": 3,
        "agreed": 2,
        "success_rate": 0.6667,  # 2 / 3, not the centres' mean 0.75
        "on_time_rate": 1.0,
        "obligations_due": 3,
        "fulfilled_on_time": 2,
        "performance_rate": 0.6667,  # 2 / 3, not the centres' mean 0.5
    },
}


def _picked(summary: dict) -> dict:
    return {key: summary[key] for key in HAND_WORKED["3301"]}


def test_a_regions_figures_and_each_centres_worked_out_by_hand(april):
    data = region_stats("2026-04", "3301")
    assert (data["month"], data["region"], data["centre"]) == ("2026-04", "3301", None)
    assert _picked(data["summary"]) == HAND_WORKED["3301"]
    assert [row["centre"] for row in data["by_centre"]] == [IN_REGION, ALSO_IN_REGION]
    for row in data["by_centre"]:
        assert _picked(row["summary"]) == HAND_WORKED[row["centre"]]
        assert set(row["summary"]) == set(SUMMARY_KEYS)
        # A centre's summary in the region is its own month's summary.
        assert row["summary"] == month_stats("2026-04", centre_by_code(row["centre"]))["summary"]
    assert data["transferred_by_reason"]["failed"] == 1
    assert data["previous_month"]["received"] == 3  # a4 a5 b3 in March
    assert set(data["previous_month"]) == set(COMPARED_KEYS)


def test_a_regions_counts_are_its_centres_counts_added_up(april):
    data = region_stats("2026-04", "3301")
    for key, value in data["summary"].items():
        if isinstance(value, int):
            assert value == sum(row["summary"][key] for row in data["by_centre"]), key
    assert data["summary"]["amount_agreed"] == "10000.00"  # a2 and b2, agreed in April
    everyone = month_stats("2026-04", None)["summary"]
    assert everyone["received"] == 6  # and the Ningbo case


def test_a_province_holds_both_cities_and_a_region_without_centres_is_empty(april):
    assert region_stats("2026-04", "33")["summary"]["received"] == 6
    assert region_stats("2026-04", "3302")["summary"]["agreed"] == 1
    empty = region_stats("2026-04", "3399")
    assert empty["by_centre"] == [] and empty["summary"]["success_rate"] is None


def test_a_regions_statistics_take_no_more_queries_for_more_centres(app, april):
    with recorded_statements(app) as two_centres:
        region_stats("2026-04", "3301")
    for code in ("330102", "330105", "330110"):
        build_case("agreed", centre=code, at=utc("2026-04-07 02:00"))
    with recorded_statements(app) as five_centres:
        data = region_stats("2026-04", "3301")
    assert len(data["by_centre"]) == 5 and data["summary"]["received"] == 8
    assert len(five_centres) == len(two_centres)


def test_the_stats_page_compares_the_centres_of_the_region(client, april, sign_in_regional):
    sign_in_regional()
    assert 'id="centres-table"' in client.get("/").get_data(as_text=True)  # their home
    html = client.get("/admin/stats/", query_string={"month": "2026-04"}).get_data(as_text=True)
    assert 'id="centres-table"' in html and 'id="centres-chart"' in html
    assert "测试中心330108" in html and "测试中心330206" not in html
    assert "66.67%" in html  # the region's success and performance rates
    assert "发布快照" not in html
    one = client.get("/admin/stats/", query_string={"month": "2026-04", "centre": ALSO_IN_REGION})
    assert one.status_code == 200 and "测试中心330108" in one.get_data(as_text=True)
    outside = {"month": "2026-04", "centre": OUTSIDE}
    assert client.get("/admin/stats/", query_string=outside).status_code == 404
    assert client.post_form("/admin/stats/snapshot", {"month": "2026-04"}).status_code == 403


def test_the_stats_page_exports_the_region(client, april, sign_in_regional):
    sign_in_regional()
    response = client.get("/admin/stats/export", query_string={"month": "2026-04"})
    assert 'filename="stats-3301-2026-04.json"' in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["region"] == "3301" and len(data["by_centre"]) == 2
    table = {"month": "2026-04", "format": "csv", "table": "by_centre"}
    rows = list(csv.reader(io.StringIO(client.get("/admin/stats/export", query_string=table).text)))
    assert rows[0] == ["\ufeff区域 3301 2026年4月统计报表"]
    assert [row[1] for row in rows[2:]] == [IN_REGION, ALSO_IN_REGION]


def test_a_region_named_in_the_settings_is_shown_and_exported_by_its_name(
    app, client, april, sign_in_regional, monkeypatch
):
    monkeypatch.setitem(app.config, "REGION_NAMES", "33=浙江省, 3301=杭州市")
    sign_in_regional()
    page = client.get("/admin/stats/", query_string={"month": "2026-04"}).get_data(as_text=True)
    assert "杭州市 · 2026年4月" in page and "区域 3301" not in page
    table = {"month": "2026-04", "format": "csv", "table": "by_centre"}
    rows = list(csv.reader(io.StringIO(client.get("/admin/stats/export", query_string=table).text)))
    assert rows[0] == ["\ufeff杭州市 2026年4月统计报表"]
    monkeypatch.setitem(app.config, "REGION_NAMES", "33=浙江省")  # the city unnamed: its code
    assert (
        rows[0]
        != list(
            csv.reader(io.StringIO(client.get("/admin/stats/export", query_string=table).text))
        )[0]
    )


def test_a_global_admin_may_look_at_a_region(client, db, april, login):
    db.session.rollback()
    login("admin", centre=None)
    page = client.get("/admin/stats/", query_string={"month": "2026-04", "region": "3301"})
    assert page.status_code == 200 and 'id="centres-table"' in page.get_data(as_text=True)
    bad = {"month": "2026-04", "region": "33%"}
    assert client.get("/admin/stats/", query_string=bad).status_code == 404


# --- flask stats export --region ------------------------------------------------------------


def _export(app, *args):
    return app.test_cli_runner().invoke(
        args=["stats", "export", "--month", "2026-04", "--region", "3301", *args]
    )


def test_cli_exports_a_region_as_json(app, april):
    result = _export(app, "--format", "json", "--out", "-")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"month", "region", "summary", "by_category", "by_centre"}
    assert _picked(data["summary"]) == HAND_WORKED["3301"]
    assert [(row["centre"], row["summary"]["received"]) for row in data["by_centre"]] == [
        (IN_REGION, 3),
        (ALSO_IN_REGION, 2),
    ]


def test_cli_exports_a_regions_centres_compared_as_csv(app, april):
    result = _export(app, "--format", "csv", "--table", "by_centre", "--out", "-")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output.lstrip("\ufeff"))))
    assert rows[0] == ["区域 3301 2026年4月统计报表"]
    assert rows[1][:4] == ["中心", "中心代码", "受理", "办结"]
    assert rows[2][:4] == ["西湖区社会矛盾纠纷调处化解中心", IN_REGION, "3", "2"]
    assert rows[2][-1] == "100.00%" and rows[3][-1] == "0.00%"
    summary = _export(app, "--format", "csv", "--out", "-").output
    assert "66.67%" in summary


def test_cli_exports_a_region_as_xlsx_with_a_sheet_of_its_centres(app, april, tmp_path):
    out = tmp_path / "region.xlsx"
    result = _export(app, "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    sheet = book["各中心对比"]
    assert sheet["A1"].value == "区域 3301 2026年4月统计报表"
    assert [sheet.cell(row=r, column=2).value for r in (3, 4)] == [IN_REGION, ALSO_IN_REGION]
    assert sheet.cell(row=4, column=3).value == 2  # received at 330108


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--centre", IN_REGION], "不能同时"),
        (["--table", "by_mediators"], "by_centre"),
    ],
)
def test_cli_refuses_what_a_region_export_cannot_do(app, april, args, message):
    result = _export(app, "--format", "csv", "--out", "-", *args)
    assert result.exit_code == 1 and message in result.output, result.output


def test_cli_refuses_a_region_without_centres(app, april):
    result = app.test_cli_runner().invoke(
        args=["stats", "export", "--month", "2026-04", "--region", "3399", "--format", "json"]
        + ["--out", "-"]
    )
    assert result.exit_code == 1 and "3399" in result.output


def test_a_global_admin_edits_a_regional_admin_and_may_make_it_staff(client, db, login, regional):
    user_id = regional.id
    db.session.rollback()
    login("admin", centre=None)
    page = client.get(f"/admin/users/{user_id}/edit").get_data(as_text=True)
    assert "区域 3301" in page or "3301" in page
    kept = {"display_name": "杭州市矛调中心", "role": "regional_admin", "centre": ""}
    assert client.post_form(f"/admin/users/{user_id}/edit", kept).status_code == 302
    assert db.session.get(User, user_id).region_code == "3301"
    db.session.rollback()
    centre_id = str(centre_by_code(IN_REGION).id)
    db.session.rollback()
    staff = {"display_name": "杭州", "role": "staff", "centre": centre_id, "is_active": "y"}
    assert client.post_form(f"/admin/users/{user_id}/edit", staff).status_code == 302
    user = db.session.get(User, user_id)
    assert (user.role, user.region_code, user.centre_id) == ("staff", None, int(centre_id))
    listed = client.get("/admin/users/").get_data(as_text=True)
    assert "区域 3301" not in listed

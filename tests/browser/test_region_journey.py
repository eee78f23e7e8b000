"""A city's regional administrator compares its centres, reads a case of one of them without
being offered any action, and downloads the region's figures (SPEC 10)."""

import json
from pathlib import Path

from playwright.sync_api import expect

from mediation.auth.accounts import add_user
from mediation.auth.models import Role
from tests.browser.test_print import sign_in
from tests.case_factory import build_case, centre_for
from tests.conftest import PASSWORD


def test_a_regional_admin_compares_its_centres_reads_a_case_and_exports(page, db):
    for code in ("330106", "330108", "330206"):
        centre_for(code)
    add_user("region-3301", "杭州市矛调中心", Role.REGIONAL_ADMIN, PASSWORD, None, "3301")
    build_case("agreed", centre="330106")
    build_case("registered", centre="330106")
    neighbour = build_case("mediating", centre="330108")
    build_case("registered", centre="330206")  # Ningbo: outside the region
    number = neighbour.number
    db.session.commit()
    db.session.rollback()  # the live server writes: this test holds no SQLite lock

    sign_in(page, "region-3301")
    # Their home is the region's statistics, the centres side by side.
    expect(page.get_by_role("heading", name="各中心对比")).to_be_visible()
    table = page.locator("#centres-table")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("西湖区社会矛盾纠纷调处化解中心")
    expect(rows.nth(0).locator("td").nth(0)).to_have_text("2")  # received
    expect(rows.nth(1)).to_contain_text("测试中心330108")
    expect(table.locator("tfoot")).to_contain_text("全区域")
    expect(table.locator("tfoot td").nth(0)).to_have_text("3")
    expect(page.locator("#centres-chart svg")).to_have_count(4)
    expect(page.locator("main")).not_to_contain_text("测试中心330206")
    expect(page.get_by_role("button", name="发布快照")).to_have_count(0)

    # Every case of the region is in the list; a neighbour's case reads, with no action.
    page.get_by_role("link", name="案件", exact=True).click()
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=number)).to_be_visible()
    expect(page.locator("main")).to_contain_text("当事人")
    expect(page.get_by_role("link", name="添加文件")).to_have_count(0)
    expect(page.locator("a[href*='/act/']")).to_have_count(0)

    # Back on the comparison, the region's figures download as JSON.
    page.get_by_role("link", name="各中心对比").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 JSON").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["region"] == "3301" and data["summary"]["received"] == 3
    assert [row["centre"] for row in data["by_centre"]] == ["330106", "330108"]

"""axe-core finds no colour-contrast failure on the statistics page and the staff dashboard,
in Chinese and English, on a desktop and a phone (issue #18)."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_print import sign_in

# axe-core 4.14.1 (MPL-2.0), the file axe.min.js of the npm package, kept here as a test asset.
AXE = Path(__file__).with_name("axe.min.js")


def contrast_failures(page) -> list[str]:
    # Evaluated rather than added as a <script>: the CSP allows no inline script.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("axe.run(document, {runOnly: ['color-contrast']})")
    return [
        f"{node['target']}: {node['any'][0]['message']}"
        for violation in result["violations"]
        for node in violation["nodes"]
    ]


@pytest.mark.parametrize(
    ("lang", "viewport"),
    [
        ("zh_Hans_CN", {"width": 1280, "height": 900}),
        ("en", {"width": 1280, "height": 900}),
        ("zh_Hans_CN", {"width": 390, "height": 844}),
    ],
    ids=["chinese-desktop", "english-desktop", "chinese-phone"],
)
def test_statistics_page_and_dashboard_have_no_contrast_failures(
    page, make_case, make_user, db, lang, viewport
):
    make_case("agreed", risk_level="high")
    make_case("transferred", transfer_reason="failed")
    make_user("admin", username="admin-contrast")
    db.session.rollback()  # the live server writes: this test holds no SQLite lock
    page.set_viewport_size(viewport)
    sign_in(page, "admin-contrast")
    page.context.add_cookies([{"name": "lang", "value": lang, "url": page.base_url}])
    page.goto(page.base_url + "/admin/stats/")
    # The month shown is the current one, not over yet: its marker and note are checked too.
    partial = "本月未结束" if lang == "zh_Hans_CN" else "Partial month"
    expect(page.locator(".badge", has_text=partial)).to_be_visible()
    assert contrast_failures(page) == []
    page.goto(page.base_url + "/")
    expect(page.locator("#main-nav")).to_be_attached()
    assert contrast_failures(page) == []


def test_every_page_of_the_admins_menu_has_no_contrast_failures(page, make_case, make_user, db):
    make_user("admin", username="admin-contrast")
    case_id = make_case("agreed", risk_level="high").id
    db.session.rollback()  # the live server writes: this test holds no SQLite lock
    sign_in(page, "admin-contrast")
    links = page.eval_on_selector_all("#main-nav a[href^='/']", "a => a.map(e => e.pathname)")
    paths = sorted({path for path in links if "logout" not in path} | {f"/cases/{case_id}"})
    assert "/admin/jobs/" in paths and "/admin/settings/" in paths
    failures = {}
    for path in paths:
        page.goto(page.base_url + path)
        failures[path] = contrast_failures(page)
    assert failures == {path: [] for path in paths}

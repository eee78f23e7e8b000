"""On a phone (390 px) the staff case list and the caseload page show each row as a card, every
value beside its column's name, and nothing scrolls sideways; a laptop keeps the table."""

from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.browser.test_case_journey import sign_in
from tests.case_factory import build_case

PHONE = {"width": 390, "height": 844}
WHEN = datetime(2026, 3, 3, 2, tzinfo=UTC)


def no_sideways_scroll(page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth,"
        " ...[...document.querySelectorAll('.table-responsive')].map("
        "   el => el.scrollWidth - el.clientWidth)]"
    )
    assert widths[0] <= PHONE["width"] and all(extra <= 0 for extra in widths[1:]), widths


def label_of(cell) -> str:
    """The column's name a card shows before the cell's value (CSS, from data-label)."""
    return cell.evaluate("el => getComputedStyle(el, '::before').content").strip('"')


def inside_the_screen(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_the_case_list_is_a_card_per_case_on_a_phone(page, app):
    with app.app_context():
        for state in ("registered", "mediating"):
            build_case(state, at=WHEN)
    page.set_viewport_size(PHONE)
    sign_in(page, "staff-330106")
    page.goto(page.base_url + "/cases/")
    rows = page.locator("table.case-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("table.case-table thead")).to_be_hidden()
    no_sideways_scroll(page)
    card = rows.filter(has_text="调解中")
    for column, text in [
        ("纠纷类型", "邻里纠纷"),
        ("当事人", "张三"),
        ("状态", "调解中"),
        ("调解组织和调解员", "王调解"),
        ("期限", "2026/4/2"),
    ]:
        cell = card.locator(f'td[data-label="{column}"]')
        expect(cell).to_contain_text(text)
        assert label_of(cell) == column
        assert inside_the_screen(cell), column
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator("table.case-table thead")).to_be_visible()
    assert label_of(card.locator('td[data-label="状态"]')) == "none"


def test_the_caseload_page_is_a_card_per_mediator_on_a_phone(page, app):
    with app.app_context():
        build_case("mediating", at=WHEN)
    page.set_viewport_size(PHONE)
    sign_in(page, "staff-330106")
    page.goto(page.base_url + "/cases/caseloads")
    card = page.locator("table.caseload-table tbody tr").filter(has_text="王调解")
    expect(card).to_have_count(1)
    no_sideways_scroll(page)
    cell = card.locator('td[data-label="在办案件数 / 上限"]')
    expect(cell).to_contain_text("1 / 20")
    assert label_of(cell) == "在办案件数 / 上限" and inside_the_screen(cell)
    assert inside_the_screen(card.locator('td[data-label="调解成功率"]'))

"""An administrator checks a ledger, reads its problems, imports it and opens its cases."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_case_journey import sign_in
from tests.ledger_rows import ZH, row, to_csv

# Lines of text a table cell shows (its text's boxes, one per line).
LINES = """td => {
  const range = document.createRange();
  range.selectNodeContents(td);
  return range.getClientRects().length;
}"""


def upload(page, data: bytes, check_only: bool = True) -> None:
    page.goto(page.base_url + "/admin/ledger/")
    page.set_input_files(
        "input[type=file]", files=[{"name": "台账.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.get_by_label("试导入（只校验，不写入数据）").set_checked(check_only)
    page.get_by_role("button", name="上传").click()


@pytest.mark.parametrize("width", [390, 1280])
def test_each_column_name_of_a_problem_stays_on_one_line(browser, live_server, make_user, width):
    make_user("admin", username="ledger-admin")
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.base_url = live_server
    sign_in(page, "ledger-admin")
    data = to_csv(
        [row("A", registered_on="2024-02-30", category="赌债", amount="一万")], headers=ZH
    )
    upload(page, data)
    expect(page.get_by_text("共 3 处问题，未导入任何数据")).to_be_visible()
    columns = page.locator("tbody tr td:nth-child(2)")
    expect(columns).to_have_text(["登记日期", "纠纷类型", "标的额"])
    for index in range(3):
        assert columns.nth(index).evaluate(LINES) == 1, columns.nth(index).inner_text()
    context.close()


def test_a_checked_ledger_is_imported_at_once_and_its_cases_open(page, make_user):
    make_user("admin", username="ledger-admin")
    sign_in(page, "ledger-admin")
    upload(page, to_csv([row("A"), row("B", registered_on="2025-03-04")], headers=ZH))
    expect(page.get_by_text("所有行均可导入：将新建案件 2 件")).to_be_visible()

    page.get_by_role("button", name="立即导入").click()
    expect(page.get_by_text("台账已导入：新建案件 2 件")).to_be_visible()
    page.get_by_role("link", name="在案件列表中查看新建的全部 2 件案件").click()
    expect(page.get_by_text("台账导入新建的案件")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(2)

"""Staff correct a case on its edit form; a party leaves for court on the portal, staff are
told, complete the transfer with the court and the record, and print the letter."""

import re

from playwright.sync_api import expect

from tests.browser.test_print import assert_in_pdf, print_to_pdf, sign_in


def test_staff_correct_a_case_then_complete_the_transfer_a_party_asked_for(
    page, browser, make_case, db
):
    case = make_case("mediating")
    case_id, number = case.id, case.number
    code = case.access_codes[case.applicants[0].id]
    db.session.rollback()  # the live server writes: this test holds no SQLite lock

    sign_in(page)
    page.goto(f"{page.base_url}/cases/{case_id}")
    expect(page.get_by_text("138****5678")).to_be_visible()
    page.get_by_role("link", name="更正案件信息").click()
    # The edit form's two party rows, once it has loaded (all() would not wait for them).
    rows = page.locator("fieldset.party-row")
    expect(rows).to_have_count(2)
    applicant, respondent = rows.nth(0), rows.nth(1)
    # The one page with ID numbers and phones in full.
    expect(applicant.get_by_label("身份证号码")).to_have_value("11010519491231002X")
    expect(applicant.get_by_label("手机号码")).to_have_value("13812345678")
    applicant.get_by_label("姓名").fill("张叁")
    applicant.get_by_label("手机号码").fill("13811112222")
    respondent.get_by_label("类型").select_option(label="组织")
    expect(respondent.get_by_label("名称")).to_be_visible()
    respondent.get_by_label("类型").select_option(label="自然人")
    expect(respondent.get_by_label("姓名")).to_have_value("李四")
    page.get_by_label("风险等级").select_option(label="中")
    page.get_by_role("button", name="更正案件信息").click()

    expect(page.get_by_text("已保存：更正案件信息。")).to_be_visible()
    expect(page.locator(".badge", has_text="风险：中")).to_be_visible()
    timeline = page.locator(".timeline")
    expect(timeline.get_by_text("更正案件信息", exact=True)).to_be_visible()
    expect(timeline).to_contain_text("申请人 张叁 · 手机号码：138****5678 → 138****2222")
    expect(timeline).to_contain_text("风险等级：低 → 中")
    expect(page.locator("main")).not_to_contain_text("13811112222")

    # Meanwhile the applicant leaves for court on a phone: the access code still works.
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    party = phone.new_page()
    party.goto(f"{page.base_url}/status")
    party.get_by_label("案号").fill(number)
    party.get_by_label("查询码").fill(code)
    party.get_by_role("button", name="查询", exact=True).click()
    party.get_by_role("link", name="退出调解，向法院起诉").click()
    party.get_by_role("button", name="确认退出调解，向法院起诉").click()
    expect(party.locator(".state-badge")).to_have_text("已转诉讼")
    phone.close()

    page.goto(f"{page.base_url}/notices")
    expect(page.get_by_text(f"案件{number}：当事人申请诉讼")).to_be_visible()
    page.goto(f"{page.base_url}/cases/{case_id}")
    transfer = page.locator(".card", has=page.get_by_role("heading", name="转诉讼", exact=True))
    expect(transfer).to_contain_text("法院尚未记载")
    page.get_by_role("link", name="补正受理法院和无争议事实").click()
    page.get_by_label("法院").fill("杭州市西湖区人民法院")
    page.get_by_label("无争议事实记载").fill("楼上漏水的事实，双方无争议。")
    page.get_by_role("button", name="补正受理法院和无争议事实").click()
    expect(page.get_by_text("已保存：补正受理法院和无争议事实。")).to_be_visible()
    expect(transfer).to_contain_text("法院杭州市西湖区人民法院")
    expect(transfer).to_contain_text("楼上漏水的事实，双方无争议。")
    expect(timeline).to_contain_text("法院：— → 杭州市西湖区人民法院")

    page.locator("#printable").get_by_role("link", name="转诉讼函").click()
    expect(page.locator(".print-sheet")).to_contain_text("杭州市西湖区人民法院：")
    pages = print_to_pdf(page)
    assert len(pages) == 1
    assert_in_pdf(
        pages, "转诉讼函", number, "杭州市西湖区人民法院", "当事人申请诉讼", "楼上漏水的事实"
    )
    assert "有管辖权" not in re.sub(r"\s", "", pages[0]["text"])

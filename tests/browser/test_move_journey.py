"""Moving a case to the centre it belongs to (移送): the sending centre's staff move it from its
page, the receiving centre's staff are told and find it by the old number, and a party opens it
on the portal with the old number and the code on their acceptance notice."""

import re

from playwright.sync_api import expect

from tests.case_factory import build_case, centre_for, user_for
from tests.conftest import PASSWORD

REASON = "纠纷发生地在拱墅区，应由拱墅区中心受理"


def sign_in(page, username):
    page.goto(page.base_url + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_a_case_registered_at_the_wrong_centre_is_moved(page, browser, app):
    with app.app_context():
        case = build_case("assigned")
        user_for(centre_for("330105"), "staff")
        app.extensions["sqlalchemy"].session.commit()
        case_id, old_number = case.id, case.number
        code = case.access_codes[case.applicants[0].id]

    sign_in(page, "staff-330106")
    page.goto(f"{page.base_url}/cases/{case_id}")
    page.get_by_role("link", name="移送", exact=True).click()
    page.get_by_role("button", name="移送").click()
    expect(page.get_by_text("请选择要移送到的其他中心。")).to_be_visible()
    expect(page.get_by_text("请说明移送的原因。")).to_be_visible()
    page.get_by_label("移送至").select_option(label="拱墅区社会矛盾纠纷调处化解中心（330105）")
    page.get_by_label("移送原因").fill(REASON)
    page.get_by_role("button", name="移送").click()
    expect(page.get_by_role("status").or_(page.locator(".alert-success"))).to_contain_text(
        "已移送至拱墅区社会矛盾纠纷调处化解中心，现案号为拱墅调〔2026〕1号"
    )
    page.get_by_label("案号、当事人、手机号或证件号").fill(old_number)
    page.get_by_role("button", name="筛选").click()
    expect(page.locator(".moved-away")).to_contain_text("拱墅调〔2026〕1号")
    expect(page.get_by_text("没有符合条件的案件。")).to_be_visible()

    receiving = browser.new_context(locale="zh-CN").new_page()
    receiving.base_url = page.base_url
    sign_in(receiving, "staff-330105")
    receiving.get_by_role("link", name=re.compile("通知")).click()
    expect(receiving.get_by_text("案件拱墅调〔2026〕1号由西湖区")).to_be_visible()
    receiving.goto(receiving.base_url + "/cases/")
    receiving.get_by_label("案号、当事人、手机号或证件号").fill(
        old_number.replace("〔", "(").replace("〕", ")")
    )
    receiving.get_by_role("button", name="筛选").click()
    receiving.get_by_role("link", name="拱墅调〔2026〕1号").click()
    expect(receiving.locator(".former-number")).to_contain_text(old_number)
    expect(receiving.get_by_text("移送至其他中心")).to_be_visible()
    receiving.context.close()

    party = browser.new_context(locale="zh-CN").new_page()
    party.goto(page.base_url + "/status")
    party.get_by_label("案号").fill(old_number)
    party.get_by_label("查询码").fill(code)
    party.get_by_role("button", name="查询", exact=True).click()
    expect(party.get_by_text("拱墅调〔2026〕1号").first).to_be_visible()
    party.context.close()

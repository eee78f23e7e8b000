"""A person signs in, switches language and signs out, in a real browser."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import open_menu
from tests.conftest import PASSWORD


def test_admin_signs_in_switches_language_and_signs_out(page, make_user):
    make_user("admin", username="demo-admin")
    page.goto(page.base_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans-CN")
    page.get_by_role("link", name="登录").first.click()

    page.get_by_label("用户名").fill("demo-admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")
    nav = page.locator("#main-nav")
    open_menu(page, nav.get_by_role("button", name="管理", exact=True))
    nav.get_by_role("link", name="用户", exact=True).click()
    expect(page.get_by_role("cell", name="demo-admin")).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    # The choice is remembered on the next page.
    open_menu(page, nav.get_by_role("button", name="Administration", exact=True))
    nav.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="Signed in")).to_be_visible()

    open_menu(page, page.locator("#user-menu"))
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto(page.base_url + "/admin/users/")
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()


def test_wrong_password_shows_the_message_and_keeps_the_username(page, make_user):
    make_user("staff", username="li")
    page.goto(page.base_url + "/login")
    page.get_by_label("用户名").fill("li")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    expect(page.get_by_label("用户名")).to_have_value("li")


def test_menu_collapses_on_a_phone(browser, live_server, make_user):
    make_user("admin", username="phone-admin")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/login")
    page.get_by_label("用户名").fill("phone-admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    users_link = page.locator("#main-nav").get_by_role("link", name="用户", exact=True)
    expect(users_link).to_be_hidden()
    open_menu(page, page.get_by_role("button", name="菜单"))
    # The menu slides open first (on a busy machine its "管理" could be clicked mid-slide).
    expect(page.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))
    open_menu(page, page.locator("#main-nav").get_by_role("button", name="管理", exact=True))
    expect(users_link).to_be_visible()
    context.close()

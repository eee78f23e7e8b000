"""Applying for mediation on a phone (SPEC 8): the applicant applies, staff accept, the party
signs in to the new case with its application code and adds a file, staff take it into the
dossier; and an application declined, whose reason the applicant reads."""

import pytest
from playwright.sync_api import expect

from tests.case_factory import centre_for, user_for
from tests.conftest import PASSWORD

PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def dossier_folder(app, tmp_path):
    previous = app.config["DOSSIER_FOLDER"]
    app.config["DOSSIER_FOLDER"] = str(tmp_path / "dossier")
    yield
    app.config["DOSSIER_FOLDER"] = previous


@pytest.fixture
def staff(db):
    """The centre and its staff user; the test's transaction then ends (no SQLite lock)."""
    user_for(centre_for("330106"), "staff")
    db.session.commit()
    db.session.remove()
    return "staff-330106"


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    return page


def fits_the_screen(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


def apply_for_mediation(page, name="张三", phone_number="13812345678", files=()):
    page.goto(page.base_url + "/apply")
    page.get_by_label("纠纷类型").select_option("property")
    page.get_by_label("街道（乡镇）").fill("文新街道")
    applicant = page.locator("#applicant")
    applicant.get_by_label("姓名或单位名称").fill(name)
    applicant.get_by_label("身份证号码").fill("11010519491231002X")
    applicant.get_by_label("手机号码").fill(phone_number)
    respondent = page.locator(".respondent").first
    respondent.get_by_label("类型").select_option("organization")
    respondent.get_by_label("姓名或单位名称").fill("杭州某某物业有限公司")
    page.get_by_label("纠纷情况").fill("小区电梯停运三个月。")
    page.get_by_label("您的请求").fill("请求减免停运期间物业费。")
    if files:
        page.get_by_label("证据材料").set_input_files(list(files))
    fits_the_screen(page)
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("heading", name="申请已提交")).to_be_visible()
    fits_the_screen(page)
    return page.locator(".application-number").inner_text(), page.locator(
        ".application-code"
    ).inner_text()


def sign_in(page, username):
    page.goto(page.base_url + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_apply_accept_sign_in_and_add_evidence(browser, live_server, phone, staff, tmp_path):
    photo = tmp_path / "电梯停运.pdf"
    photo.write_bytes(PDF)
    number, code = apply_for_mediation(phone, files=[str(photo)])
    assert len(code) == 8

    desk = browser.new_context(locale="zh-CN").new_page()
    desk.base_url = live_server
    sign_in(desk, staff)
    desk.goto(live_server + "/cases/dashboard")
    queue = desk.locator("#queue-applications")
    queue.get_by_role("link", name=number).click()
    expect(desk.get_by_text("电梯停运.pdf")).to_be_visible()
    desk.get_by_role("button", name="受理并登记案件").click()
    expect(desk.get_by_text(f"申请 {number} 已受理")).to_be_visible()
    desk.get_by_role("link", name="查看案件").click()
    expect(desk.locator(".submitted-by-party")).to_contain_text("张三")

    # The applicant follows the application, then signs in to the case with the same code.
    phone.goto(phone.base_url + "/apply/status")
    phone.get_by_label("申请编号").fill(number.lower())
    phone.get_by_label("申请查询码").fill(code)
    phone.get_by_role("button", name="查询申请").click()
    expect(phone.locator(".state-accepted")).to_be_visible()
    phone.locator(".application-status").get_by_role("link").click()
    phone.get_by_label("查询码").fill(code)
    phone.get_by_role("button", name="查询", exact=True).click()
    expect(phone.locator(".state-badge")).to_have_text("待分流")

    receipt = tmp_path / "物业费收据.pdf"
    receipt.write_bytes(PDF + b"%receipt\n")
    phone.get_by_role("link", name="提交或查看证据材料").click()
    phone.get_by_label("文件").set_input_files(str(receipt))
    phone.get_by_role("button", name="提交文件").click()
    expect(phone.locator(".submission-pending")).to_contain_text("物业费收据.pdf")
    fits_the_screen(phone)

    desk.reload()
    submitted = desk.locator("#submitted")
    expect(submitted).to_contain_text("物业费收据.pdf")
    submitted.get_by_role("button", name="收入卷宗").click()
    expect(desk.locator("#dossier")).to_contain_text("物业费收据.pdf")
    expect(desk.locator("#submitted")).to_have_count(0)

    phone.reload()
    # Both files are in the dossier: the one sent with the application and this one.
    accepted = phone.locator(".submission-accepted")
    expect(accepted.filter(has_text="物业费收据.pdf")).to_contain_text("已收入案件卷宗")
    expect(accepted.filter(has_text="电梯停运.pdf")).to_contain_text("已收入案件卷宗")


def test_a_declined_application_shows_its_reason(browser, live_server, phone, staff):
    number, code = apply_for_mediation(phone, name="王五", phone_number="13900001111")
    desk = browser.new_context(locale="zh-CN").new_page()
    desk.base_url = live_server
    sign_in(desk, staff)
    desk.goto(live_server + "/cases/dashboard")
    desk.locator("#queue-applications").get_by_role("link", name=number).click()
    decline = desk.locator("#decline")
    decline.get_by_role("button", name="不予受理").click()
    expect(decline.get_by_text("请选择不予受理的理由。")).to_be_visible()
    decline.get_by_label("原因").select_option("outside_remit")
    decline.get_by_label("给申请人的说明").fill("该纠纷发生在拱墅区，请向拱墅区中心申请。")
    decline.get_by_role("button", name="不予受理").click()
    expect(desk.get_by_text(f"申请 {number} 已不予受理")).to_be_visible()

    phone.goto(phone.base_url + "/apply/status")
    phone.get_by_label("申请编号").fill(number)
    phone.get_by_label("申请查询码").fill(code)
    phone.get_by_role("button", name="查询申请").click()
    expect(phone.locator(".state-declined")).to_contain_text("不属于本中心受理范围")
    expect(phone.locator(".decline-note")).to_have_text("该纠纷发生在拱墅区，请向拱墅区中心申请。")
    fits_the_screen(phone)

"""Parties on their phones: check a case and leave mediation for court; confirm a performance,
after which the obligor's certificate verifies."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mediation.integrity.models import Certificate, IntegrityRecord

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    return page


def codes_of(db, case) -> dict[str, str]:
    """Each role's access code; then the test's own transaction ends, so that it holds no
    SQLite lock while the live server writes."""
    codes = {p.role: case.access_codes[p.id] for p in case.parties}
    db.session.rollback()
    return codes


def check_case(page, number, code):
    page.goto(page.base_url + "/")
    page.get_by_role("link", name="查询案件").click()
    page.get_by_label("案号").fill(number)
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询", exact=True).click()


def fits_the_screen(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


def test_a_party_checks_the_case_and_goes_to_court(phone, make_case, db):
    case = make_case("mediating")
    number, codes = case.number, codes_of(db, case)
    # As typed on a phone: round brackets, a space, the code in lower case.
    typed = number.replace("〔", "(").replace("〕", ") ")
    check_case(phone, typed, codes["applicant"].lower())

    expect(phone.locator(".case-number")).to_have_text(number)
    expect(phone.locator(".state-badge")).to_have_text("调解中")
    expect(phone.get_by_text("您的案件正在调解中")).to_be_visible()
    expect(phone.locator(".mediator")).to_have_text("王调解")
    fits_the_screen(phone)

    phone.get_by_role("link", name="退出调解，向法院起诉").click()
    expect(phone.get_by_text("您的案件调解立即结束，无需任何人批准。")).to_be_visible()
    phone.get_by_label("需要告知中心的情况（选填）").fill("希望尽快起诉。")
    phone.get_by_role("button", name="确认退出调解，向法院起诉").click()

    expect(phone.locator(".state-badge")).to_have_text("已转诉讼")
    expect(phone.locator(".transfer-reason")).to_have_text("当事人申请诉讼")
    expect(phone.get_by_text("下一步：您可以向人民法院提起诉讼")).to_be_visible()
    expect(phone.get_by_role("link", name="退出调解，向法院起诉")).to_have_count(0)
    fits_the_screen(phone)

    phone.get_by_role("button", name="退出查询").click()
    expect(phone.get_by_text("您已退出案件查询。")).to_be_visible()


def test_the_obligee_confirms_performance_and_the_certificate_verifies(phone, make_case, db):
    case = make_case("agreed")
    case_id, number, codes = case.id, case.number, codes_of(db, case)
    check_case(phone, number, codes["applicant"])
    expect(phone.locator(".state-badge")).to_have_text("履行中")
    obligation = phone.locator(".obligation")
    expect(obligation.locator(".obligation-state")).to_have_text("待履行")
    fits_the_screen(phone)
    expect(phone.get_by_text("对方履行了对您的义务后，请在下方确认。")).to_be_visible()
    obligation.get_by_role("link", name="确认已履行").click()
    # Asked first, as leaving for court is; "no" goes back with nothing recorded.
    expect(phone.get_by_text("确认后无法在此撤销。")).to_be_visible()
    fits_the_screen(phone)
    phone.get_by_role("link", name="不，返回我的案件").click()
    expect(obligation.locator(".obligation-state")).to_have_text("待履行")
    obligation.get_by_role("link", name="确认已履行").click()
    phone.get_by_role("button", name="是的，对方已履行").click()

    expect(phone.get_by_text("谢谢，履行情况已登记。")).to_be_visible()
    expect(phone.get_by_text("对方履行了对您的义务后，请在下方确认。")).to_have_count(0)
    expect(phone.locator(".state-badge")).to_have_text("已履行")
    phone.get_by_role("button", name="退出查询").click()

    # The obligor performed on time: their certificate shows in their own view.
    check_case(phone, number, codes["respondent"])
    certificate = phone.locator(".certificate")
    expect(certificate).to_be_visible()
    certificate_number = certificate.locator(".certificate-number").inner_text()
    code = certificate.locator(".verification-code").inner_text()
    stored = db.session.scalars(
        select(Certificate)
        .join(IntegrityRecord, Certificate.record_id == IntegrityRecord.id)
        .where(IntegrityRecord.case_id == case_id)
    ).one()
    assert (stored.number, stored.verification_code) == (certificate_number, code)
    db.session.rollback()

    # Anyone can verify it.
    phone.goto(phone.base_url + "/verify")
    phone.get_by_label("证书编号").fill(certificate_number)
    phone.get_by_label("验证码").fill(code.lower())
    phone.locator("main form button[type=submit]").click()
    expect(phone.get_by_text("有效", exact=True)).to_be_visible()
    fits_the_screen(phone)


def test_on_a_phone_the_language_switch_shows_without_opening_the_menu(phone):
    phone.goto(phone.base_url + "/status")
    english = phone.get_by_role("button", name="English")
    expect(english).to_be_visible()
    expect(phone.get_by_role("link", name="登录")).to_be_hidden()  # the rest waits in the menu
    english.click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.get_by_role("heading", name="Check your case")).to_be_visible()
    fits_the_screen(phone)
    # The menu still opens without script.
    phone.locator("summary", has_text="Menu").click()
    expect(phone.locator(".portal-menu-items").get_by_role("link", name="Sign in")).to_be_visible()
    assert phone.evaluate("document.scripts.length") == 0


def test_on_a_phone_staff_pages_show_the_language_switch_without_the_menu(phone, make_user):
    from tests.browser.test_case_journey import sign_in

    make_user("staff", username="staff-phone")
    sign_in(phone, "staff-phone")
    english = phone.get_by_role("button", name="English")
    expect(english).to_be_visible()
    expect(phone.locator("#main-nav")).to_be_hidden()  # the menu is still closed
    english.click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    fits_the_screen(phone)

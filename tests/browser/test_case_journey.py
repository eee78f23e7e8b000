"""Staff register a case and route it; the mediator records a session and an agreement."""

import re
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from mediation import clock
from mediation.directory.models import Mediator, Organization
from tests.browser.conftest import open_menu
from tests.conftest import PASSWORD


def shanghai_today():
    """Today in the centre's zone (Asia/Shanghai), which is what the forms validate against:
    after 16:00 UTC it is already tomorrow there."""
    return clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()


def sign_in(page, username):
    page.goto(page.base_url + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def sign_out(page):
    open_menu(page, page.locator("#user-menu"))
    page.get_by_role("button", name="退出").click()


def test_a_dispute_from_registration_to_agreement(page, app, make_user):
    make_user("staff", username="li-staff")
    mediator_user = make_user("mediator", username="zhang-mediator")
    with app.app_context():
        db = app.extensions["sqlalchemy"].session
        org = Organization(
            centre_id=mediator_user.centre_id, name="西湖区劳动争议调解中心", kind="professional"
        )
        db.add(org)
        db.flush()
        db.add(
            Mediator(
                centre_id=org.centre_id,
                organization_id=org.id,
                name="张调解",
                user_id=mediator_user.id,
            )
        )
        db.commit()

    sign_in(page, "li-staff")
    page.goto(page.base_url + "/cases/new")
    page.get_by_label("来源渠道").select_option(label="来访")
    page.get_by_label("纠纷类型").select_option(label="劳动争议")
    page.get_by_label("街道（乡镇）").fill("北山街道")
    page.get_by_label("标的额（元）").fill("52000")
    page.get_by_label("纠纷简要情况").fill("公司拖欠工资三个月。")
    first, second = (
        page.locator("fieldset.party-row").nth(0),
        page.locator("fieldset.party-row").nth(1),
    )
    first.get_by_label("姓名").fill("王小明")
    first.get_by_label("身份证号码").fill("11010519491231002X")
    expect(second.get_by_label("姓名")).to_be_visible()
    second.get_by_label("类型").select_option(label="组织")
    # An organisation has a 名称, not a 姓名: the label follows the kind chosen.
    expect(second.get_by_label("名称")).to_be_visible()
    second.get_by_label("名称").fill("杭州某某科技有限公司")
    page.get_by_role("button", name="登记", exact=True).click()

    expect(page.get_by_text("已登记")).to_be_visible()
    codes = page.locator(".access-code")
    expect(codes).to_have_count(2)
    assert re.fullmatch(r"[2-9A-Z]{8}", codes.first.inner_text())
    number = re.search(r"西湖调〔\d{4}〕\d+号", page.content()).group(0)

    page.get_by_role("link", name="查看案件").click()
    expect(page.locator(".case-number")).to_have_text(number)
    expect(page.locator(".state-badge")).to_have_text("待分流")
    page.get_by_role("link", name="分流委派").click()
    page.get_by_label("调解员").select_option(index=0)
    page.get_by_role("button", name="分流委派").click()
    expect(page.locator(".state-badge")).to_have_text("已委派")
    expect(page.get_by_text("剩余 30 天")).to_be_visible()
    case_url = page.url
    sign_out(page)

    sign_in(page, "zhang-mediator")
    page.goto(case_url)
    page.get_by_role("link", name="记录调解").click()
    page.get_by_label("时间").fill(f"{shanghai_today()}T09:30")
    page.get_by_label("地点").fill("北山街道调解室")
    page.get_by_label("到场情况").fill("王小明、杭州某某科技有限公司委托代理人")
    page.get_by_label("调解笔录").fill("双方陈述意见，同意分期支付。")
    page.get_by_role("button", name="记录调解").click()
    expect(page.locator(".state-badge")).to_have_text("调解中")

    page.get_by_role("link", name="达成调解协议").click()
    page.get_by_label("签订日期").fill(str(shanghai_today()))
    page.get_by_label("协议内容").fill("被申请人于下月底前支付工资 52000 元。")
    # The usual obligation is chosen already: the respondent owes the applicant.
    expect(page.get_by_label("义务人")).to_have_value(re.compile(r"\d+"))
    expect(page.get_by_label("义务人").locator("option:checked")).to_have_text(
        "杭州某某科技有限公司（被申请人）"
    )
    expect(page.get_by_label("权利人").locator("option:checked")).to_have_text("王小明（申请人）")
    page.get_by_label("义务内容").fill("支付拖欠工资")
    page.get_by_label("金额（元）").fill("52000")
    page.get_by_label("履行期限").fill("2099-01-31")
    page.get_by_role("button", name="达成调解协议").click()

    expect(page.locator(".state-badge")).to_have_text("履行中")
    expect(page.get_by_role("cell", name="支付拖欠工资")).to_be_visible()
    timeline = page.locator(".timeline")
    for step in ("登记", "分流委派", "记录调解", "达成调解协议"):
        expect(timeline.get_by_text(step, exact=True)).to_be_visible()
    # Masked identity on the case page.
    expect(page.get_by_text("1101**********002X")).to_be_visible()

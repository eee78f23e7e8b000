"""What the printed documents say (issue #18): the wording of the transfer letter, counts in
Chinese numerals, the parties' full ID numbers on the papers for a court (and the audit entry
of opening them), the QR codes of the notice and the certificate at the public address."""

import re
from urllib.parse import quote

import pytest
from sqlalchemy import select

from config import ConfigError
from mediation import create_app
from mediation.audit.models import AuditEntry
from mediation.cases.models import Agreement
from mediation.documents.printing import chinese_count, qr_svg
from tests.case_factory import person


def text_of(page: str) -> str:
    """The page as a reader sees it: tags gone, runs of white space one space."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize(
    ("category", "name"),
    [("neighbour", "邻里纠纷"), ("labour", "劳动争议"), ("family", "婚姻家庭"), ("other", "其他")],
)
def test_the_transfer_letter_names_the_category_once(client, login, make_case, category, name):
    case = make_case("transferred", category_code=category)
    login("staff")
    letter = client.get(f"/cases/{case.id}/print/transfer").get_data(as_text=True)
    assert f"之间的纠纷（纠纷类型：{name}）" in letter
    assert "纠纷纠纷" not in letter and "争议纠纷" not in letter


def test_the_transfer_letter_has_no_space_between_its_sentences(client, login, make_case):
    case = make_case("transferred")
    login("staff")
    letter = client.get(f"/cases/{case.id}/print/transfer").get_data(as_text=True)
    assert f"案号为{case.number}。因调解不成" in letter


@pytest.mark.parametrize(
    ("n", "words"),
    [(1, "一"), (2, "二"), (4, "四"), (10, "十"), (11, "十一"), (20, "二十"), (35, "三十五")],
)
def test_counts_in_chinese_numerals(n, words):
    assert chinese_count(n) == words


def test_the_agreement_counts_its_copies_in_chinese_numerals(client, login, make_case):
    parties = [
        person("applicant", "张三", "11010519491231002X"),
        person("respondent", "李四", "440524188001010014"),
        person("respondent", "王五", None),
    ]
    case = make_case("agreed", parties=parties)
    login("staff")
    page = client.get(f"/cases/{case.id}/print/agreement").get_data(as_text=True)
    assert "本协议一式四份" in page


def test_each_agreement_term_is_a_paragraph_of_its_own(client, login, make_case, db):
    case = make_case("agreed")
    agreement = db.session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    agreement.terms = "一、被申请人支付维修费用5000元。\n二、双方再无其他争议。"
    db.session.commit()
    login("staff")
    page = client.get(f"/cases/{case.id}/print/agreement").get_data(as_text=True)
    terms = "".join(re.findall(r'<div class="agreement-terms">(.*?)</div>', page, re.S))
    assert re.findall(r'<p class="indent">(.*?)</p>', terms) == [
        "一、被申请人支付维修费用5000元。",
        "二、双方再无其他争议。",
    ]


def test_the_printed_pages_carry_the_case_number_and_page_numbers(client, login, make_case):
    case = make_case("agreed")
    login("staff")
    agreement = client.get(f"/cases/{case.id}/print/agreement").get_data(as_text=True)
    assert f'href="/cases/{case.id}/print/page.css"' in agreement
    css = client.get(f"/cases/{case.id}/print/page.css")
    assert css.mimetype == "text/css"
    text = css.get_data(as_text=True)
    assert f'content: "{case.number}";' in text
    assert 'content: "第 " counter(page) " 页 共 " counter(pages) " 页";' in text


ZHANG_FULL, ZHANG_MASKED = "11010519491231002X", "1101**********002X"


@pytest.mark.parametrize(
    ("state", "document", "audited_as"),
    [("agreed", "agreement", "agreement"), ("transferred", "transfer", "transfer_letter")],
)
def test_papers_for_a_court_print_full_id_numbers_and_are_audited(
    client, login, make_case, db, state, document, audited_as
):
    case = make_case(state)
    login("staff")
    page = client.get(f"/cases/{case.id}/print/{document}").get_data(as_text=True)
    assert ZHANG_FULL in page and "440524188001010014" in page
    assert ZHANG_MASKED not in page
    assert "完整证件号码" in text_of(page)  # told on screen, not printed
    entry = db.session.scalars(select(AuditEntry).filter_by(action="document.full_ids")).one()
    assert entry.target == case.number and entry.actor_name == "staff-330106"
    assert entry.details["document"] == audited_as


def test_other_pages_keep_id_numbers_masked(client, login, make_case, db):
    case = make_case("agreed")
    login("staff")
    for url in [
        f"/cases/{case.id}",
        f"/cases/{case.id}/print/notice",
        f"/cases/{case.id}/print/sessions/{case.sessions[0].id}",
    ]:
        page = client.get(url).get_data(as_text=True)
        assert ZHANG_FULL not in page, url
    assert ZHANG_MASKED in page
    assert db.session.scalars(select(AuditEntry).filter_by(action="document.full_ids")).all() == []


PUBLIC = "https://tiaojie.example.gov.cn"


@pytest.fixture
def public_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC)
    return PUBLIC


def test_the_notice_links_the_status_page_at_the_public_address_with_a_qr_code(
    app, client, login, make_case, public_url
):
    case = make_case("registered")
    login("staff")
    page = client.get(f"/cases/{case.id}/print/notice", headers={"Host": "evil.example"})
    html = page.get_data(as_text=True)
    assert "evil.example" not in html
    assert f"案件查询网址：{PUBLIC}/status" in text_of(html)
    target = f"{PUBLIC}/status?number={quote(case.number)}"
    with app.test_request_context():
        assert str(qr_svg(target)) in html  # the QR code of that very link, once per party
    assert html.count("<svg") == 2


def test_the_status_page_opened_from_the_qr_code_has_the_number_filled_in(client, make_case):
    case = make_case("registered")
    page = client.get(f"/status?number={quote(case.number)}").get_data(as_text=True)
    assert f'value="{case.number}"' in page


def test_without_a_public_address_the_notice_prints_no_link(
    client, login, make_case, app, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "")
    case = make_case("registered")
    login("staff")
    html = client.get(f"/cases/{case.id}/print/notice", headers={"Host": "evil.example"}).get_data(
        as_text=True
    )
    assert "evil.example" not in html and "<svg" not in html
    assert "尚未设置 PUBLIC_URL" in html


@pytest.mark.parametrize("value", ["tiaojie.example.gov.cn", "ftp://x.cn", "https://x.cn/app"])
def test_a_public_address_that_is_no_address_stops_the_app(value):
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        create_app("testing", PUBLIC_URL=value)

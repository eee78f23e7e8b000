"""The printable documents, printed by Chromium to PDF: A4 pages, the right number of them,
and the key fields in the PDF's own text (read with the small reader below, since
poppler-utils is not always installed)."""

import re
import zlib

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mediation.auth.accounts import user_by_username
from mediation.cases import workflow
from mediation.cases.models import Agreement, Case, Transfer
from mediation.cases.workflow import Actor
from mediation.extensions import db
from tests.case_factory import COURT, build_case
from tests.conftest import PASSWORD

A4 = (595.0, 842.0)  # points; Chromium writes 594.96 x 841.92
PDF_FILE = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


# --- a tiny PDF reader: pages, their size and their text ------------------------------------


def pdf_objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number → (dictionary, decoded stream or None)."""
    objects, position = {}, 0
    start_of_object = re.compile(rb"(\d+) 0 obj\b")
    while match := start_of_object.search(pdf, position):
        start = match.end()
        stream_at, end_at = pdf.find(b"stream", start), pdf.find(b"endobj", start)
        if stream_at == -1 or stream_at > end_at:
            objects[int(match.group(1))] = (pdf[start:end_at], None)
            position = end_at + 6
            continue
        head = pdf[start:stream_at]
        length = int(re.search(rb"/Length (\d+)", head).group(1))
        begin = stream_at + 6
        begin += 2 if pdf[begin : begin + 2] == b"\r\n" else 1
        raw = pdf[begin : begin + length]
        objects[int(match.group(1))] = (head, zlib.decompress(raw) if b"Flate" in head else raw)
        position = pdf.find(b"endobj", begin + length) + 6
    return objects


def to_unicode(cmap: bytes) -> tuple[int, dict[bytes, str]]:
    """A ToUnicode CMap: code width in bytes and code → text."""
    width = len(re.search(rb"begincodespacerange\s*<([0-9A-Fa-f]+)>", cmap).group(1)) // 2
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[bytes.fromhex(code.decode())] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, text in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            for offset in range(int(high, 16) - int(low, 16) + 1):
                code = (int(low, 16) + offset).to_bytes(len(low) // 2, "big")
                mapping[code] = chr(int(text, 16) + offset)
    return width, mapping


TEXT_OPERATION = re.compile(
    rb"/(\w+) [\d.]+ Tf|<([0-9A-Fa-f]*)> Tj|\[(.*?)\] TJ"
    rb"|/Span\s*<<\s*/ActualText <([0-9A-Fa-f]+)>\s*>> BDC|(EMC)|(ET)",
    re.S,
)


def page_text(content: bytes, fonts: dict[bytes, tuple[int, dict]]) -> str:
    text, font, actual = [], None, False
    for name, shown, shown_list, actual_text, end_span, end_text in TEXT_OPERATION.findall(content):
        if name:
            font = fonts.get(name)
        elif actual_text:
            text.append(bytes.fromhex(actual_text.decode()).decode("utf-16-be").lstrip("\ufeff"))
            actual = True
        elif end_span:
            actual = False
        elif end_text:
            text.append("\n")
        elif not actual and font:
            width, mapping = font
            for hex_string in [shown] if shown else re.findall(rb"<([0-9A-Fa-f]*)>", shown_list):
                codes = bytes.fromhex(hex_string.decode())
                for i in range(0, len(codes), width):
                    text.append(mapping.get(codes[i : i + width], "?"))
    return "".join(text)


def read_pdf(pdf: bytes) -> list[dict]:
    """Each page in order: its MediaBox (width, height) and its text."""
    objects = pdf_objects(pdf)
    root = next(head for head, _ in objects.values() if re.search(rb"/Type /Pages\b", head))
    kids = [
        int(n) for n in re.findall(rb"(\d+) 0 R", re.search(rb"/Kids \[(.*?)\]", root).group(1))
    ]
    pages = []
    for number in kids:
        head = objects[number][0]
        box = [float(v) for v in re.search(rb"/MediaBox \[([^\]]*)\]", head).group(1).split()]
        fonts = {}
        font_dict = re.search(rb"/Font <<(.*?)>>", head, re.S)
        for name, ref in re.findall(rb"/(\w+) (\d+) 0 R", font_dict.group(1) if font_dict else b""):
            cmap_ref = re.search(rb"/ToUnicode (\d+) 0 R", objects[int(ref)][0])
            if cmap_ref:
                fonts[name] = to_unicode(objects[int(cmap_ref.group(1))][1])
        contents = re.search(rb"/Contents (?:\[([^\]]*)\]|(\d+) 0 R)", head)
        refs = (
            re.findall(rb"(\d+) 0 R", contents.group(1))
            if contents.group(1)
            else [contents.group(2)]
        )
        text = "".join(page_text(objects[int(r)][1], fonts) for r in refs)
        pages.append({"size": (box[2] - box[0], box[3] - box[1]), "text": text})
    return pages


def print_to_pdf(page) -> list[dict]:
    page.emulate_media(media="print")
    # The page's own @page rule decides the paper: nothing here says A4.
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    page.emulate_media(media="screen")
    assert pdf.startswith(b"%PDF-")
    assert re.search(rb"/FontFamily \(Noto S(?:erif|ans) CJK SC\)", pdf), "no CJK font in the PDF"
    pages = read_pdf(pdf)
    for sheet in pages:
        assert sheet["size"] == pytest.approx(A4, abs=1.0), sheet["size"]
    return pages


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_in_pdf(pages, *fields):
    text = squeeze("".join(p["text"] for p in pages))
    for value in fields:
        assert squeeze(value) in text, f"{value!r} not in the PDF text: {text[:400]!r}"


# --- the journeys ---------------------------------------------------------------------------


@pytest.fixture
def dossier_folder(app, tmp_path):
    previous = app.config["DOSSIER_FOLDER"]
    app.config["DOSSIER_FOLDER"] = str(tmp_path / "dossier")
    yield
    app.config["DOSSIER_FOLDER"] = previous


@pytest.fixture
def cases(app):
    """An agreed case and a case transferred after failed mediation, in centre 330106."""
    with app.app_context():
        agreed = build_case("agreed")
        transferred = build_case("transferred", transfer_reason="failed")
        result = {
            "agreed": (agreed.id, agreed.number),
            "transferred": (transferred.id, transferred.number),
            "session": transferred.sessions[0].id,
        }
        db.session.remove()
        return result


def sign_in(page, username="staff-330106"):
    page.goto(page.base_url + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_acceptance_notices_print_one_a4_page_per_party(page, cases):
    case_id, number = cases["agreed"]
    sign_in(page)
    page.goto(f"{page.base_url}/cases/{case_id}")
    page.get_by_role("link", name="受理通知书（补打，不含查询码）").click()
    sheets = page.locator(".print-sheet")
    expect(sheets).to_have_count(2)
    expect(sheets.first).to_contain_text("张三")
    expect(page.locator(".access-code")).to_have_count(0)
    pages = print_to_pdf(page)
    assert len(pages) == 2
    assert "张三" in squeeze(pages[0]["text"]) and "李四" in squeeze(pages[1]["text"])
    assert_in_pdf(
        pages, "受理通知书", "西湖区社会矛盾纠纷调处化解中心", number, "登记时随受理通知书"
    )


def test_a_new_access_code_prints_on_its_notice(page, cases):
    case_id, number = cases["agreed"]
    sign_in(page)
    page.goto(f"{page.base_url}/cases/{case_id}/act/new_access_code")
    page.get_by_label("当事人").select_option(label="李四（被申请人）")
    page.get_by_role("button", name="重新生成查询码").click()
    code = page.locator(".access-code")
    expect(code).to_have_count(1)
    value = code.inner_text()
    assert re.fullmatch(r"[2-9A-Z]{8}", value)
    pages = print_to_pdf(page)
    assert len(pages) == 1
    # The alert above the notice is for the screen only.
    assert "只在本页显示" not in squeeze(pages[0]["text"])
    assert_in_pdf(pages, "受理通知书", "李四", number, value)


def test_the_mediation_agreement_prints_terms_and_obligations(page, cases):
    case_id, number = cases["agreed"]
    sign_in(page, "mediator-330106")
    page.goto(f"{page.base_url}/cases/{case_id}")
    page.get_by_role("link", name="调解协议书").click()
    sheet = page.locator(".print-sheet")
    expect(sheet).to_contain_text("被申请人支付维修费用5000元。")
    pages = print_to_pdf(page)
    assert len(pages) == 1
    assert_in_pdf(
        pages,
        "调解协议书",
        number,
        "张三",
        "李四",
        "被申请人支付维修费用5000元。",
        "支付维修费用",
        "¥5,000.00",
        "西湖人民调解委员会",
    )


def test_the_session_record_prints(page, cases):
    case_id, number = cases["transferred"]
    sign_in(page)
    page.goto(f"{page.base_url}/cases/{case_id}")
    page.locator(".printable-documents").get_by_role("link", name=re.compile("调解笔录")).click()
    expect(page.locator(".print-sheet")).to_contain_text("中心第一调解室")
    pages = print_to_pdf(page)
    assert len(pages) == 1
    assert_in_pdf(pages, "调解笔录", number, "中心第一调解室", "双方陈述", "王调解")
    assert_numbered([squeeze(sheet["text"]) for sheet in pages], number)


def test_staff_attach_a_file_hand_it_over_and_print_the_transfer_letter(
    page, app, cases, dossier_folder, tmp_path
):
    case_id, number = cases["transferred"]
    evidence = tmp_path / "无争议事实确认书.pdf"
    evidence.write_bytes(PDF_FILE)
    sign_in(page)
    page.goto(f"{page.base_url}/cases/{case_id}")
    page.locator("#dossier").get_by_role("link", name="添加文件").click()
    upload = page.locator("#add-file")
    upload.get_by_label("文件", exact=True).set_input_files(str(evidence))
    upload.get_by_label("材料类别").select_option(label="转诉讼材料")
    upload.get_by_role("button", name="加入卷宗").click()
    expect(page.get_by_text("已加入卷宗：无争议事实确认书.pdf")).to_be_visible()
    expect(page.locator(".dossier-files")).to_contain_text("转诉讼材料")

    page.goto(f"{page.base_url}/cases/{case_id}")
    page.get_by_role("link", name="移交法院的材料").click()
    page.get_by_label(re.compile("无争议事实确认书.pdf")).check()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存移交法院的材料清单。")).to_be_visible()
    expect(page.locator(".handed-over")).to_contain_text("无争议事实确认书.pdf")

    with app.app_context():
        staff = Actor.for_user(user_by_username("staff-330106"))
        workflow.record_court_filing(db.session.get(Case, case_id), "（2026）浙0106民初88号", staff)
        db.session.commit()
        db.session.remove()
    page.reload()
    expect(page.locator(".filing-number")).to_have_text("（2026）浙0106民初88号")
    pages = print_to_pdf(page)
    assert len(pages) == 1
    assert_in_pdf(
        pages,
        "转诉讼函",
        number,
        COURT,
        "调解不成",
        "漏水事实双方无争议。",
        "无争议事实确认书.pdf",
        "（2026）浙0106民初88号",
        "西湖区社会矛盾纠纷调处化解中心",
    )
    assert_numbered([squeeze(sheet["text"]) for sheet in pages], number)


# --- documents of several pages (issue #18) -------------------------------------------------

NUMERALS = "一二三四五六七八九十"
LONG_TERM = "被申请人应当按照本协议约定的期限和方式履行义务，申请人应当予以配合；" * 6


def pdf_pages(page) -> list[str]:
    """The text of each page of the page printed to A4 by Chromium."""
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4")
    page.emulate_media(media="screen")
    return [squeeze(sheet["text"]) for sheet in read_pdf(pdf)]


def assert_numbered(pages: list[str], number: str) -> None:
    for index, text in enumerate(pages, start=1):
        assert squeeze(number) in text, f"page {index} has no case number: {text[:200]!r}"
        assert f"第{index}页共{len(pages)}页" in text, f"page {index}: {text[-200:]!r}"


def test_a_long_agreement_numbers_its_pages_and_keeps_the_signatures_with_the_last_term(
    page, app, cases
):
    case_id, number = cases["agreed"]
    terms = [f"{NUMERALS[i]}、{LONG_TERM}" for i in range(10)]
    with app.app_context():
        agreement = db.session.scalar(select(Agreement).where(Agreement.case_id == case_id))
        agreement.terms = "\n".join(terms)
        db.session.commit()
        db.session.remove()
    sign_in(page)
    page.goto(f"{page.base_url}/cases/{case_id}/print/agreement")
    # Every term is a paragraph of its own, indented like the first.
    indents = page.locator(".agreement-terms p").evaluate_all(
        "ps => ps.map(p => getComputedStyle(p).textIndent)"
    )
    assert len(indents) == 10 and len(set(indents)) == 1 and indents[0] != "0px"
    pages = pdf_pages(page)
    assert len(pages) >= 2
    assert_numbered(pages, number)
    last = pages[-1]
    # The signatures are not alone on the last page: the last term came with them.
    assert "（签名）" in last and "十、" in last
    assert "一式三份" in last


def assert_last_page_begins_before(pages: list[str], number: str, marker: str, count: int):
    """Every page numbered, and the last one, with the signatures, holds at least ten
    characters of the text before `marker` (the part that must not stand alone)."""
    assert_numbered(pages, number)
    last, header = pages[-1], f"{squeeze(number)}第{len(pages)}页共{len(pages)}页"
    at = last.find(marker)
    assert at >= 0 and "（签名）" in last, (count, last)
    assert last.startswith(header) and len(last[len(header) : at]) >= 10, (count, last)


def store_lines(app, model, case_id: int, column: str, lines: list[str]) -> None:
    """Writes the case's record of `model` with `lines` as the text of `column`."""
    with app.app_context():
        record = db.session.scalar(select(model).where(model.case_id == case_id))
        setattr(record, column, "\n".join(lines))
        db.session.commit()
        db.session.remove()


def test_the_signature_page_starts_inside_the_last_term_however_long_the_terms(page, app, cases):
    """Terms of three lines each, one more at a time through a whole page: wherever the page
    ends, the obligations' heading stays with its table and the page of the signatures begins
    with the end of the last term, never with the obligations or the closing alone."""
    case_id, number = cases["agreed"]
    sign_in(page)
    for count in range(14, 24):
        terms = [f"第{i + 1}条、{LONG_TERM[: len(LONG_TERM) // 2]}" for i in range(count)]
        store_lines(app, Agreement, case_id, "terms", terms)
        page.goto(f"{page.base_url}/cases/{case_id}/print/agreement")
        # The obligations' heading, then their table's header.
        assert_last_page_begins_before(pdf_pages(page), number, "履行义务义务人权利人", count)


def test_the_transfer_letters_signatures_come_with_the_end_of_the_facts_however_long(
    page, app, cases
):
    """Undisputed facts of more paragraphs, one at a time through a whole page: wherever the
    page ends, the page of the court's filing number and the signatures begins inside the
    facts, never with the filing number or the closing alone."""
    case_id, number = cases["transferred"]
    sign_in(page)
    for count in range(12, 22):
        facts = [f"事实{i + 1}：{LONG_TERM[: len(LONG_TERM) // 2]}" for i in range(count)]
        store_lines(app, Transfer, case_id, "undisputed_facts", facts)
        page.goto(f"{page.base_url}/cases/{case_id}/print/transfer")
        pages = pdf_pages(page)
        assert len(pages) >= 2, count
        assert_last_page_begins_before(pages, number, "法院立案号", count)

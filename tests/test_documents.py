"""The dossier (数字卷宗): uploads checked by content, stored once, downloaded only by those who
may see the case, superseded but never deleted; the printable documents and the files handed
to the court with a transfer."""

import io
import re
import struct
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from mediation.audit.models import AuditEntry
from mediation.auth.accounts import user_by_username
from mediation.cases import workflow
from mediation.cases.models import Case
from mediation.cases.workflow import Actor
from mediation.documents import dossier, storage
from mediation.documents.models import Attachment, StoredFile, transfer_document
from mediation.extensions import db as _db
from tests.conftest import recorded_statements

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40 + b"\xff\xd9"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
MZ = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120


OFFICE_MAIN_PARTS = {
    "docx": (
        "word/document.xml",
        storage.DOCX + ".main+xml",
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:body></w:document>",
    ),
    "xlsx": (
        "xl/workbook.xml",
        storage.XLSX + ".main+xml",
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheets/>%s</workbook>",
    ),
}


def zip_of(parts: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def office_parts(kind: str, text: str = "") -> dict[str, str]:
    """The parts every DOCX or XLSX has, as Word and Excel write them: [Content_Types].xml
    typing each part, _rels/.rels pointing at the main part, and the main part."""
    main, content_type, root = OFFICE_MAIN_PARTS[kind]
    return {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            f'ContentType="application/xml"/><Override PartName="/{main}" '
            f'ContentType="{content_type}"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http:'
            '//schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            f'Target="{main}"/></Relationships>'
        ),
        main: '<?xml version="1.0" encoding="UTF-8"?>' + root % text,
    }


def office_file(kind: str) -> bytes:
    """A minimal DOCX or XLSX (office_parts); "zip": a plain ZIP, no Office file at all."""
    if kind == "zip":
        return zip_of({"notes.txt": "meeting notes"})
    return zip_of(office_parts(kind))


def excel_workbook() -> bytes:
    """An XLSX as a spreadsheet program writes it (openpyxl's, with its styles, theme and
    document properties)."""
    workbook = Workbook()
    workbook.active["A1"] = "费用清单"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def declaring(content: bytes, name: str, size: int) -> bytes:
    """The ZIP with its directory declaring `size` bytes for the part `name` once expanded:
    a zip bomb's claim without its gigabytes."""
    data = bytearray(content)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        (length,) = struct.unpack_from("<H", data, at + 28)
        if data[at + 46 : at + 46 + length] == name.encode():
            struct.pack_into("<I", data, at + 24, size)
            return bytes(data)
        at = data.find(b"PK\x01\x02", at + 1)
    raise AssertionError(f"{name} is not in the ZIP")


WEB_PAGE = "<html><body><script>alert(1)</script></body></html>"
# A ZIP whose [Content_Types].xml names a DOCX's main part, around a web page.
FAKE_DOCX = zip_of(
    {
        "[Content_Types].xml": office_parts("docx")["[Content_Types].xml"],
        "word/document.xml": "",
        "index.html": WEB_PAGE,
    }
)
DECLARED_4_GB = declaring(
    zip_of({**office_parts("docx"), "word/media/image1.png": PNG}),
    "word/media/image1.png",
    2**32 - 16,
)
NOT_OFFICE = "不是有效的 DOCX 或 XLSX 文档"
ZIP_BOMB = "压缩炸弹"


@pytest.fixture(autouse=True)
def dossier_folder(app, tmp_path):
    """Every test stores its files in a folder of its own."""
    previous = app.config["DOSSIER_FOLDER"]
    app.config["DOSSIER_FOLDER"] = str(tmp_path / "dossier")
    yield tmp_path / "dossier"
    app.config["DOSSIER_FOLDER"] = previous


def files_on_disk(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def make_case(app):
    """Like conftest's make_case, but built in an app context of its own: the test client's
    requests must not share one app context (and its `g`, where the CSRF token is cached)
    with the test. Returns what the tests need of the case, detached."""
    from tests.case_factory import build_case

    def make(state="registered", **overrides):
        with app.app_context():
            case = build_case(state, **overrides)
            return SimpleNamespace(
                id=case.id,
                number=case.number,
                access_codes=case.access_codes,
                party_ids=[p.id for p in case.parties],
                session_ids=[s.id for s in case.sessions],
            )

    return make


@pytest.fixture
def data(app):
    """A database session in an app context of its own, for looking at what was stored."""

    def run(query):
        with app.app_context():
            try:
                return query(_db.session)
            finally:
                _db.session.remove()

    return run


def count(data, model) -> int:
    return data(lambda s: s.scalar(select(func.count()).select_from(model)))


def upload(client, case_id, content, name, kind="evidence", **extra):
    return client.post_form(
        f"/cases/{case_id}/dossier",
        {"file": (io.BytesIO(content), name), "kind": kind, "replaces": "", **extra},
        content_type="multipart/form-data",
    )


def upload_large(client, case_id, content, name):
    """As upload(), closing the request body afterwards: for a body this large the test
    client spools it to a temporary file that it never closes itself."""
    data = {"file": (io.BytesIO(content), name), "kind": "evidence", "replaces": ""}
    data["csrf_token"] = client.csrf_token()
    builder = EnvironBuilder(path=f"/cases/{case_id}/dossier", method="POST", data=data)
    request = builder.get_request()
    try:
        response = client.open(request)
        response.get_data()
        return response
    finally:
        request.environ["wsgi.input"].close()
        builder.close()


@pytest.fixture
def add_file(app):
    """add_file(case, content, name): a file added through the domain function, committed."""

    def add(case, content, name, username="staff-330106", **kwargs):
        with app.app_context():
            attachment = dossier.add_file(
                _db.session.get(Case, case.id),
                io.BytesIO(content),
                name,
                "evidence",
                user_by_username(username),
                **kwargs,
            )
            _db.session.commit()
            result = SimpleNamespace(id=attachment.id, sha256=attachment.sha256)
            _db.session.remove()
            return result

    return add


# --- uploads ---------------------------------------------------------------------------------


def test_staff_add_a_pdf_and_see_it_listed(client, login, make_case, dossier_folder, data):
    case = make_case("registered")
    login("staff")
    response = upload(client, case.id, PDF, "申请书.pdf", kind="application", note="当事人提交")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已加入卷宗：申请书.pdf" in page
    assert "申请书.pdf" in page and "申请材料" in page and "当事人提交" in page
    row = re.search(r'<tr class="dossier-file">(.*?)</tr>', page, re.S).group(1)
    cells = [
        re.sub(r"<[^>]+>|\s+", " ", cell).strip()
        for cell in re.findall(r"<td.*?>(.*?)</td>", row, re.S)
    ]
    uploader = data(lambda s: user_by_username("staff-330106").display_name)
    assert cells[1:5] == ["申请材料", "PDF", f"{len(PDF)} Bytes", uploader]

    stored = data(lambda s: s.scalars(select(StoredFile)).one())
    assert stored.content_type == "application/pdf" and stored.size == len(PDF)
    assert (dossier_folder / stored.sha256[:2] / stored.sha256).read_bytes() == PDF
    attachment = data(lambda s: s.scalars(select(Attachment)).one())
    assert attachment.uploaded_by_id == data(lambda s: user_by_username("staff-330106").id)
    assert attachment.kind == "application"
    audit = data(lambda s: s.scalars(select(AuditEntry).filter_by(action="dossier.upload")).one())
    assert audit.target == case.number and audit.details["filename"] == "申请书.pdf"


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (JPEG, "现场照片.jpg", storage.JPEG),
        (PNG, "截图.png", storage.PNG),
        (office_file("docx"), "协议草稿.docx", storage.DOCX),
        (office_file("xlsx"), "费用清单.xlsx", storage.XLSX),
        (excel_workbook(), "费用清单.xlsx", storage.XLSX),
        # Told apart by their parts, not by their names.
        (office_file("docx"), "名字写错.xlsx", storage.DOCX),
    ],
)
def test_each_accepted_type_is_recognised_by_its_content(
    client, login, make_case, content, name, content_type, data
):
    case = make_case("registered")
    login("staff")
    assert upload(client, case.id, content, name).status_code == 302
    assert data(lambda s: s.scalars(select(StoredFile.content_type)).one()) == content_type


def test_a_png_named_pdf_is_stored_and_downloaded_as_png(client, login, make_case, data):
    """Our rule: the content decides. The file is kept as the PNG it is, and its download
    name ends in .png so that it opens in the right program."""
    case = make_case("registered")
    login("staff")
    assert upload(client, case.id, PNG, "扫描件.pdf").status_code == 302
    attachment = data(lambda s: s.scalars(select(Attachment)).one())
    assert data(lambda s: s.get(StoredFile, attachment.sha256).content_type) == "image/png"
    page = client.get(f"/cases/{case.id}/dossier").get_data(as_text=True)
    assert re.search(r"扫描件\.pdf.*?PNG", page, re.S)
    response = client.get(f"/cases/{case.id}/dossier/{attachment.id}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert (
        "filename*=UTF-8''%E6%89%AB%E6%8F%8F%E4%BB%B6.png"
        in response.headers["Content-Disposition"]
    )
    response.close()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (ELF, "判决书.pdf", "仅接受 PDF、JPEG、PNG、DOCX 和 XLSX 文件"),
        (MZ, "证据.pdf", "仅接受 PDF、JPEG、PNG、DOCX 和 XLSX 文件"),
        (office_file("zip"), "材料.docx", "仅接受 PDF、JPEG、PNG、DOCX 和 XLSX 文件"),
        ("纯文本".encode(), "说明.pdf", "仅接受 PDF、JPEG、PNG、DOCX 和 XLSX 文件"),
        (b"", "空文件.pdf", "文件是空的"),
        (b"%PDF-" + b"0" * (20 * 1024 * 1024 - 4), "超大.pdf", "文件超过 20 MB"),
        (FAKE_DOCX, "协议.docx", NOT_OFFICE),
        (zip_of({**office_parts("docx"), "index.html": WEB_PAGE}), "协议.docx", NOT_OFFICE),
        (zip_of({**office_parts("docx"), "word/document.xml": WEB_PAGE}), "协议.docx", NOT_OFFICE),
        (
            zip_of({**office_parts("xlsx"), "_rels/.rels": "<Relationships/>"}),
            "表.xlsx",
            NOT_OFFICE,
        ),
        (DECLARED_4_GB, "协议.docx", ZIP_BOMB),
        (zip_of(office_parts("docx", " " * 4 * 1024 * 1024)), "协议.docx", ZIP_BOMB),
    ],
    ids=[
        "elf",
        "mz",
        "plain-zip",
        "text",
        "empty",
        "20MB-and-1-byte",
        "names-its-main-part-holds-a-web-page",
        "docx-with-an-untyped-web-page",
        "docx-whose-main-part-is-a-web-page",
        "xlsx-without-its-main-relationship",
        "declares-4-GB",
        "4-MB-of-spaces-packed-tight",
    ],
)
def test_refused_uploads_get_a_message_and_leave_nothing(
    client, login, make_case, dossier_folder, content, name, message, data
):
    case = make_case("registered")
    login("staff")
    response = upload_large(client, case.id, content, name)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and "is-invalid" in page
    assert count(data, Attachment) == 0 and count(data, StoredFile) == 0
    assert files_on_disk(dossier_folder) == []


def test_a_21_mb_file_is_refused_with_a_plain_message(
    client, login, make_case, dossier_folder, data
):
    case = make_case("registered")
    login("staff")
    response = upload_large(client, case.id, b"%PDF-" + b"0" * (21 * 1024 * 1024), "扫描件.pdf")
    assert response.status_code == 413
    assert "文件超过 20 MB" in response.get_data(as_text=True)
    assert count(data, Attachment) == 0 and files_on_disk(dossier_folder) == []


def test_no_file_chosen_is_refused_beside_the_field(client, login, make_case, data):
    case = make_case("registered")
    login("staff")
    response = client.post_form(f"/cases/{case.id}/dossier", {"kind": "evidence"})
    assert response.status_code == 200
    assert "请选择要上传的文件" in response.get_data(as_text=True)
    assert count(data, Attachment) == 0


def test_the_same_content_twice_is_stored_once(client, login, make_case, dossier_folder, data):
    case = make_case("registered")
    other = make_case("registered")
    login("staff")
    assert upload(client, case.id, PDF, "第一次.pdf").status_code == 302
    assert upload(client, other.id, PDF, "第二次.pdf").status_code == 302
    assert count(data, Attachment) == 2 and count(data, StoredFile) == 1
    assert len(files_on_disk(dossier_folder)) == 1


def test_an_unassigned_mediator_cannot_add_files(client, make_user, login, make_case, data):
    case = make_case("assigned")
    make_user("mediator", username="mediator-elsewhere")
    login("mediator", username="mediator-elsewhere")
    assert upload(client, case.id, PDF, "a.pdf").status_code == 403
    assert count(data, Attachment) == 0


def test_the_assigned_mediator_adds_files(client, login, make_case, data):
    case = make_case("mediating")
    login("mediator")
    assert upload(client, case.id, PDF, "调解笔录.pdf", kind="minutes").status_code == 302
    assert data(lambda s: s.scalars(select(Attachment.kind)).one()) == "minutes"


def test_staff_of_another_centre_do_not_see_the_dossier(client, login, make_case):
    case = make_case("registered")
    login("staff", centre="330105")
    assert upload(client, case.id, PDF, "a.pdf").status_code == 404
    assert client.get(f"/cases/{case.id}/dossier").status_code == 404


# --- downloads -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "centre", "username", "status"),
    [
        ("staff", "330106", None, 200),
        ("admin", "330106", None, 200),
        ("admin", None, None, 200),
        ("mediator", "330106", None, 200),  # the assigned mediator
        ("mediator", "330106", "mediator-elsewhere", 403),
        ("staff", "330105", None, 404),
        ("admin", "330105", None, 404),
    ],
)
def test_download_only_for_those_who_may_see_the_case(
    client, make_user, login, make_case, role, centre, username, status, add_file
):
    case = make_case("assigned")
    attachment = add_file(case, PDF, "证据材料（一）.pdf")
    login(role, centre=centre, username=username)
    response = client.get(f"/cases/{case.id}/dossier/{attachment.id}")
    assert response.status_code == status
    if status == 200:
        assert response.data == PDF and response.mimetype == "application/pdf"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''" in disposition and "\n" not in disposition
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_anonymous_download_goes_to_the_login_page(client, make_case, add_file):
    case = make_case("registered")
    attachment = add_file(case, PDF, "a.pdf")
    response = client.get(f"/cases/{case.id}/dossier/{attachment.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_file_is_only_found_under_its_own_case(client, login, make_case, add_file):
    case, other = make_case("registered"), make_case("registered")
    attachment = add_file(case, PDF, "a.pdf")
    login("staff")
    assert client.get(f"/cases/{other.id}/dossier/{attachment.id}").status_code == 404


def test_a_file_name_cannot_inject_folders_or_headers():
    assert storage.clean_filename("../../etc/passwd") == "passwd"
    assert storage.clean_filename("C:\\证据\\照片 1.jpg") == "照片 1.jpg"
    assert storage.clean_filename('a"\r\nSet-Cookie: x.pdf') == "aSet-Cookie x.pdf"
    assert storage.clean_filename("") == "file"
    assert storage.download_name("合同.docx", storage.DOCX) == "合同.docx"
    assert storage.download_name("照片.JPEG", storage.JPEG) == "照片.jpeg"
    assert storage.download_name("说明", storage.PDF) == "说明.pdf"


# --- superseding -----------------------------------------------------------------------------


def test_a_newer_file_supersedes_an_older_one(client, login, make_case, data, add_file):
    case = make_case("mediating")
    old = add_file(case, PDF, "旧版协议.pdf")
    login("staff")
    response = upload(client, case.id, JPEG, "新版协议.jpg", replaces=str(old.id))
    assert response.status_code == 302
    old = data(lambda s: s.get(Attachment, old.id))
    new = data(lambda s: s.scalars(select(Attachment).filter_by(filename="新版协议.jpg")).one())
    assert old.superseded_at is not None and old.superseded_by_id == new.id

    case_page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "新版协议.jpg" in case_page and "旧版协议.pdf" not in case_page
    assert "全部文件（1 份已被替代）" in case_page
    dossier_page = client.get(f"/cases/{case.id}/dossier").get_data(as_text=True)
    assert "旧版协议.pdf" in dossier_page and "已替代" in dossier_page
    # Never deleted: the old file can still be downloaded.
    response = client.get(f"/cases/{case.id}/dossier/{old.id}")
    assert response.status_code == 200 and response.data == PDF
    response.close()


def test_marking_a_file_superseded_once(client, login, make_case, data, add_file):
    case = make_case("registered")
    attachment = add_file(case, PDF, "a.pdf")
    login("staff")
    url = f"/cases/{case.id}/dossier/{attachment.id}/supersede"
    assert client.post(url).status_code == 400  # no CSRF token
    response = client.post_form(url, follow_redirects=True)
    assert "已标记为已替代：a.pdf" in response.get_data(as_text=True)
    again = client.post_form(url, follow_redirects=True)
    assert "该文件已被替代" in again.get_data(as_text=True)
    assert count(data, Attachment) == 1
    actions = data(lambda s: s.scalars(select(AuditEntry.action)).all())
    assert actions.count("dossier.supersede") == 1


def test_an_unassigned_mediator_cannot_supersede(
    client, make_user, login, make_case, data, add_file
):
    case = make_case("assigned")
    attachment = add_file(case, PDF, "a.pdf")
    make_user("mediator", username="mediator-elsewhere")
    login("mediator", username="mediator-elsewhere")
    url = f"/cases/{case.id}/dossier/{attachment.id}/supersede"
    assert client.post_form(url).status_code == 403
    assert data(lambda s: s.get(Attachment, attachment.id).superseded_at) is None


# --- the transfer package and the printable documents ----------------------------------------


def test_staff_list_the_files_handed_to_the_court(client, login, make_case, data, add_file):
    case = make_case("transferred")
    handed = add_file(case, PDF, "无争议事实确认书.pdf")
    kept = add_file(case, PNG, "内部记录.png")
    login("staff")
    url = f"/cases/{case.id}/transfer/documents"
    form = client.get(url).get_data(as_text=True)
    assert "无争议事实确认书.pdf" in form and "内部记录.png" in form
    response = client.post_form(url, {"attachments": [str(handed.id)], "seen": ""})
    assert response.status_code == 302
    handed_over = select(transfer_document.c.attachment_id)
    assert data(lambda s: s.scalars(handed_over).all()) == [handed.id]

    letter = client.get(f"/cases/{case.id}/print/transfer").get_data(as_text=True)
    assert "无争议事实确认书.pdf" in letter and "内部记录.png" not in letter
    assert "漏水事实双方无争议。" in letter and "杭州市西湖区人民法院" in letter

    # A second person saving over the list they saw before it changed is refused.
    stale = client.post_form(url, {"attachments": [str(kept.id)], "seen": ""})
    assert stale.status_code == 200
    assert "此期间已被他人修改" in stale.get_data(as_text=True)
    assert data(lambda s: s.scalars(handed_over).all()) == [handed.id]


def test_only_staff_list_handed_over_files_and_only_on_a_transfer(client, login, make_case):
    transferred = make_case("transferred")
    login("mediator")
    assert client.get(f"/cases/{transferred.id}/transfer/documents").status_code == 403
    client.post_form("/logout")
    login("staff")
    open_case = make_case("mediating")
    assert client.get(f"/cases/{open_case.id}/transfer/documents").status_code == 404


def test_the_transfer_letter_shows_the_court_filing_number(client, login, make_case, data):
    case = make_case("transferred")
    login("staff")
    letter = client.get(f"/cases/{case.id}/print/transfer").get_data(as_text=True)
    assert "由法院填写" in letter

    def record_filing(session):
        staff = Actor.for_user(user_by_username("staff-330106"))
        workflow.record_court_filing(session.get(Case, case.id), "（2026）浙0106民初123号", staff)
        session.commit()

    data(record_filing)
    letter = client.get(f"/cases/{case.id}/print/transfer").get_data(as_text=True)
    assert "（2026）浙0106民初123号" in letter and "由法院填写" not in letter


def test_the_reprinted_notice_has_no_access_code(client, login, make_case, data):
    case = make_case("registered")
    login("staff")
    page = client.get(f"/cases/{case.id}/print/notice").get_data(as_text=True)
    assert page.count("受理通知书") >= 2 and "张三" in page and "李四" in page
    assert case.number in page and "西湖区社会矛盾纠纷调处化解中心" in page
    assert "登记时" in page and "access-code" not in page
    for code in case.access_codes.values():
        assert code not in page
    one = client.get(f"/cases/{case.id}/print/notice?party={case.party_ids[1]}")
    assert "李四" in one.get_data(as_text=True) and "张三：" not in one.get_data(as_text=True)
    assert client.get(f"/cases/{case.id}/print/notice?party=999999").status_code == 404


def test_the_agreement_prints_parties_terms_and_obligations(client, login, make_case, data):
    case = make_case("agreed")
    login("mediator")
    page = client.get(f"/cases/{case.id}/print/agreement").get_data(as_text=True)
    assert "调解协议书" in page and case.number in page
    assert "被申请人支付维修费用5000元。" in page and "支付维修费用" in page
    assert "¥5,000.00" in page and "张三" in page and "李四" in page
    assert "11010519491231002X" in page  # for judicial confirmation: in full


def test_the_session_record_prints_the_minutes(client, login, make_case, data):
    case = make_case("mediating")
    login("staff")
    session_id = case.session_ids[0]
    page = client.get(f"/cases/{case.id}/print/sessions/{session_id}").get_data(as_text=True)
    assert "调解笔录" in page and "中心第一调解室" in page and "双方陈述" in page
    assert case.number in page


def test_printables_that_do_not_exist_yet_are_404(client, login, make_case):
    case = make_case("registered")
    other = make_case("mediating")
    login("staff")
    assert client.get(f"/cases/{case.id}/print/agreement").status_code == 404
    assert client.get(f"/cases/{case.id}/print/transfer").status_code == 404
    session_id = other.session_ids[0]
    assert client.get(f"/cases/{case.id}/print/sessions/{session_id}").status_code == 404


def test_printables_follow_the_case_rules(client, make_user, login, make_case):
    case = make_case("agreed")
    make_user("mediator", username="mediator-elsewhere")
    login("mediator", username="mediator-elsewhere")
    assert client.get(f"/cases/{case.id}/print/agreement").status_code == 403
    client.post_form("/logout")
    login("staff", centre="330105")
    assert client.get(f"/cases/{case.id}/print/agreement").status_code == 404


def test_the_case_page_costs_the_same_for_one_file_or_five(app, client, login, make_case, add_file):
    """No query per row of the dossier card: one file, then five (from two uploaders), the
    same statements."""
    case = make_case("registered")
    login("staff")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "数字卷宗" in page and 'class="dossier-file"' not in page
    counts, added = {}, 0
    for files in (1, 5):
        while added < files:
            uploader = "mediator-330106" if added % 2 else "staff-330106"
            add_file(case, PDF + b"%" * added, f"证据{added + 1}.pdf", username=uploader)
            added += 1
        client.get(f"/cases/{case.id}")  # warm up
        with recorded_statements(app) as statements:
            page = client.get(f"/cases/{case.id}").get_data(as_text=True)
        assert page.count('class="dossier-file"') == files and f"证据{files}.pdf" in page
        counts[files] = len(statements)
    assert counts[1] == counts[5], counts


def test_the_case_page_links_the_dossier_and_the_documents(
    client, login, make_case, data, add_file
):
    case = make_case("transferred")
    add_file(case, PDF, "起诉材料.pdf")
    login("staff")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "数字卷宗" in page and "起诉材料.pdf" in page
    for url in (
        f"/cases/{case.id}/print/notice",
        f"/cases/{case.id}/print/transfer",
        f"/cases/{case.id}/transfer/documents",
        f"/cases/{case.id}/print/sessions/{case.session_ids[0]}",
        f"/cases/{case.id}/dossier#add-file",
    ):
        assert f'href="{url}"' in page
    # "Add a file" opens the dossier page's upload form.
    dossier = client.get(f"/cases/{case.id}/dossier").get_data(as_text=True)
    assert 'id="add-file"' in dossier and 'enctype="multipart/form-data"' in dossier

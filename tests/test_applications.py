"""Online applications (SPEC 8): applying without an account, following the application, the
staff's decision, the dashboard's queue and the month's figures."""

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from mediation import clock
from mediation.applications import decisions, queries
from mediation.applications.models import Application, SubmittedFile
from mediation.cases.models import Case
from mediation.directory.models import CalendarDay
from mediation.documents.models import Attachment
from mediation.notify.models import OutboxMessage
from mediation.stats.exports import people_rows
from mediation.stats.queries import month_stats
from mediation.web import language
from tests.case_factory import centre_for
from tests.double_click import double_click

# Tuesday 10 March 2026, 10:00 in Hangzhou.
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
APPLICANT_ID = "11010519491231002X"
CODE = re.compile(r'class="access-code application-code">([2-9A-Z]{8})<')
NUMBER = re.compile(r'class="application-number">(WS\d{14})<')


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture(autouse=True)
def dossier_folder(app, tmp_path):
    previous = app.config["DOSSIER_FOLDER"]
    app.config["DOSSIER_FOLDER"] = str(tmp_path / "dossier")
    yield tmp_path / "dossier"
    app.config["DOSSIER_FOLDER"] = previous


def files_on_disk(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def centre(db):
    centre = centre_for("330106")
    db.session.commit()
    db.session.refresh(centre)
    db.session.expunge(centre)
    db.session.rollback()  # outside a request a read holds SQLite's write lock until it ends
    return centre


def page(response) -> str:
    return response.get_data(as_text=True)


def form_data(centre_id, **overrides) -> dict:
    data = {
        "submission": overrides.pop("submission", "token-of-one-form"),
        "centre": str(centre_id),
        "applicant-kind": "person",
        "applicant-name": "张三",
        "applicant-id_number": APPLICANT_ID,
        "applicant-phone": "13812345678",
        "applicant-address": "西湖区文三路1号",
        "respondents-0-kind": "organization",
        "respondents-0-name": "杭州某某物业有限公司",
        "respondents-0-credit_code": "",
        "respondents-0-phone": "13987654321",
        "category": "property",
        "street": "文新街道",
        "summary": "物业费争议，小区电梯长期停运。",
        "claims": "请求减免停运期间物业费。",
    }
    data.update(overrides)
    return data


def apply(client, centre_id, files=(), **overrides):
    data = form_data(centre_id, **overrides)
    if files:
        data["files"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post_form("/apply", data, content_type="multipart/form-data")


def applied(response) -> tuple[str, str]:
    html = page(response)
    return NUMBER.search(html).group(1), CODE.search(html).group(1)


def one_application(db) -> Application:
    """The one application as stored now, detached: outside a request the session's reads
    hold SQLite's write lock until they end, so they end here, before the client's next post."""
    db.session.rollback()
    application = db.session.scalars(select(Application)).one()
    db.session.expunge(application)
    db.session.rollback()
    return application


def count(db, model) -> int:
    db.session.rollback()
    found = db.session.scalar(select(func.count()).select_from(model))
    db.session.rollback()
    return found


# --- applying --------------------------------------------------------------------------------


def test_the_form_offers_the_deployments_centres_without_an_account(client, db, centre):
    centre_for("330105")
    db.session.commit()
    html = page(client.get("/apply"))
    assert "西湖区社会矛盾纠纷调处化解中心" in html and "拱墅区社会矛盾纠纷调处化解中心" in html
    assert 'name="submission"' in html and 'type="file"' in html and "multiple" in html


def test_the_form_marks_every_field_an_application_needs(client, db, centre):
    html = page(client.get("/apply"))
    marked = set(
        re.findall(
            r'<label class="form-label" for="([\w-]+)">[^<]*</label><span class="required-mark"',
            html,
        )
    )
    assert {"centre", "category", "applicant-name", "applicant-phone", "summary"} <= marked
    assert "street" not in marked


def test_the_blank_form_follows_the_language_and_the_centres_it_offers(client, db, centre):
    """The blank form's sections are kept once rendered: by language, and by the centres it
    offers (a new centre, a renamed one, one fewer)."""
    SUMMARY = 'for="summary">'
    assert SUMMARY + "纠纷情况" in page(client.get("/apply"))
    client.post_form("/language", {"lang": "en", "next": "/apply"})
    language.refresh()  # the requests share the `db` fixture's app context and its locale
    assert SUMMARY + "What happened" in page(client.get("/apply"))
    client.post_form("/language", {"lang": "zh_Hans_CN", "next": "/apply"})
    language.refresh()
    assert SUMMARY + "纠纷情况" in page(client.get("/apply"))
    other = centre_for("330105")
    db.session.commit()
    assert "拱墅区社会矛盾纠纷调处化解中心" in page(client.get("/apply"))
    other.name = "拱墅区矛调中心"
    db.session.commit()
    html = page(client.get("/apply"))
    assert "拱墅区矛调中心" in html and "拱墅区社会矛盾纠纷调处化解中心" not in html
    db.session.delete(other)
    db.session.commit()
    html = page(client.get("/apply"))
    assert "拱墅区矛调中心" not in html and "西湖区社会矛盾纠纷调处化解中心" in html


def test_the_blank_form_is_the_form_rendered_afresh(app, client, db, centre):
    """Kept or not, the blank sections are those of a new form; each applicant's page has its
    own tokens; and a form that was posted shows its own answers, never the blank ones."""
    kept = app.extensions.setdefault("blank_application_sections", {})
    kept.clear()
    first = page(client.get("/apply"))
    assert len(kept) == 1
    other = app.test_client()
    from_kept = page(other.get("/apply"))
    assert _tokens(first)["submission"] != _tokens(from_kept)["submission"]
    kept.clear()
    afresh = page(other.get("/apply"))
    assert _without_tokens(from_kept) == _without_tokens(afresh)
    posted = page(apply(client, centre.id, **{"applicant-name": "", "summary": "电梯停运"}))
    assert "电梯停运</textarea>" in posted and "电梯停运" not in page(client.get("/apply"))


def test_the_kept_blank_forms_are_bounded(app, client, db, centre):
    from mediation.applications import routes

    kept = app.extensions.setdefault("blank_application_sections", {})
    kept.clear()
    for n in range(routes.BLANK_SECTIONS_KEPT + 3):
        centre.name = f"第{n}中心"
        db.session.merge(centre)
        db.session.commit()
        assert f"第{n}中心" in page(client.get("/apply"))
    assert 0 < len(kept) <= routes.BLANK_SECTIONS_KEPT


def test_an_application_of_five_large_files_is_not_refused_for_its_size(
    client, db, centre, dossier_folder
):
    """The form promises five files of up to 20 MB: its limit holds from the request's start,
    before CSRFProtect reads the form under the app's own (21 MB)."""
    large = PDF + b"%" + b"0" * (12 * 1024 * 1024) + b"\n"
    data = MultiDict({**form_data(centre.id), "csrf_token": client.csrf_token()})
    for name in ("合同.pdf", "收据.pdf"):
        data.add("files", FileStorage(io.BytesIO(large), name, content_type="application/pdf"))
    # Encoded in memory: the test client's own encoding of a large body leaves a file open.
    boundary, body = encode_multipart(data)
    response = client.post(
        "/apply", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 200 and CODE.search(page(response))
    assert count(db, SubmittedFile) == 2


def _tokens(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(csrf_token|submission)" value="([^"]*)"', html))


def _without_tokens(html: str) -> str:
    return re.sub(r'name="(csrf_token|submission)" value="[^"]*"', "", html)


def test_an_application_gets_a_number_and_a_code_shown_once(client, db, centre, dossier_folder):
    response = apply(client, centre.id, files=[(PDF, "合同.pdf"), (PNG, "照片.png")])
    assert response.status_code == 200
    number, code = applied(response)
    application = one_application(db)
    assert application.number == number and application.state == "pending"
    # Stored only as a keyed hash of the number and the code.
    assert code not in application.code_hash and len(application.code_hash) == 64
    assert application.parties[0]["id_number"] == APPLICANT_ID
    assert application.parties[1]["name"] == "杭州某某物业有限公司"
    assert application.phone == "13812345678" and application.submitted_on == date(2026, 3, 10)
    # Three working days: Wednesday, Thursday, Friday.
    assert application.due_on == date(2026, 3, 13)
    names = db.session.scalars(select(SubmittedFile.filename).order_by(SubmittedFile.id)).all()
    assert names == ["合同.pdf", "照片.png"] and len(files_on_disk(dossier_folder)) == 2
    # The same form sent again (a refresh) makes no second application and no code.
    again = apply(client, centre.id)
    assert number in page(again) and not CODE.search(page(again))
    assert count(db, Application) == 1


def test_a_double_click_makes_one_application_and_answers_both_clicks(
    app, client, db, centre, dossier_folder
):
    """Both posts of one form, with its file, arrive before either is saved (PostgreSQL lets
    both look for the form's token at once): one gets the code, the other the "sent already"
    page, never an error; the file the application keeps is on disk."""
    second = app.test_client()
    # Held at the insert: by then each has looked for the form's token.
    answers = [
        answer
        for _c, answer in double_click(
            db.engine,
            (client, second),
            lambda c: apply(c, centre.id, files=[(PDF, "合同.pdf")], submission="one-form"),
            "INSERT INTO APPLICATION ",
        )
    ]
    assert [answer.status_code for answer in answers] == [200, 200]
    pages = sorted((page(answer) for answer in answers), key=lambda html: not CODE.search(html))
    number, _code = applied(answers[0] if CODE.search(page(answers[0])) else answers[1])
    assert CODE.search(pages[0]) and not CODE.search(pages[1]) and number in pages[1]
    assert count(db, Application) == 1
    assert [path.read_bytes() for path in files_on_disk(dossier_folder)] == [PDF]


def test_the_due_date_follows_the_centres_calendar(client, db, centre):
    db.session.add(CalendarDay(centre_id=centre.id, day=date(2026, 3, 11), is_workday=False))
    db.session.commit()
    apply(client, centre.id)
    assert one_application(db).due_on == date(2026, 3, 16)


@pytest.mark.parametrize(
    "field, value, message_field",
    [
        ("applicant-id_number", "110105194912310021", "applicant-id_number"),
        ("applicant-id_number", "", "applicant-id_number"),
        ("applicant-phone", "", "applicant-phone"),
        ("applicant-phone", "2381234567", "applicant-phone"),
        ("respondents-0-name", "", "respondents"),
        ("summary", "", "summary"),
        ("category", "weather", "category"),
    ],
)
def test_bad_input_is_told_by_its_field_and_kept(client, db, centre, field, value, message_field):
    response = apply(client, centre.id, **{field: value})
    html = page(response)
    assert response.status_code == 200
    assert "is-invalid" in html or "alert-danger" in html
    assert 'value="西湖区文三路1号"' in html  # the rest of the input is kept
    assert count(db, Application) == 0


def test_an_organisation_needs_its_credit_code(client, db, centre):
    response = apply(
        client,
        centre.id,
        **{"applicant-kind": "organization", "applicant-id_number": "", "applicant-name": "某公司"},
    )
    assert 'id="applicant-credit_code"' in page(response) and "is-invalid" in page(response)
    assert count(db, Application) == 0


def test_a_refused_file_leaves_nothing_behind_and_asks_for_the_files_again(
    client, db, centre, dossier_folder
):
    response = apply(client, centre.id, files=[(PDF, "合同.pdf"), (b"MZ\x90\x00", "病毒.exe")])
    html = page(response)
    assert "病毒.exe" in html and "合同.pdf" in html  # named beside the field, to choose again
    assert 'value="张三"' in html
    assert count(db, Application) == 0 and count(db, SubmittedFile) == 0
    assert files_on_disk(dossier_folder) == []


def test_at_most_five_files(client, db, centre):
    files = [(PDF + bytes([n]), f"证据{n}.pdf") for n in range(6)]
    response = apply(client, centre.id, files=files)
    assert "is-invalid" in page(response) and count(db, Application) == 0


def test_five_applications_a_day_per_mobile_then_429(client, db, centre):
    for n in range(5):
        assert apply(client, centre.id, submission=f"form-{n}").status_code == 200
    refused = apply(client, centre.id, submission="form-6")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "申请次数过多" in page(refused)
    assert count(db, Application) == 5
    # Another mobile from another device is not held up.
    other = apply(
        client,
        centre.id,
        submission="form-7",
        environ_base={"REMOTE_ADDR": "10.1.1.1"},
        **{"applicant-phone": "13900001111"},
    )
    assert other.status_code == 200
    with clock.frozen_at(NOW + timedelta(days=1, minutes=1)):
        assert apply(client, centre.id, submission="form-8").status_code == 200


def test_applications_are_throttled_per_client(app, client, db, centre):
    app.config["APPLY_MAX_PER_CLIENT"] = 2
    try:
        for n in range(2):
            phone = f"1390000000{n}"
            response = apply(client, centre.id, submission=f"f{n}", **{"applicant-phone": phone})
            assert response.status_code == 200
        refused = apply(client, centre.id, submission="f9", **{"applicant-phone": "13900000009"})
        assert refused.status_code == 429
    finally:
        del app.config["APPLY_MAX_PER_CLIENT"]


# --- following it ----------------------------------------------------------------------------


def look_up(client, number, code, **kwargs):
    return client.post_form("/apply/status", {"number": number, "code": code}, **kwargs)


def test_the_applicant_follows_the_application_typed_as_on_a_phone(client, db, centre):
    number, code = applied(apply(client, centre.id))
    response = look_up(client, f" {number.lower()} ", f"{code[:4].lower()} {code[4:]}")
    html = page(response)
    assert response.status_code == 200 and "application-status" in html and "state-pending" in html
    assert "2026年3月13日" in html and centre.name in html


def test_the_party_forms_refuse_a_post_without_its_token(client, db, centre):
    """The look-ups and the application write their CSRF token in their templates; CSRFProtect
    refuses a post without it before anything is counted or kept."""
    number, code = applied(apply(client, centre.id))
    for path, data in (
        ("/apply/status", {"number": number, "code": code}),
        ("/status", {"case_number": "西湖调〔2026〕1号", "access_code": "ABCDEFGH"}),
        ("/apply", form_data(centre.id, submission="no-token")),
    ):
        refused = client.post(path, data=data)
        assert refused.status_code == 400 and "表单已过期" in page(refused), path
        token = {"csrf_token": client.csrf_token()}
        assert client.post(path, data={**data, **token}).status_code in (200, 302), path
    assert count(db, Application) == 2


def test_an_unknown_number_and_a_wrong_code_answer_the_same(client, db, centre):
    number, code = applied(apply(client, centre.id))
    wrong = page(look_up(client, number, "ABCDEFGH"))
    unknown = page(look_up(client, "WS20260310999999", code))
    strip = re.compile(r'name="csrf_token"[^>]*>|value="[^"]*"')
    assert strip.sub("", wrong) == strip.sub("", unknown)
    assert "application-status" not in wrong


def test_failed_look_ups_are_throttled_as_at_the_portal(client, db, centre):
    number, code = applied(apply(client, centre.id))
    for _ in range(10):
        look_up(client, number, "ABCDEFGH")
    blocked = look_up(client, number, code)
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers


# --- the decision ----------------------------------------------------------------------------


def test_staff_accept_an_application_into_a_case(client, db, centre, login):
    number, code = applied(apply(client, centre.id, files=[(PDF, "合同.pdf")]))
    application = one_application(db)
    login("staff")
    response = client.post_form(f"/applications/{application.id}/accept")
    assert response.status_code == 200
    case = db.session.scalars(select(Case)).one()
    assert case.channel_code == "online" and case.category_code == "property"
    assert [p.name for p in case.parties] == ["张三", "杭州某某物业有限公司"]
    assert case.summary == "物业费争议，小区电梯长期停运。" and case.street == "文新街道"
    application = one_application(db)
    assert application.state == "accepted" and application.case_id == case.id
    # The respondent's code is shown once, for its notice; the applicant's is not shown.
    assert "杭州某某物业有限公司" in page(response) and code not in page(response)
    attachment = db.session.scalars(select(Attachment)).one()
    assert attachment.filename == "合同.pdf" and attachment.kind == "evidence"
    assert attachment.submitted_by_party_id == case.parties[0].id
    # The applicant is told once, how to sign in; the respondent as at intake.
    (sms,) = db.session.scalars(select(OutboxMessage).filter_by(address="13812345678")).all()
    assert sms.channel == "sms" and sms.dedupe_key.startswith("application:")
    assert case.number in sms.body and "申请时获得的查询码" in sms.body
    respondent = db.session.scalars(select(OutboxMessage).filter_by(address="13987654321")).one()
    assert respondent.dedupe_key.startswith("registered:")
    # The applicant's application code is its access code to the case.
    db.session.rollback()
    client.post_form("/logout")
    portal = client.post_form("/status", {"case_number": case.number, "access_code": code})
    assert portal.status_code == 302 and portal.headers["Location"] == "/status/case"
    # And the application's page now names the case.
    assert case.number in page(look_up(client, number, code))


def test_accepting_checks_the_data_again_as_at_intake(client, db, centre, login):
    apply(client, centre.id)
    application = one_application(db)
    parties = [dict(p) for p in application.parties]
    parties[0]["id_number"] = "110105194912310021"  # a wrong checksum, slipped in
    db.session.execute(
        update(Application).where(Application.id == application.id).values(parties=parties)
    )
    db.session.commit()
    login("staff")
    response = client.post_form(f"/applications/{application.id}/accept")
    assert response.status_code == 200 and "alert-danger" in page(response)
    assert count(db, Case) == 0 and one_application(db).state == "pending"


def test_an_application_is_decided_once(client, db, centre, login):
    apply(client, centre.id)
    application = one_application(db)
    login("staff")
    client.post_form(f"/applications/{application.id}/accept")
    again = client.post_form(f"/applications/{application.id}/accept")
    assert "alert-danger" in page(again) and count(db, Case) == 1


def test_staff_decline_with_a_reason_and_a_note_the_applicant_reads(client, db, centre, login):
    number, code = applied(apply(client, centre.id))
    application = one_application(db)
    login("staff")
    missing = client.post_form(
        f"/applications/{application.id}/decline", {"reason": "outside_remit", "note": ""}
    )
    assert "is-invalid" in page(missing) and one_application(db).state == "pending"
    response = client.post_form(
        f"/applications/{application.id}/decline",
        {"reason": "outside_remit", "note": "请向拱墅区中心申请。"},
    )
    assert response.status_code == 302
    application = one_application(db)
    assert application.state == "declined" and application.decline_reason == "outside_remit"
    sms = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.like("application:%"))
    ).one()
    assert sms.address == "13812345678" and number in sms.body
    db.session.rollback()
    client.post_form("/logout")
    html = page(look_up(client, number, code))
    assert "state-declined" in html and "请向拱墅区中心申请。" in html


def test_the_dashboard_queues_pending_applications_with_their_due_date(client, db, centre, login):
    number, _code = applied(apply(client, centre.id))
    login("staff")
    html = page(client.get("/cases/dashboard"))
    assert 'id="queue-applications"' in html and number in html


# --- who may decide --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, centre_code, expected",
    [
        ("staff", "330106", 200),
        ("admin", "330106", 200),
        ("admin", None, 200),
        ("staff", "330105", 404),
        ("admin", "330105", 404),
        ("mediator", "330106", 403),
    ],
)
def test_who_may_see_an_application(client, db, centre, login, role, centre_code, expected):
    apply(client, centre.id, files=[(PDF, "合同.pdf")])
    application = one_application(db)
    file_id = db.session.scalar(select(SubmittedFile.id))
    db.session.rollback()
    login(role, centre=centre_code)
    assert client.get(f"/applications/{application.id}").status_code == expected
    file = client.get(f"/applications/{application.id}/files/{file_id}")
    assert file.status_code == expected
    file.close()
    if expected != 200:
        accept = client.post_form(f"/applications/{application.id}/accept")
        decline = client.post_form(
            f"/applications/{application.id}/decline", {"reason": "duplicate", "note": "x"}
        )
        assert accept.status_code == decline.status_code == expected
        assert one_application(db).state == "pending"


def test_anonymous_visitors_are_sent_to_sign_in(client, db, centre):
    apply(client, centre.id)
    application = one_application(db)
    assert client.get(f"/applications/{application.id}").status_code == 302


# --- statistics ------------------------------------------------------------------------------


def test_applications_received_and_accepted_in_a_month(db, centre, make_user):
    """By hand: in March (Hangzhou dates) A, B and C are submitted (A at 23:30 on 31 March
    local, 15:30 UTC), D on 28 February; D is accepted on 1 March and B on 2 March, C is
    declined; E is submitted on 1 April (00:30 local, still 31 March in UTC).
    received = A, B, C = 3; accepted = D, B = 2; April: received 1, accepted 0."""
    staff = make_user("staff")
    staff = db.session.get(type(staff), staff.id)
    moments = {
        "A": datetime(2026, 3, 31, 15, 30, tzinfo=UTC),
        "B": datetime(2026, 3, 1, 2, 0, tzinfo=UTC),
        "C": datetime(2026, 3, 5, 2, 0, tzinfo=UTC),
        "D": datetime(2026, 2, 28, 2, 0, tzinfo=UTC),
        "E": datetime(2026, 3, 31, 16, 30, tzinfo=UTC),
    }
    made = {}
    for name, moment in moments.items():
        with clock.frozen_at(moment):
            data = decisions.ApplicationData(
                centre=centre,
                parties=[
                    decisions.wf.PartyData(
                        "applicant", "person", "张三", APPLICANT_ID, None, f"1381234567{len(made)}"
                    ),
                    decisions.wf.PartyData("respondent", "person", "李四"),
                ],
                category_code="family",
                street="",
                summary="纠纷",
                claims="调解",
            )
            made[name] = decisions.submit_application(data, [], "cli", name).application
    db.session.commit()
    with clock.frozen_at(datetime(2026, 3, 1, 3, 0, tzinfo=UTC)):
        decisions.accept_application(made["D"], staff)
    with clock.frozen_at(datetime(2026, 3, 2, 3, 0, tzinfo=UTC)):
        decisions.accept_application(made["B"], staff)
    with clock.frozen_at(datetime(2026, 3, 6, 3, 0, tzinfo=UTC)):
        decisions.decline_application(made["C"], "duplicate", "重复申请", staff)
    db.session.commit()
    march = month_stats("2026-03", centre)["summary"]
    assert (march["applications_received"], march["applications_accepted"]) == (3, 2)
    april = month_stats("2026-04", centre)["summary"]
    assert (april["applications_received"], april["applications_accepted"]) == (1, 0)
    assert month_stats("2026-03", None)["summary"]["applications_received"] == 3
    _headers, rows = people_rows(month_stats("2026-03", centre), "summary")
    labels = [row[0][0] for row in rows]
    assert "收到的在线申请" in labels and "受理的在线申请" in labels


def test_the_full_list_pages_the_pending_applications_soonest_due_first(
    app, client, db, centre, login, monkeypatch
):
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    numbers = []
    for n in range(3):
        with clock.frozen_at(NOW + timedelta(days=n)):
            number, _code = applied(
                apply(
                    client, centre.id, submission=f"f{n}", **{"applicant-phone": f"1390000000{n}"}
                )
            )
            numbers.append(number)
    login("staff")
    first = page(client.get("/applications/"))
    assert numbers[0] in first and numbers[1] in first and numbers[2] not in first
    following = re.search(r'href="(/applications/\?after=[^"]+)"', first).group(1)
    second = page(client.get(following.replace("&amp;", "&")))
    assert numbers[2] in second and numbers[0] not in second
    assert client.get("/applications/?after=nonsense").status_code == 200


@pytest.mark.parametrize("role, expected", [("mediator", 403), ("staff", 200)])
def test_the_full_list_is_the_staffs(client, db, centre, login, role, expected):
    apply(client, centre.id)
    login(role, centre="330105")  # staff of another centre see their own (empty) list
    response = client.get("/applications/")
    assert response.status_code == expected
    if expected == 200:
        assert "WS2026" not in page(response)

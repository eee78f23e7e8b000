"""Evidence a party adds from the portal (SPEC 8): it waits in "submitted by a party" on the
case page until staff or the case's mediator accept it into the dossier or reject it with a
reason the party sees."""

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mediation import clock
from mediation.applications.models import SubmittedFile
from mediation.documents.models import Attachment
from tests.double_click import double_click

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


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


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def case(db, make_case):
    """An assigned case (mediator-330106), detached, with the ids and codes tests need."""
    made = make_case("assigned")
    applicant = next(p for p in made.parties if p.role == "applicant")
    facts = {
        "id": made.id,
        "number": made.number,
        "applicant_id": applicant.id,
        "code": made.access_codes[applicant.id],
    }
    db.session.rollback()  # outside a request a read holds SQLite's write lock until it ends
    return type("CaseFacts", (), facts)


def sign_in(client, case):
    response = client.post_form("/status", {"case_number": case.number, "access_code": case.code})
    assert response.status_code == 302


def send(client, content=PDF, name="收据.pdf"):
    return client.post_form(
        "/status/evidence",
        {"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def submissions(db) -> list[SubmittedFile]:
    db.session.rollback()
    rows = db.session.scalars(select(SubmittedFile).order_by(SubmittedFile.id)).all()
    for row in rows:
        db.session.expunge(row)
    db.session.rollback()
    return rows


def test_a_party_adds_a_file_that_waits_for_staff(client, db, case, login, dossier_folder):
    sign_in(client, case)
    assert "/status/evidence" in page(client.get("/status/case"))
    response = send(client)
    assert response.status_code == 302
    (submitted,) = submissions(db)
    assert submitted.state == "pending" and submitted.party_id == case.applicant_id
    assert submitted.case_id == case.id and len(files_on_disk(dossier_folder)) == 1
    assert "submission-pending" in page(client.get("/status/evidence"))
    # Not in the dossier yet; the case page lists it as submitted by a party.
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    db.session.rollback()
    login("staff")
    html = page(client.get(f"/cases/{case.id}"))
    assert 'id="submitted"' in html and "收据.pdf" in html


def test_staff_accept_a_file_into_the_dossier_as_submitted_by_the_party(client, db, case, login):
    sign_in(client, case)
    send(client)
    (submitted,) = submissions(db)
    login("staff")
    response = client.post_form(f"/cases/{case.id}/submitted/{submitted.id}/accept")
    assert response.status_code == 302
    attachment = db.session.scalars(select(Attachment)).one()
    assert attachment.submitted_by_party_id == case.applicant_id and attachment.kind == "evidence"
    db.session.rollback()
    (submitted,) = submissions(db)
    assert submitted.state == "accepted" and submitted.attachment_id == attachment.id
    html = page(client.get(f"/cases/{case.id}"))
    assert 'id="submitted"' not in html and "submitted-by-party" in html
    # Decided once.
    client.post_form(f"/cases/{case.id}/submitted/{submitted.id}/accept")
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1
    db.session.rollback()


def test_a_rejected_file_shows_the_party_why(client, db, case, login):
    sign_in(client, case)
    send(client)
    (submitted,) = submissions(db)
    login("staff")
    client.post_form(f"/cases/{case.id}/submitted/{submitted.id}/reject", {"reason": ""})
    assert submissions(db)[0].state == "pending"  # a reason is needed
    client.post_form(
        f"/cases/{case.id}/submitted/{submitted.id}/reject", {"reason": "照片模糊，请重新拍摄"}
    )
    assert submissions(db)[0].state == "rejected"
    client.post_form("/logout")
    sign_in(client, case)
    html = page(client.get("/status/evidence"))
    assert "submission-rejected" in html and "照片模糊，请重新拍摄" in html


def test_five_files_a_day(client, db, case):
    sign_in(client, case)
    for n in range(5):
        assert send(client, PDF + bytes([n]), f"证据{n}.pdf").status_code == 302
    refused = send(client, PDF + b"6", "证据6.pdf")
    assert refused.status_code == 200 and "is-invalid" in page(refused)
    assert len(submissions(db)) == 5
    with clock.frozen_at(NOW + timedelta(days=1, minutes=1)):
        sign_in(client, case)
        assert send(client, PDF + b"7", "证据7.pdf").status_code == 302


def test_the_same_file_sent_again_while_it_waits_is_one_submission(client, db, case):
    """A phone's double tap, or the same photo chosen again: the party is thanked each time,
    staff see it once, and it does not count twice towards the day's five."""
    sign_in(client, case)
    for n in range(4):
        assert send(client, PDF + bytes([n]), f"证据{n}.pdf").status_code == 302
    for _ in range(3):
        answer = send(client, PDF + b"last", "证据4.pdf")
        assert answer.status_code == 302
        assert "文件已提交" in page(client.get(answer.headers["Location"]))
    assert len(submissions(db)) == 5
    assert page(client.get("/status/evidence")).count("证据4.pdf") == 1


def test_a_double_tap_sends_the_file_once(app, client, db, case):
    second = app.test_client()
    for each in (client, second):
        sign_in(each, case)
    answers = double_click(
        db.engine, (client, second), lambda c: send(c), "INSERT INTO SUBMITTED_FILE"
    )
    assert [answer.status_code for _c, answer in answers] == [302, 302]
    assert len(submissions(db)) == 1


def test_a_file_of_another_type_is_refused_and_nothing_kept(client, db, case, dossier_folder):
    sign_in(client, case)
    refused = send(client, b"MZ\x90\x00", "程序.exe")
    assert refused.status_code == 200 and "is-invalid" in page(refused)
    assert submissions(db) == [] and files_on_disk(dossier_folder) == []


def test_without_a_portal_session_the_party_is_sent_to_the_look_up(client, db, case):
    response = client.get("/status/evidence")
    assert response.status_code == 302 and response.headers["Location"] == "/status"


@pytest.mark.parametrize(
    "role, centre, expected",
    [
        ("staff", "330106", 302),
        ("mediator", "330106", 302),  # the case's own mediator
        ("staff", "330105", 404),
        ("other_mediator", "330106", 403),
    ],
)
def test_who_may_decide_on_a_submitted_file(
    client, db, case, login, make_user, role, centre, expected
):
    sign_in(client, case)
    send(client)
    (submitted,) = submissions(db)
    if role == "other_mediator":
        login("mediator", centre=centre, username="mediator-other")
    else:
        login(role, centre=centre)
    download = client.get(f"/cases/{case.id}/submitted/{submitted.id}")
    assert download.status_code == (200 if expected == 302 else expected)
    download.close()
    response = client.post_form(f"/cases/{case.id}/submitted/{submitted.id}/accept")
    assert response.status_code == expected
    assert submissions(db)[0].state == ("accepted" if expected == 302 else "pending")


def test_a_submitted_file_of_another_case_is_not_found(client, db, case, make_case, login):
    sign_in(client, case)
    send(client)
    (submitted,) = submissions(db)
    other = make_case("registered").id
    db.session.rollback()
    login("staff")
    assert client.post_form(f"/cases/{other}/submitted/{submitted.id}/accept").status_code == 404

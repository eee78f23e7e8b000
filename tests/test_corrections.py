"""Corrections and completed transfers (SPEC 3.9): the edit form of a case, and the court and
record of undisputed facts added to a transfer until the court's filing number is known."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from mediation.cases import workflow as wf
from mediation.cases.models import Case, CaseEvent, Party
from mediation.integrity.models import Certificate, IntegrityRecord
from tests.case_factory import LI_ID, ZHANG_ID, user_for

# The corrected identity of the applicant 张三 (default_parties): a valid resident ID.
TRUE_ID = "110105194912310038"
TRUE_PHONE = "13811112222"


def edit_form(client, case_id) -> str:
    return client.get(f"/cases/{case_id}/act/correct").get_data(as_text=True)


def posted_form(db, case_id, **changes) -> dict:
    """The edit form as it comes filled in for the case, with `changes` made."""
    case = db.session.get(Case, case_id)
    db.session.refresh(case)
    fields = {
        "version": str(case.version),
        "channel": case.channel_code,
        "category": case.category_code,
        "street": case.street,
        "address": case.address,
        "amount": "" if case.amount is None else str(case.amount),
        "people_involved": str(case.people_involved),
        "risk_level": case.risk_level,
        "summary": case.summary,
        "claims": case.claims,
    }
    if case.is_extreme:
        fields["is_extreme"] = "y"
    for n, party in enumerate(case.parties):
        fields |= {
            f"parties-{n}-party_id": str(party.id),
            f"parties-{n}-kind": party.kind,
            f"parties-{n}-name": party.name,
            f"parties-{n}-id_number": party.id_number or "",
            f"parties-{n}-credit_code": party.credit_code or "",
            f"parties-{n}-phone": party.phone or "",
            f"parties-{n}-address": party.address,
        }
    db.session.rollback()  # outside a request, a transaction holds SQLite's write lock
    return fields | changes


def corrections_of(db, case_id) -> list[CaseEvent]:
    db.session.rollback()
    return db.session.scalars(
        select(CaseEvent).filter_by(case_id=case_id, action="correct").order_by(CaseEvent.id)
    ).all()


# --- the edit form ------------------------------------------------------------------------


def test_the_edit_form_is_the_one_page_with_ids_and_phones_in_full(db, client, login, make_case):
    case = make_case("mediating")
    login("staff")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert ZHANG_ID not in page and "13812345678" not in page
    assert "1101**********002X" in page and f"/cases/{case.id}/act/correct" in page
    form = edit_form(client, case.id)
    assert f'value="{ZHANG_ID}"' in form and f'value="{LI_ID}"' in form
    assert 'value="13812345678"' in form and 'value="13987654321"' in form
    assert "楼上漏水" in form  # the summary, as recorded


def test_staff_correct_a_party_and_the_amount_and_the_timeline_lists_each_change(
    db, client, login, make_case
):
    case = make_case("mediating", amount=Decimal("5000.00"))
    login("staff")
    saved = client.post_form(
        f"/cases/{case.id}/act/correct",
        posted_form(
            db,
            case.id,
            **{
                "amount": "4500.50",
                "parties-0-name": "张叁",
                "parties-0-id_number": TRUE_ID,
                "parties-0-phone": TRUE_PHONE,
            },
        ),
    )
    assert saved.status_code == 302
    [event] = corrections_of(db, case.id)
    assert event.details["changes"] == [
        {"field": "amount", "old": "5000.00", "new": "4500.50"},
        *(
            {"party": "张叁", "role": "applicant", "kind": "person", **change}
            for change in (
                {"field": "name", "old": "张三", "new": "张叁"},
                # Masked as everywhere: the event never holds a full ID number or phone.
                {"field": "id_number", "old": "1101**********002X", "new": "1101**********0038"},
                {"field": "phone", "old": "138****5678", "new": "138****2222"},
            )
        ),
    ]
    zhang = db.session.get(Party, case.parties[0].id)
    assert (zhang.name, zhang.id_number, zhang.phone) == ("张叁", TRUE_ID, TRUE_PHONE)
    assert db.session.get(Case, case.id).amount == Decimal("4500.50")
    db.session.rollback()
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "更正案件信息" in page
    assert "标的额：¥5,000.00 → ¥4,500.50" in page
    assert "申请人 张叁 · 姓名：张三 → 张叁" in page
    assert "申请人 张叁 · 身份证号码：1101**********002X → 1101**********0038" in page
    assert TRUE_ID not in page and TRUE_PHONE not in page


def test_a_corrected_party_keeps_its_access_code(db, client, login, make_case):
    case = make_case("mediating")
    code, number = case.access_codes[case.parties[0].id], case.number
    db.session.rollback()  # outside a request, a transaction holds SQLite's write lock
    login("staff")
    changes = {"parties-0-name": "张叁", "parties-0-id_number": TRUE_ID}
    client.post_form(f"/cases/{case.id}/act/correct", posted_form(db, case.id, **changes))
    client.post_form("/logout")
    found = client.post_form("/status", {"case_number": number, "access_code": code})
    assert found.status_code == 302
    assert "张叁" in client.get(found.headers["Location"]).get_data(as_text=True)


def test_a_bad_id_number_is_refused_beside_the_field_with_the_input_kept(
    db, client, login, make_case
):
    case = make_case("mediating")
    login("staff")
    bad = {"parties-0-id_number": "110105194912310028", "parties-1-name": "李肆"}
    page = client.post_form(f"/cases/{case.id}/act/correct", posted_form(db, case.id, **bad))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "身份证号码无效" in html and 'value="110105194912310028"' in html
    assert 'value="李肆"' in html
    assert corrections_of(db, case.id) == []
    assert db.session.get(Party, case.parties[1].id).name == "李四"


def test_nothing_changed_saves_nothing_and_says_so(db, client, login, make_case):
    case = make_case("assigned")
    login("staff")
    page = client.post_form(f"/cases/{case.id}/act/correct", posted_form(db, case.id))
    assert "与已记载的相同" in page.get_data(as_text=True)
    assert corrections_of(db, case.id) == []


def test_a_second_editor_is_told_the_case_changed_and_keeps_their_input(
    app, db, client, login, make_case
):
    case = make_case("mediating")
    login("staff")
    seen = posted_form(db, case.id)
    assert (
        client.post_form(
            f"/cases/{case.id}/act/correct", seen | {"parties-1-phone": "13900001111"}
        ).status_code
        == 302
    )
    second = client.post_form(f"/cases/{case.id}/act/correct", seen | {"claims": "赔偿六千元"})
    html = second.get_data(as_text=True)
    assert "已被他人修改" in html and "赔偿六千元" in html
    assert len(corrections_of(db, case.id)) == 1
    assert db.session.get(Case, case.id).claims == "赔偿维修费用5000元。"


# --- risk ------------------------------------------------------------------------------------


def test_risk_is_raised_by_hand_and_by_the_facts_never_lowered(db, client, login, make_case):
    case = make_case("registered")
    login("staff")
    url = f"/cases/{case.id}/act/correct"
    raised = client.post_form(url, posted_form(db, case.id, risk_level="medium"))
    assert raised.status_code == 302
    lowered = client.post_form(url, posted_form(db, case.id, risk_level="low"))
    assert "只能调高，不能调低" in lowered.get_data(as_text=True)
    assert db.session.get(Case, case.id).risk_level == "medium"
    db.session.rollback()
    # Ten people or more make a mass dispute: high risk, routed within one working day.
    due_before = db.session.get(Case, case.id).triage_due_on
    db.session.rollback()
    mass = client.post_form(url, posted_form(db, case.id, people_involved="12"))
    assert mass.status_code == 302
    corrected = db.session.get(Case, case.id)
    assert corrected.risk_level == "high" and corrected.triage_due_on < due_before
    last = corrections_of(db, case.id)[-1]
    assert {"field": "risk_level", "old": "medium", "new": "high"} in last.details["changes"]


def test_staff_correct_until_the_conclusion_an_administrator_after(db, client, login, make_case):
    case = make_case("fulfilled")
    login("staff")
    assert f"/cases/{case.id}/act/correct" not in client.get(f"/cases/{case.id}").get_data(
        as_text=True
    )
    refused = client.post_form(
        f"/cases/{case.id}/act/correct", posted_form(db, case.id, **{"parties-0-name": "张叁"})
    )
    assert "不能执行“更正案件信息”" in refused.get_data(as_text=True)
    assert 'value="张叁"' in refused.get_data(as_text=True)  # what was typed is kept
    assert corrections_of(db, case.id) == []
    client.post_form("/logout")

    login("admin")
    form = edit_form(client, case.id)
    assert 'name="risk_level"' not in form and "案件已办结，风险等级不再更改" in form
    fields = posted_form(db, case.id, **{"parties-1-name": "李肆"})
    del fields["risk_level"]
    assert client.post_form(f"/cases/{case.id}/act/correct", fields).status_code == 302
    [event] = corrections_of(db, case.id)
    assert event.details["changes"][0]["new"] == "李肆"


def test_a_corrected_identity_carries_the_partys_integrity_record(db, make_case):
    """A certificate earned under a mistyped ID number is found under the true one."""
    case = make_case("fulfilled")  # the respondent 李四 performed on time: a certificate
    admin = wf.Actor.for_user(user_for(case.centre, "admin"))
    data = wf.intake_data_of(case)
    data.parties[1].name, data.parties[1].id_number = "李肆", "11010519491231002X"
    wf.correct_case(case, data, admin)
    db.session.commit()
    record = db.session.scalar(select(IntegrityRecord).filter_by(party_id=case.parties[1].id))
    assert record.identity_key == "11010519491231002X"
    certificate = db.session.scalar(select(Certificate).filter_by(record_id=record.id))
    assert certificate.holder_name == "李肆"


def test_the_workflow_checks_a_correction_again(db, make_case):
    case = make_case("mediating")
    staff = wf.Actor.for_user(user_for(case.centre))
    data = wf.intake_data_of(case)
    data.parties[0].id_number = "110105194912310028"  # the checksum is wrong
    with pytest.raises(wf.WorkflowError, match="身份证号码无效"):
        wf.correct_case(case, data, staff)
    data = wf.intake_data_of(case)
    data.amount = Decimal("12.345")
    with pytest.raises(wf.WorkflowError, match="最多保留两位小数"):
        wf.correct_case(case, data, staff)
    assert not db.session.dirty


@pytest.mark.parametrize(
    ("role", "centre", "status"),
    [("admin", "330106", 200), ("staff", "330106", 200), ("mediator", "330106", 403)],
)
def test_who_may_open_the_edit_form(db, client, login, make_case, role, centre, status):
    case = make_case("mediating")  # its mediator is mediator-330106
    login(role, centre=centre)
    assert client.get(f"/cases/{case.id}/act/correct").status_code == status
    response = client.post_form(
        f"/cases/{case.id}/act/correct", posted_form(db, case.id, claims="改")
    )
    assert response.status_code == (302 if status == 200 else status)


def test_staff_of_another_centre_do_not_find_the_edit_form(db, client, login, make_case):
    case = make_case("mediating")
    login("staff", centre="330105")
    assert client.get(f"/cases/{case.id}/act/correct").status_code == 404
    assert (
        client.post_form(
            f"/cases/{case.id}/act/correct", posted_form(db, case.id, claims="改")
        ).status_code
        == 404
    )
    assert corrections_of(db, case.id) == []


# --- completed transfers ---------------------------------------------------------------------


def letter(client, case_id) -> str:
    return client.get(f"/cases/{case_id}/print/transfer").get_data(as_text=True)


def test_staff_complete_a_partys_transfer_and_the_letter_prints_it(db, client, login, make_case):
    case = make_case("transferred", transfer_reason="party_request")
    login("staff")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "尚未记载" in page and f"/cases/{case.id}/act/complete_transfer" in page
    before = letter(client, case.id)
    assert "有管辖权的人民法院：" in before
    assert "无争议事实记载" not in before and "无记载" not in before and "未列明" not in before

    saved = client.post_form(
        f"/cases/{case.id}/act/complete_transfer",
        {
            "version": posted_form(db, case.id)["version"],
            "court": "杭州市西湖区人民法院",
            "undisputed_facts": "漏水事实双方无争议。",
        },
    )
    assert saved.status_code == 302
    after = letter(client, case.id)
    assert "杭州市西湖区人民法院：" in after and "有管辖权的人民法院" not in after
    assert "无争议事实记载" in after and "漏水事实双方无争议。" in after
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "补正转诉讼信息" in page and "法院：— → 杭州市西湖区人民法院" in page


def test_a_transfer_is_completed_until_the_court_files_the_case(db, client, login, make_case):
    case = make_case("transferred", transfer_reason="party_request")
    staff = wf.Actor.for_user(user_for(case.centre))
    wf.record_court_filing(case, "（2026）浙0106民初88号", staff)
    db.session.commit()
    with pytest.raises(wf.WorkflowError):
        wf.complete_transfer(case, "杭州市西湖区人民法院", "", staff)
    db.session.rollback()
    login("staff")
    assert "act/complete_transfer" not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    refused = client.post_form(
        f"/cases/{case.id}/act/complete_transfer",
        {"version": posted_form(db, case.id)["version"], "court": "杭州市西湖区人民法院"},
    )
    assert refused.status_code == 200 and "不能执行" in refused.get_data(as_text=True)
    assert db.session.get(Case, case.id).transfer.court == ""


def test_a_completed_transfer_needs_a_court(db, client, login, make_case):
    case = make_case("transferred", transfer_reason="party_request")
    login("staff")
    page = client.post_form(
        f"/cases/{case.id}/act/complete_transfer",
        {"version": posted_form(db, case.id)["version"], "court": " ", "undisputed_facts": "事实"},
    ).get_data(as_text=True)
    assert "请填写受理法院。" in page and "is-invalid" in page and "事实" in page
    assert db.session.get(Case, case.id).transfer.undisputed_facts == ""


@pytest.mark.parametrize(
    ("role", "centre", "status"),
    [
        ("admin", "330106", 200),
        ("staff", "330106", 200),
        ("mediator", "330106", 403),
        ("staff", "330105", 404),
    ],
)
def test_who_may_complete_a_transfer(db, client, login, make_case, role, centre, status):
    case = make_case("transferred", transfer_reason="party_request")
    login(role, centre=centre)
    assert client.get(f"/cases/{case.id}/act/complete_transfer").status_code == status

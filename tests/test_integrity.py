"""Integrity records and certificates (SPEC 3.4) and the staff pages that show them."""

import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mediation import clock
from mediation.audit.models import AuditEntry
from mediation.cases import workflow
from mediation.cases.workflow import Actor
from mediation.directory.models import CentreSettings
from mediation.documents.printing import qr_svg
from mediation.extensions import db as _db
from mediation.integrity import records
from mediation.integrity.models import Certificate, IntegrityRecord
from tests.case_factory import (
    CREDIT_CODE,
    DUE,
    LI_ID,
    SIGNED,
    ZHANG_ID,
    agreed_case,
    build_case,
    centre_for,
    certificates_of,
    cst,
    organisation,
    perform,
    person,
    user_for,
)
from tests.conftest import recorded_statements


def records_of(case) -> list[IntegrityRecord]:
    return list(
        _db.session.scalars(
            select(IntegrityRecord)
            .where(IntegrityRecord.case_id == case.id)
            .order_by(IntegrityRecord.id)
        )
    )


# --- points and certificates -----------------------------------------------------------------


def test_performance_on_the_due_date_earns_ten_points_and_a_certificate(db):
    case = agreed_case([(1, 0, DUE)])
    perform(case, 0, DUE)
    [record] = records_of(case)
    assert (record.kind, record.points, record.party.name) == ("positive", 10, "李四")
    assert record.identity_key == LI_ID
    assert record.created_on == DUE
    [certificate] = certificates_of(case)
    assert certificate.record_id == record.id
    assert certificate.holder_name == "李四"
    assert certificate.points == 10
    assert certificate.issued_on == DUE
    assert re.fullmatch(r"330106-2026-\d{6}", certificate.number)
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}", certificate.verification_code)
    assert certificate.revoked_at is None


@pytest.mark.parametrize(
    ("days_early", "points"), [(0, 10), (1, 10), (6, 10), (7, 15), (8, 15), (18, 15)]
)
def test_seven_days_early_earns_fifteen(db, days_early, points):
    case = agreed_case([(1, 0, DUE)])
    perform(case, 0, DUE - timedelta(days=days_early))
    [certificate] = certificates_of(case)
    assert certificate.points == points


def test_late_performance_earns_nothing(db):
    case = agreed_case([(1, 0, DUE)])
    perform(case, 0, DUE + timedelta(days=1))
    assert case.state == "fulfilled"
    assert records_of(case) == [] and certificates_of(case) == []


def test_one_late_obligation_forfeits_the_certificate_even_if_the_others_were_on_time(db):
    case = agreed_case([(1, 0, DUE), (1, 0, DUE + timedelta(days=10))])
    perform(case, 0, DUE - timedelta(days=10))
    perform(case, 1, DUE + timedelta(days=11))
    assert records_of(case) == []


def test_nothing_until_the_last_obligation_is_performed_then_points_add_up(db):
    case = agreed_case([(1, 0, DUE), (1, 0, DUE + timedelta(days=30))])
    perform(case, 0, DUE - timedelta(days=7))
    assert records_of(case) == []
    assert case.state == "agreed"
    perform(case, 1, DUE + timedelta(days=30))
    [certificate] = certificates_of(case)
    assert certificate.points == 15 + 10
    assert certificate.issued_on == DUE + timedelta(days=30)


def test_several_obligors_each_earn_their_own_certificate_independently(db):
    # The applicant owes one obligation, the respondent two.
    case = agreed_case([(1, 0, DUE), (0, 1, DUE), (1, 0, DUE + timedelta(days=5))])
    perform(case, 1, DUE)  # the applicant is done, on time
    [first] = certificates_of(case)
    assert first.holder_name == "张三" and first.points == 10
    perform(case, 0, DUE)
    assert len(certificates_of(case)) == 1  # the respondent still owes one
    perform(case, 2, DUE + timedelta(days=6))  # late: the respondent earns nothing
    assert [c.holder_name for c in certificates_of(case)] == ["张三"]
    assert case.state == "fulfilled"


def test_both_obligors_on_time_get_two_certificates_with_different_numbers_and_codes(db):
    case = agreed_case([(1, 0, DUE), (0, 1, DUE)])
    perform(case, 0, DUE)
    perform(case, 1, DUE)
    first, second = certificates_of(case)
    assert {first.holder_name, second.holder_name} == {"张三", "李四"}
    assert first.number != second.number
    assert first.verification_code != second.verification_code


def test_a_party_that_owes_nothing_gets_nothing(db):
    case = agreed_case([(1, 0, DUE)])
    perform(case, 0, DUE)
    assert [r.party.name for r in records_of(case)] == ["李四"]  # not the obligee 张三


def test_an_agreement_without_obligations_earns_no_certificate(db):
    case = build_case("mediating", at=cst(SIGNED, 9))
    staff = Actor.for_user(user_for(case.centre))
    workflow.agree_case(case, SIGNED, "双方和解，互不追究。", [], staff, at=cst(SIGNED))
    _db.session.commit()
    assert case.state == "fulfilled" and records_of(case) == []


def test_a_performance_earns_its_certificate_once(db):
    """Recording the same performance again is refused and writes nothing; the database
    keeps one positive record per party and case even if a second were written."""
    case = agreed_case([(1, 0, DUE)])
    obligation = perform(case, 0, DUE)
    staff = Actor.for_user(user_for(case.centre))
    with pytest.raises(workflow.WorkflowError):
        workflow.fulfil_obligation(case, obligation, DUE, staff, at=cst(DUE, 15))
    _db.session.rollback()
    assert len(records_of(case)) == 1 and len(certificates_of(case)) == 1
    (record,) = records_of(case)
    duplicate = IntegrityRecord(
        centre_id=record.centre_id,
        case_id=record.case_id,
        party_id=record.party_id,
        kind="positive",
        points=record.points,
        dedupe_key=record.dedupe_key,
        created_at=record.created_at,
        created_on=record.created_on,
    )
    _db.session.add(duplicate)
    with pytest.raises(IntegrityError):
        _db.session.flush()


def test_the_certificate_carries_the_centres_measures(db):
    centre = centre_for("330106")
    _db.session.add(
        CentreSettings(
            centre_id=centre.id, incentive_measures="诉讼费用减免\n\n 信用贷款利率优惠 \n"
        )
    )
    _db.session.commit()
    case = agreed_case([(1, 0, DUE)])
    perform(case, 0, DUE)
    [certificate] = certificates_of(case)
    assert certificate.measures == ["诉讼费用减免", "信用贷款利率优惠"]


def test_default_measures_when_the_centre_set_none(db):
    case = agreed_case([(1, 0, DUE)])
    perform(case, 0, DUE)
    assert certificates_of(case)[0].measures == ["诉讼费用减免", "优先调解服务", "诚信红名单"]


def test_an_organisation_is_known_by_its_credit_code(db):
    case = agreed_case(
        [(1, 0, DUE)], parties=[person("applicant", "张三", ZHANG_ID), organisation("respondent")]
    )
    perform(case, 0, DUE)
    [record] = records_of(case)
    assert record.identity_key == CREDIT_CODE
    assert certificates_of(case)[0].holder_name == "杭州某某科技有限公司"


def test_a_party_without_an_id_still_earns_a_certificate(db):
    case = agreed_case(
        [(1, 0, DUE)],
        parties=[person("applicant", "张三", ZHANG_ID), person("respondent", "李四", None)],
    )
    perform(case, 0, DUE)
    [record] = records_of(case)
    assert record.identity_key is None and record.certificate is not None


@pytest.mark.parametrize(
    ("issued", "until"),
    [
        (date(2026, 3, 15), date(2027, 3, 14)),
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2028, 2, 29), date(2029, 2, 28)),
        (date(2027, 3, 1), date(2028, 2, 29)),
    ],
)
def test_valid_for_twelve_months(issued, until):
    assert records.valid_until(issued) == until


def test_the_certificate_is_valid_for_twelve_months_then_expired(db):
    case = agreed_case([(1, 0, DUE)])
    perform(case, 0, DUE)
    [certificate] = certificates_of(case)
    assert certificate.valid_until == date(2027, 3, 19)
    assert records.certificate_status(certificate, date(2027, 3, 19)) == "valid"
    assert records.certificate_status(certificate, date(2027, 3, 20)) == "expired"


def test_certificate_numbers_are_unique_across_cases_and_centres(db):
    numbers = []
    for centre in ("330106", "330106", "330105"):
        case = agreed_case([(1, 0, DUE)], centre=centre)
        perform(case, 0, DUE)
        numbers.append(certificates_of(case)[0].number)
    assert len(set(numbers)) == 3
    assert numbers[2].startswith("330105-2026-")


def test_performance_through_the_portal_earns_the_certificate_too(db):
    case = agreed_case([(1, 0, DUE)])
    obligation = case.agreement.obligations[0]
    obligee = Actor.for_party(case.parties[0])
    workflow.fulfil_obligation(case, obligation, DUE, obligee, at=cst(DUE))
    _db.session.commit()
    assert len(certificates_of(case)) == 1


# --- defaults --------------------------------------------------------------------------------


def test_a_default_thirty_days_past_due_is_a_negative_record_written_once(db):
    case = agreed_case([(1, 0, DUE)])
    obligation = case.agreement.obligations[0]
    assert records.record_default(obligation, cst(DUE + timedelta(days=29))) is None
    record = records.record_default(obligation, cst(DUE + timedelta(days=30)))
    _db.session.commit()
    assert (record.kind, record.points, record.party.name) == ("negative", -20, "李四")
    assert record.obligation_id == obligation.id and record.identity_key == LI_ID
    assert record.created_on == DUE + timedelta(days=30)
    assert records.record_default(obligation, cst(DUE + timedelta(days=31))) is None
    _db.session.commit()
    assert len(records_of(case)) == 1
    assert certificates_of(case) == []


def test_no_negative_record_for_a_performed_obligation(db):
    case = agreed_case([(1, 0, DUE)])
    obligation = perform(case, 0, DUE + timedelta(days=3))
    assert records.record_default(obligation, cst(DUE + timedelta(days=60))) is None


# --- revocation ------------------------------------------------------------------------------


@pytest.fixture
def certificate(db):
    case = agreed_case([(1, 0, DUE)])
    perform(case, 0, DUE)
    return certificates_of(case)[0]


def test_an_admin_revokes_with_a_reason_and_it_is_audited(db, certificate):
    admin = user_for(centre_for("330106"), "admin")
    at = cst(DUE + timedelta(days=3))
    with clock.frozen_at(at):
        records.revoke_certificate(certificate, "  履行款项系他人代付  ", admin, at)
    _db.session.commit()
    assert certificate.revoked_reason == "履行款项系他人代付"
    assert certificate.revoked_by_id == admin.id
    assert records.certificate_status(certificate, DUE + timedelta(days=3)) == "revoked"
    entry = _db.session.scalar(select(AuditEntry).filter_by(action="certificate.revoke"))
    assert entry.target == certificate.number and entry.actor_id == admin.id
    assert entry.details["reason"] == "履行款项系他人代付"


def test_revocation_needs_a_reason(db, certificate):
    admin = user_for(centre_for("330106"), "admin")
    with pytest.raises(records.CertificateError) as refused:
        records.revoke_certificate(certificate, "   ", admin, cst(DUE))
    assert refused.value.field == "reason"
    assert certificate.revoked_at is None


@pytest.mark.parametrize(("role", "centre"), [("staff", "330106"), ("admin", "330105")])
def test_only_an_admin_of_the_centre_revokes(db, certificate, role, centre):
    user = user_for(centre_for(centre), role)
    with pytest.raises(records.CertificateError):
        records.revoke_certificate(certificate, "理由", user, cst(DUE))
    assert certificate.revoked_at is None


def revocations(app) -> int:
    with app.app_context():
        return _db.session.scalar(
            select(func.count()).select_from(AuditEntry).filter_by(action="certificate.revoke")
        )


def test_a_global_admin_revokes_and_a_certificate_is_revoked_once(app, client, login, issued):
    url = f"/integrity/certificates/{issued['certificate']}"
    revoked_at = cst(DUE + timedelta(days=3))
    with clock.frozen_at(revoked_at):
        login("admin", centre=None)
        assert client.post_form(f"{url}/revoke", {"reason": "虚假履行"}).headers["Location"] == url
    with clock.frozen_at(revoked_at + timedelta(hours=1)):
        again = client.post_form(f"{url}/revoke", {"reason": "再次撤销"})
        assert again.status_code == 200 and "该证书已被撤销" in again.get_data(as_text=True)
        checked = client.post_form(
            "/verify", {"number": issued["cert_number"], "code": issued["code"]}
        )
    with app.app_context():
        stored = _db.session.get(Certificate, issued["certificate"])
        assert (stored.revoked_at, stored.revoked_reason) == (revoked_at, "虚假履行")
    assert revocations(app) == 1
    page = checked.get_data(as_text=True)
    assert "已撤销" in page and "该证书已被发证中心撤销" in page and "2026年3月23日" in page


# --- profile ---------------------------------------------------------------------------------


def test_profile_gathers_records_across_cases_by_id_within_the_viewers_centres(db):
    first = agreed_case([(1, 0, DUE)])
    perform(first, 0, DUE)
    second = agreed_case([(1, 0, DUE)])
    records.record_default(second.agreement.obligations[0], cst(DUE + timedelta(days=40)))
    elsewhere = agreed_case([(1, 0, DUE)], centre="330105")
    perform(elsewhere, 0, DUE - timedelta(days=8))
    other_person = agreed_case([(0, 1, DUE)])
    perform(other_person, 0, DUE)
    _db.session.commit()

    staff = user_for(centre_for("330106"), "staff")
    found = records.profile(" 440524188001010014 ", staff)
    assert sorted(r.case_id for r in found.records) == sorted([first.id, second.id])
    assert found.points == 10 - 20
    assert len(found.certificates) == 1 and len(found.negative) == 1
    assert found.names == ["李四"]

    everything = records.profile(LI_ID, user_for(None, "admin"))
    assert {r.case_id for r in everything.records} == {first.id, second.id, elsewhere.id}
    assert everything.points == 10 - 20 + 15

    assert records.profile("330106199003071236", staff).records == []


# --- staff pages -----------------------------------------------------------------------------


@pytest.fixture
def issued(app):
    """A certificate of 李四 in centre 330106 (and its case), made in its own app context."""
    with app.app_context():
        case = agreed_case([(1, 0, DUE)])
        perform(case, 0, DUE)
        certificate = certificates_of(case)[0]
        return {
            "case": case.id,
            "number": case.number,
            "certificate": certificate.id,
            "code": certificate.verification_code,
            "cert_number": certificate.number,
        }


def test_staff_find_a_profile_by_id_number_with_ids_masked(client, login, issued):
    login("staff")
    page = client.post_form("/integrity/", {"q": LI_ID.lower()}).get_data(as_text=True)
    assert issued["number"] in page and issued["cert_number"] in page
    assert "4405**********0014" in page
    # The full number only where the user typed it.
    assert page.count(LI_ID) == 1 and f'value="{LI_ID}"' in page
    assert "李四" in page


def test_a_profile_search_is_audited(app, client, login, issued):
    login("staff")
    client.post_form("/integrity/", {"q": LI_ID})
    with app.app_context():
        entry = _db.session.scalar(select(AuditEntry).filter_by(action="integrity.lookup"))
        assert entry.target == "4405**********0014" and entry.details["found"] == 1


def test_a_bad_id_gets_a_message_beside_the_field_and_is_kept(client, login, issued):
    login("staff")
    page = client.post_form("/integrity/", {"q": "440524188001010015"}).get_data(as_text=True)
    assert "is-invalid" in page and 'value="440524188001010015"' in page
    assert issued["cert_number"] not in page


def test_staff_of_another_centre_find_nothing(client, login, issued):
    login("staff", centre="330105")
    page = client.post_form("/integrity/", {"q": LI_ID}).get_data(as_text=True)
    assert issued["cert_number"] not in page and "没有找到" in page
    assert client.get(f"/integrity/certificates/{issued['certificate']}").status_code == 404
    assert client.get(f"/integrity/certificates/{issued['certificate']}/print").status_code == 404


@pytest.mark.parametrize(
    "url", ["/integrity/", "/integrity/certificates/{id}", "/integrity/certificates/{id}/print"]
)
def test_mediators_may_not_open_integrity_pages(client, login, issued, url):
    login("mediator")
    assert client.get(url.format(id=issued["certificate"])).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, issued):
    response = client.get(f"/integrity/certificates/{issued['certificate']}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_staff_see_the_certificate_without_a_revoke_form(client, login, issued):
    login("staff")
    page = client.get(f"/integrity/certificates/{issued['certificate']}").get_data(as_text=True)
    assert issued["cert_number"] in page and issued["code"] in page
    assert "有效" in page
    assert f"/integrity/certificates/{issued['certificate']}/revoke" not in page


def test_staff_may_not_revoke(app, client, login, issued):
    login("staff")
    response = client.post_form(
        f"/integrity/certificates/{issued['certificate']}/revoke", {"reason": "理由"}
    )
    assert response.status_code == 403
    with app.app_context():
        assert _db.session.get(Certificate, issued["certificate"]).revoked_at is None


def test_an_admin_revokes_on_the_certificate_page(app, client, login, issued):
    login("admin")
    url = f"/integrity/certificates/{issued['certificate']}"
    assert f"{url}/revoke" in client.get(url).get_data(as_text=True)
    page = client.post_form(f"{url}/revoke", {"reason": ""}).get_data(as_text=True)
    assert "请填写撤销理由" in page
    with app.app_context():
        assert _db.session.get(Certificate, issued["certificate"]).revoked_at is None
    response = client.post_form(f"{url}/revoke", {"reason": "虚假履行"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "已撤销" in page and "虚假履行" in page and f"{url}/revoke" not in page
    with app.app_context():
        assert _db.session.get(Certificate, issued["certificate"]).revoked_reason == "虚假履行"
    assert revocations(app) == 1


def test_the_printable_certificate(client, login, issued):
    login("staff")
    page = client.get(f"/integrity/certificates/{issued['certificate']}/print").get_data(
        as_text=True
    )
    for text in (
        "诚信履行证明",
        "西湖区社会矛盾纠纷调处化解中心",
        "李四",
        issued["cert_number"],
        issued["code"],
        "诉讼费用减免",
        "2026年3月20日",
        "2027年3月19日",
        "/verify",
        "css/certificate.css",
        "data-print",
    ):
        assert text in page, text


def test_the_printed_certificate_has_a_qr_code_to_its_check_at_the_public_address(
    app, client, login, issued, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://tiaojie.example.gov.cn")
    login("staff")
    # The browser of someone who forges the Host header sends the cookie along.
    client.set_cookie("session", client.get_cookie("session").value, domain="evil.example")
    page = client.get(
        f"/integrity/certificates/{issued['certificate']}/print", headers={"Host": "evil.example"}
    ).get_data(as_text=True)
    assert "evil.example" not in page and "https://tiaojie.example.gov.cn/verify" in page
    target = f"https://tiaojie.example.gov.cn/verify?number={quote(issued['cert_number'])}"
    with app.test_request_context():
        assert str(qr_svg(target)) in page
    # The check opened from the code has the certificate's number filled in.
    check = client.get(target.removeprefix("https://tiaojie.example.gov.cn")).get_data(as_text=True)
    assert f'value="{issued["cert_number"]}"' in check


def test_the_case_page_lists_its_certificates_for_staff_only(client, login, issued):
    login("staff")
    page = client.get(f"/cases/{issued['case']}").get_data(as_text=True)
    assert f"/integrity/certificates/{issued['certificate']}" in page
    client.post_form("/logout")
    login("mediator")  # the case's own mediator: sees the case, not the integrity card
    response = client.get(f"/cases/{issued['case']}")
    assert response.status_code == 200
    assert "/integrity/certificates/" not in response.get_data(as_text=True)


def test_the_case_page_shows_both_kinds_of_record_and_no_card_without_records(app, client, login):
    with app.app_context():
        performed = agreed_case([(1, 0, DUE), (0, 1, DUE)])
        perform(performed, 0, DUE)  # 李四 performs on time: +10 and a certificate
        records.record_default(performed.agreement.obligations[1], cst(DUE + timedelta(days=30)))
        _db.session.commit()
        certificate = certificates_of(performed)[0]
        number, certificate_id, valid_until = (
            certificate.number,
            certificate.id,
            certificate.valid_until,
        )
        pending = agreed_case([(1, 0, DUE)]).id  # obligations, nothing recorded yet
        mediating = build_case("mediating", at=cst(SIGNED, 9)).id
        performed = performed.id
    login("staff")

    def card_of(case_id):
        login("staff")  # on the frozen clock: a session from today would have expired
        page = client.get(f"/cases/{case_id}").get_data(as_text=True)
        card = page[page.index('<h2 class="h5">诚信记录</h2>') :]
        return card[: card.index("</table>")]

    with clock.frozen_at(cst(valid_until, 12)):
        card = card_of(performed)
    rows = re.findall(r"<tr>\s*<td>(.+?)</td>.*?<td>([+-]\d+)</td>", card, re.S)
    assert rows == [("李四", "+10"), ("张三", "-20")]
    assert f'/integrity/certificates/{certificate_id}">{number}</a>' in card
    assert "有效" in card  # its last valid day
    # 01:00 the day after in the centre's zone is still valid_until in UTC: expired there.
    with clock.frozen_at(cst(valid_until + timedelta(days=1), 1)):
        assert "已过期" in card_of(performed)
    with app.app_context():
        _db.session.get(Certificate, certificate_id).revoked_at = cst(valid_until, 9)
        _db.session.commit()
    with clock.frozen_at(cst(valid_until, 12)):
        assert "已撤销" in card_of(performed)

    # Obligations but nothing recorded yet, or no agreement at all: no card.
    for case_id in (pending, mediating):
        page = client.get(f"/cases/{case_id}").get_data(as_text=True)
        assert "/integrity/certificates/" not in page and "诚信记录" not in page


def test_the_navigation_offers_integrity_profiles_to_staff_not_mediators(client, login):
    login("staff")
    assert 'href="/integrity/"' in client.get("/").get_data(as_text=True)
    client.post_form("/logout")
    login("mediator")
    assert 'href="/integrity/"' not in client.get("/").get_data(as_text=True)


def test_a_new_certificate_carries_the_measures_edited_on_the_settings_page(app, client, login):
    login("admin")
    response = client.post_form(
        "/admin/settings/",
        {
            "triage_days": "3",
            "triage_days_high_risk": "1",
            "warning_days": "5",
            "extensions_allowed": "y",
            "extension_max_days": "30",
            "incentive_measures": "优先调解服务\n公共资源交易加分",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        case = agreed_case([(1, 0, DUE)])
        perform(case, 0, DUE)
        [certificate] = certificates_of(case)
        assert certificate.measures == ["优先调解服务", "公共资源交易加分"]


def statements_of(app, fetch) -> int:
    """How many SQL statements fetch() sends."""
    with recorded_statements(app) as statements:
        fetch()
    return len(statements)


def test_the_profile_page_costs_the_same_for_one_record_or_five(app, client, login):
    """No query per row: one record, then five in five centres, the same statements."""
    login("admin", centre=None)

    def search():
        return client.post_form("/integrity/", {"q": LI_ID}).get_data(as_text=True)

    counts = {}
    for centres in (("330106",), ("330105", "330108", "330109", "330110")):
        with app.app_context():
            for code in centres:
                perform(agreed_case([(1, 0, DUE)], centre=code), 0, DUE)
        search()  # warm up
        counts[len(centres)] = statements_of(app, search)
        assert search().count("/integrity/certificates/") == {1: 1, 4: 5}[len(centres)]
    assert counts[1] == counts[4], counts

"""The public pages of SPEC 3.4: verifying a certificate and the honour list (no login)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy import text as sa_text

from mediation import clock
from mediation.cases.models import Party
from mediation.extensions import db as _db
from mediation.integrity import records
from mediation.integrity.models import Certificate, IntegrityRecord
from mediation.portal.public import HONOUR_PAGE_SIZE
from tests.case_factory import (
    DUE,
    LI_ID,
    ZHANG_ID,
    agreed_case,
    certificates_of,
    credit_code,
    cst,
    organisation,
    perform,
    person,
    user_for,
)

SOON = datetime(2026, 4, 1, 2, tzinfo=UTC)  # 2026-04-01, while every certificate is valid


def issue(app, parties=None, centre="330106", consent=False, performed_on=DUE) -> dict:
    """A certificate for the respondent of a new case, with the respondent's honour consent."""
    with app.app_context():
        case = agreed_case([(1, 0, DUE)], parties=parties, centre=centre)
        case.respondents[0].honour_consent = consent
        perform(case, 0, performed_on)
        certificate = certificates_of(case)[0]
        return {
            "id": certificate.id,
            "number": certificate.number,
            "code": certificate.verification_code,
        }


@pytest.fixture
def certificate(app):
    return issue(app)


def check(client, number, code):
    return client.post_form("/verify", {"number": number, "code": code})


# --- verify ----------------------------------------------------------------------------------


def test_the_verify_form_is_public_and_takes_the_number_from_the_link(client):
    page = client.get("/verify?number=330106-2026-000001").get_data(as_text=True)
    assert 'value="330106-2026-000001"' in page and 'name="code"' in page


def test_a_valid_certificate_shows_its_masked_holder_centre_and_dates(client, certificate):
    with clock.frozen_at(SOON):
        response = check(client, certificate["number"], certificate["code"])
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "有效" in page and "李*" in page and "李四" not in page
    assert "西湖区社会矛盾纠纷调处化解中心" in page
    assert "2026年3月20日" in page and "2027年3月19日" in page
    assert response.headers["Cache-Control"] == "no-store"


def test_a_number_and_code_typed_loosely_on_a_phone_still_match(client, certificate):
    loose = " " + certificate["number"].replace("-", "－") + " "
    code = " ".join(certificate["code"].lower())
    with clock.frozen_at(SOON):
        page = check(client, loose, code).get_data(as_text=True)
    assert "此证明真实有效" in page


def test_an_organisation_is_shown_by_its_full_name(app, client):
    issued = issue(app, parties=[person("applicant", "张三", ZHANG_ID), organisation("respondent")])
    with clock.frozen_at(SOON):
        page = check(client, issued["number"], issued["code"]).get_data(as_text=True)
    assert "杭州某某科技有限公司" in page


def test_a_year_later_the_certificate_is_expired(client, certificate):
    with clock.frozen_at(datetime(2027, 3, 20, 2, tzinfo=UTC)):
        page = check(client, certificate["number"], certificate["code"]).get_data(as_text=True)
    assert "已过期" in page and "此证明真实，但已过有效期" in page


def test_a_revoked_certificate_says_so(app, client, certificate):
    with app.app_context():
        row = _db.session.get(Certificate, certificate["id"])
        records.revoke_certificate(row, "虚假履行", user_for(None, "admin"), cst(DUE))
        _db.session.commit()
    with clock.frozen_at(SOON):
        page = check(client, certificate["number"], certificate["code"]).get_data(as_text=True)
    assert "已撤销" in page and "虚假履行" not in page


def test_unknown_number_and_wrong_code_get_the_same_answer(client, certificate):
    wrong_code = "2" * 8 if certificate["code"] != "2" * 8 else "3" * 8
    unknown = check(client, "330106-2026-999999", wrong_code)
    wrong = check(client, certificate["number"], wrong_code)
    assert unknown.status_code == wrong.status_code == 200
    assert "没有与该编号和验证码相符的证书" in wrong.get_data(as_text=True)
    assert "李*" not in wrong.get_data(as_text=True)

    def answer(response) -> str:
        """The page without what differs anyway: the number typed and the form's token."""
        return re.sub(r'value="[^"]*"', "", response.get_data(as_text=True))

    assert answer(unknown) == answer(wrong)


def test_empty_fields_get_messages_beside_them(client):
    page = check(client, "", "").get_data(as_text=True)
    assert "请输入证书编号" in page and "请输入验证码" in page


def test_failed_checks_are_throttled_per_client(app, client, certificate):
    with clock.frozen_at(SOON):
        for _ in range(20):
            assert check(client, "330106-2026-999999", "ABCDEFGH").status_code == 200
        response = check(client, certificate["number"], certificate["code"])
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert "分钟后再试" in response.get_data(as_text=True)
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
        assert "此证明真实有效" in check(
            other, certificate["number"], certificate["code"]
        ).get_data(as_text=True)
    with clock.frozen_at(SOON + timedelta(minutes=16)):
        assert check(client, certificate["number"], certificate["code"]).status_code == 200


def test_the_check_limit_is_configurable(app, client, certificate):
    app.config["VERIFY_MAX_FAILURES_PER_CLIENT"] = 3
    with clock.frozen_at(SOON):
        for _ in range(3):
            assert check(client, "330106-2026-999999", "ABCDEFGH").status_code == 200
        assert check(client, certificate["number"], certificate["code"]).status_code == 429


def test_successful_checks_are_not_counted(client, certificate):
    with clock.frozen_at(SOON):
        for _ in range(25):
            response = check(client, certificate["number"], certificate["code"])
        assert response.status_code == 200


# --- honour list -----------------------------------------------------------------------------


def honour(client, **args) -> str:
    with clock.frozen_at(SOON):
        return client.get("/honour", query_string=args).get_data(as_text=True)


def test_the_honour_list_shows_organisations_and_consenting_persons_masked(app, client):
    issue(app, parties=[person("applicant", "张三", ZHANG_ID), organisation("respondent")])
    issue(app, parties=[person("applicant", "张三", ZHANG_ID), person("respondent", "王五", None)])
    issue(
        app,
        parties=[person("applicant", "张三", ZHANG_ID), person("respondent", "赵六一", None)],
        consent=True,
    )
    page = honour(client)
    assert "杭州某某科技有限公司" in page
    assert "赵*一" in page and "赵六一" not in page
    assert "王" not in page  # no consent: not even masked


def test_a_holder_appears_once_with_how_many_certificates_it_holds(app, client):
    """Holders are told apart by their credit code or ID number: three certificates of one
    company, two of one consenting person, one of another company."""
    zhang = person("applicant", "张三", ZHANG_ID)
    for _ in range(3):
        issue(app, parties=[zhang, organisation("respondent", "甲公司", credit_code(1))])
    for _ in range(2):
        issue(app, parties=[zhang, person("respondent", "李四五", LI_ID)], consent=True)
    issue(app, parties=[zhang, organisation("respondent", "乙公司", credit_code(2))])
    page = honour(client)
    assert page.count("甲公司") == 1 and "3 份证书" in page
    assert page.count("李*五") == 1 and "2 份证书" in page
    assert page.count("乙公司") == 1 and "1 份证书" not in page
    assert "最近一份证书签发日期" in page  # the dates of the latest, for a holder of several


def test_revoked_and_expired_certificates_leave_the_honour_list(app, client):
    parties = [person("applicant", "张三", ZHANG_ID), organisation("respondent", "甲公司")]
    revoked = issue(app, parties=parties)
    issue(app, parties=[parties[0], organisation("respondent", "乙公司")])
    with app.app_context():
        row = _db.session.get(Certificate, revoked["id"])
        records.revoke_certificate(row, "理由", user_for(None, "admin"), cst(DUE))
        _db.session.commit()
    page = honour(client)
    assert "甲公司" not in page and "乙公司" in page
    with clock.frozen_at(datetime(2027, 3, 20, 2, tzinfo=UTC)):
        page = client.get("/honour").get_data(as_text=True)
    assert "乙公司" not in page


def test_the_honour_list_filters_by_centre(app, client):
    issue(
        app, parties=[person("applicant", "张三", ZHANG_ID), organisation("respondent", "甲公司")]
    )
    issue(
        app,
        parties=[person("applicant", "张三", ZHANG_ID), organisation("respondent", "乙公司")],
        centre="330105",
    )
    assert "甲公司" in honour(client) and "乙公司" in honour(client)
    page = honour(client, centre="330105")
    assert "乙公司" in page and "甲公司" not in page


def test_the_honour_list_pages_holders_newest_first(app, client):
    with app.app_context():
        case = agreed_case(
            [(1, 0, DUE)],
            parties=[person("applicant", "张三", ZHANG_ID), organisation("respondent", "公司000")],
        )
        perform(case, 0, DUE)
        record = certificates_of(case)[0].record
        # Cheaper than a case each: more certificates for parties of the same case.
        for n in range(1, HONOUR_PAGE_SIZE + 5):
            extra = Party(
                case_id=case.id,
                position=10 + n,
                role="respondent",
                kind="organization",
                name=f"公司{n:03d}",
                credit_code=credit_code(n),
            )
            _db.session.add(extra)
            _db.session.flush()
            fake = IntegrityRecord(
                centre_id=case.centre_id,
                case_id=case.id,
                party_id=extra.id,
                kind="positive",
                points=10,
                identity_key=credit_code(n),
                dedupe_key=f"positive:{case.id}:{extra.id}",
                created_at=record.created_at,
                created_on=record.created_on,
            )
            _db.session.add(fake)
            _db.session.flush()
            _db.session.add(
                Certificate(
                    record_id=fake.id,
                    centre_id=case.centre_id,
                    number=f"330106-2026-9{n:05d}",
                    verification_code="ABCDEFGH",
                    holder_name=extra.name,
                    holder_key=records.holder_key(extra),
                    issued_on=DUE,
                    valid_until=records.valid_until(DUE),
                    points=10,
                    measures=[],
                )
            )
        _db.session.flush()
        records.refresh_honour(_db.session.scalars(select(Certificate.id)).all())
        _db.session.commit()
    first = honour(client)
    assert first.index(f"公司{HONOUR_PAGE_SIZE + 4:03d}") < first.index(
        f"公司{HONOUR_PAGE_SIZE + 3:03d}"
    )
    assert "公司000" not in first
    # The next page starts after the last row shown: its validity and id, not a page number.
    following = re.search(r'rel="next" href="/honour\?after=([0-9-]+_[0-9]+)"', first)
    second = honour(client, after=following.group(1))
    assert "公司000" in second and f"公司{HONOUR_PAGE_SIZE + 4:03d}" not in second
    assert f"公司{HONOUR_PAGE_SIZE + 3:03d}" not in second  # nothing shown twice
    assert "下一页</a>" not in second and "下一页</a>" in first
    assert 'href="/honour">第一页</a>' in second and "第一页" not in first


def test_the_honour_list_reads_a_page_on_its_index(app, client):
    """The page query walks the index of holders' latest certificates and stops after a page,
    counting each holder's on its index: its plan names both and sorts nothing (SQLite;
    PostgreSQL's planner chooses by its statistics)."""
    issue(app, parties=[person("applicant", "张三", ZHANG_ID), organisation("respondent")])
    with app.app_context():
        if _db.engine.dialect.name != "sqlite":
            pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
        from mediation.portal.public import honour_holders

        for centre_id in (None, 1):
            query = honour_holders(SOON.date(), centre_id).limit(HONOUR_PAGE_SIZE + 1)
            compiled = query.compile(_db.engine, compile_kwargs={"literal_binds": True})
            plan = " | ".join(
                row[-1] for row in _db.session.execute(sa_text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
            index = "ix_certificate_latest" if centre_id is None else "ix_certificate_centre_latest"
            assert index in plan and "ix_certificate_holder" in plan, plan
            assert "TEMP B-TREE" not in plan, plan


def test_the_honour_list_orders_by_validity_not_by_row(app, client):
    parties = [person("applicant", "张三", ZHANG_ID)]
    issue(app, parties=[*parties, organisation("respondent", "甲公司", credit_code(1))])
    # Issued later as a row, but performed (so issued and valid until) a week earlier.
    issue(
        app,
        parties=[*parties, organisation("respondent", "乙公司", credit_code(2))],
        performed_on=DUE - timedelta(days=7),
    )
    page = honour(client)
    assert page.index("甲公司") < page.index("乙公司")
    page = honour(client, centre="330106")
    assert page.index("甲公司") < page.index("乙公司")


def test_the_landing_page_links_to_verify_and_honour(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/verify"' in page and 'href="/honour"' in page


def test_public_pages_need_no_login(client):
    assert client.get("/verify").status_code == 200
    assert client.get("/honour").status_code == 200
    assert client.get("/honour?before=99999999999999").status_code == 200
    assert client.get("/honour?page=99999999999999").status_code == 200
    assert client.get("/honour?after=2026-13-40_0").status_code == 200
    assert client.get("/honour?after=2026-04-01_99999999999999").status_code == 200


def test_the_check_shows_dates_in_the_issuing_centres_zone(app, client, certificate):
    from tests.case_factory import centre_for

    with app.app_context():
        centre_for("330106").timezone = "Asia/Urumqi"  # UTC+6
        row = _db.session.get(Certificate, certificate["id"])
        at = datetime(2026, 3, 24, 17, 30, tzinfo=UTC)  # 3-25 in Shanghai, 3-24 in Urumqi
        records.revoke_certificate(row, "理由", user_for(None, "admin"), at)
        _db.session.commit()
    with clock.frozen_at(SOON):
        html = check(client, certificate["number"], certificate["code"]).get_data(as_text=True)
    assert "2026年3月24日" in html and "2026年3月25日" not in html


def test_consent_and_revocation_keep_the_honour_list_right(app, client, login):
    """What marks a holder's latest listed certificate follows each change: a second
    certificate of a consenting person, a withdrawn consent, a revocation."""
    li = person("respondent", "李四五", LI_ID)
    first = issue(app, parties=[person("applicant", "张三", ZHANG_ID), li], consent=True)
    second = issue(
        app,
        parties=[person("applicant", "张三", ZHANG_ID), li],
        consent=True,
        performed_on=DUE - timedelta(days=1),
    )
    page = honour(client)
    assert page.count("李*五") == 1 and "2 份证书" in page
    with app.app_context():
        row = _db.session.get(Certificate, first["id"])
        records.revoke_certificate(row, "理由", user_for(None, "admin"), cst(DUE))
        _db.session.commit()
    page = honour(client)
    assert page.count("李*五") == 1 and "份证书" not in page
    with app.app_context():
        party = _db.session.get(Certificate, second["id"]).record.party
        from mediation.cases.parties import set_preferences

        set_preferences(party, False, False, "书面撤回同意")
        _db.session.commit()
    assert "李*五" not in honour(client)


def test_a_holders_latest_certificate_is_marked_as_certificates_come_and_go(app):
    """One of a holder's listed certificates at a centre is its latest (the validity, then
    the id): a newer one takes the mark, revoking it gives the mark back, and a holder who
    withdraws consent has none."""
    li = person("respondent", "李四五", LI_ID)

    def latest() -> list[int]:
        with app.app_context():
            return _db.session.scalars(
                select(Certificate.id).where(
                    Certificate.holder_key == LI_ID, Certificate.is_latest.is_(True)
                )
            ).all()

    def performed(days_before_due: int) -> dict:
        parties = [person("applicant", "张三", ZHANG_ID), li]
        day = DUE - timedelta(days=days_before_due)
        return issue(app, parties=parties, consent=True, performed_on=day)

    older = performed(2)
    assert latest() == [older["id"]]
    newest = performed(0)
    assert latest() == [newest["id"]]
    middle = performed(1)
    assert latest() == [newest["id"]]  # an earlier validity never takes the mark
    with app.app_context():
        row = _db.session.get(Certificate, newest["id"])
        records.revoke_certificate(row, "理由", user_for(None, "admin"), cst(DUE))
        _db.session.commit()
    assert latest() == [middle["id"]]
    tie = performed(1)
    assert latest() == [tie["id"]]  # of two valid as long, the newer
    with app.app_context():
        from mediation.cases.parties import set_preferences

        for certificate in (older, middle, tie):
            party = _db.session.get(Certificate, certificate["id"]).record.party
            set_preferences(party, False, False, "书面撤回同意")
        _db.session.commit()
    assert latest() == []

"""User and centre administration, and who may reach it."""

import pytest
from sqlalchemy import select

from mediation import clock
from mediation.audit.models import AuditEntry
from mediation.auth.models import User
from mediation.directory.models import Centre, Mediator, Organization, RoutingRule
from mediation.extensions import db as _db
from mediation.jobs.models import BackgroundJob, JobFile
from mediation.ledger.models import LedgerImport
from tests.conftest import PASSWORD


def admin_routes(app):
    """Every rule whose view is guarded for admins only (a regional admin may read the
    statistics too), with sample arguments."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "allowed_roles", None) in (("admin",), ("admin", "regional_admin")):
            yield rule


def url_for_rule(rule, ids):
    return rule.build({name: ids[name] for name in rule.arguments}, append_unknown=False)[1]


@pytest.fixture
def ids(app, make_user):
    user = make_user("mediator", username="some-mediator")
    admin = make_user("admin")
    with app.app_context():
        organization = Organization(centre_id=user.centre_id, name="调委会", kind="people")
        mediator = Mediator(centre_id=user.centre_id, organization=organization, name="调解员")
        rule = RoutingRule(
            centre_id=user.centre_id, category_code="family", organization=organization
        )
        ledger_import = LedgerImport(
            centre_id=user.centre_id, state="done", filename="台账.csv", started_at=clock.now()
        )
        # An export the centre's admin (whom login("admin") signs in) asked for.
        export = BackgroundJob(
            kind="audit_export", state="done", user_id=admin.id, created_at=clock.now()
        )
        _db.session.add_all([organization, mediator, rule, ledger_import, export])
        _db.session.flush()
        _db.session.add(
            JobFile(job_id=export.id, filename="audit.csv", mimetype="text/csv", data=b"x")
        )
        _db.session.commit()
        return {
            "user_id": user.id,
            "centre_id": user.centre_id,
            "organization_id": organization.id,
            "mediator_id": mediator.id,
            "rule_id": rule.id,
            "import_id": ledger_import.id,
            "job_id": export.id,
            "day": "2026-10-01",
            # Refused before anything is loaded for those who may not; absent for admins.
            "certificate_id": 1,
            "client_id": 1,
        }


def visit(client, rule, url):
    """GET the page, or POST to an action that only takes a form."""
    return client.get(url) if "GET" in rule.methods else client.post_form(url, {})


def test_every_admin_route_is_guarded(app):
    guarded = {rule.rule for rule in admin_routes(app)}
    assert {"/admin/users/", "/admin/users/new", "/admin/centres/", "/admin/audit/"} <= guarded
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin"):
            assert rule.rule in guarded, f"{rule.rule} is not limited to admins"


def test_anonymous_visitors_are_sent_to_sign_in_from_every_admin_route(app, client, ids):
    for rule in admin_routes(app):
        response = visit(client, rule, url_for_rule(rule, ids))
        assert response.status_code == 302, rule.rule
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["staff", "mediator"])
def test_staff_and_mediators_get_403_on_every_admin_route(app, client, login, ids, role):
    login(role)
    for rule in admin_routes(app):
        url = url_for_rule(rule, ids)
        assert visit(client, rule, url).status_code == 403, url
        if "POST" in rule.methods:
            assert client.post_form(url, {}).status_code == 403, url


def test_centre_admin_opens_every_admin_page_of_their_centre(app, client, login, ids):
    login("admin")
    for rule in admin_routes(app):
        if rule.endpoint == "directory.create_centre" or "GET" not in rule.methods:
            continue
        url = url_for_rule(rule, ids)
        assert client.get(url).status_code == 200, url


def test_a_centre_admin_reads_the_scheduled_jobs_and_only_a_global_admin_runs_them(client, login):
    login("admin")
    assert client.get("/admin/jobs/").status_code == 200
    assert client.post_form("/admin/jobs/run", {"job": "outbox_dispatch"}).status_code == 403
    client.post_form("/logout")
    login("admin", centre=None)
    assert client.get("/admin/jobs/").status_code == 200
    assert client.post_form("/admin/jobs/run", {"job": "outbox_dispatch"}).status_code == 302


def test_centre_admin_cannot_create_centres(client, login):
    login("admin")
    assert client.get("/admin/centres/new").status_code == 403


def test_centre_admin_does_not_see_another_centres_users_or_centre(client, login, make_user):
    other = make_user("staff", centre="330108", username="other-staff")
    login("admin")
    assert "other-staff" not in client.get("/admin/users/").get_data(as_text=True)
    assert client.get(f"/admin/users/{other.id}/edit").status_code == 404
    assert client.get(f"/admin/users/{other.id}/password").status_code == 404
    assert client.get(f"/admin/centres/{other.centre_id}/edit").status_code == 404
    assert "330108" not in client.get("/admin/centres/").get_data(as_text=True)


def test_global_admin_sees_every_centre(client, login, make_user):
    make_user("staff", centre="330108", username="other-staff")
    make_user("staff", centre="330106", username="home-staff")
    login("admin", centre=None)
    page = client.get("/admin/users/").get_data(as_text=True)
    assert "other-staff" in page and "home-staff" in page


def test_admin_creates_a_user_who_can_sign_in(app, client, login):
    admin = login("admin")
    with app.app_context():
        centre_id = app.extensions["sqlalchemy"].session.scalar(select(Centre.id))
    response = client.post_form(
        "/admin/users/new",
        {
            "username": "new-staff",
            "display_name": "新同事",
            "role": "staff",
            "centre": str(centre_id),
            "password": "long-enough-1",
            "password_confirm": "long-enough-1",
            "is_active": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        entry = app.extensions["sqlalchemy"].session.scalar(
            select(AuditEntry).filter_by(action="user.create")
        )
        assert entry.target == "new-staff" and entry.actor_id == admin.id
    client.post_form("/logout")
    signed_in = client.post_form("/login", {"username": "new-staff", "password": "long-enough-1"})
    assert signed_in.status_code == 302


def regional_admin_form(**fields) -> dict:
    return {
        "username": "hz-region",
        "display_name": "杭州市矛调中心",
        "role": "regional_admin",
        "centre": "",
        "region": "3301",
        "password": "long-enough-1",
        "password_confirm": "long-enough-1",
        "is_active": "y",
        **fields,
    }


def test_a_global_admin_makes_a_regional_admin_on_the_users_page(app, client, login, make_centre):
    make_centre()  # 330106, under 3301
    admin = login("admin", centre=None)
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="regional_admin"' in form and 'name="region"' in form
    assert client.post_form("/admin/users/new", regional_admin_form()).status_code == 302
    with app.app_context():
        user = _db.session.scalar(select(User).filter_by(username="hz-region"))
        assert (user.role, user.region_code, user.centre_id) == ("regional_admin", "3301", None)
        entry = _db.session.scalar(select(AuditEntry).filter_by(action="user.create"))
        assert entry.actor_id == admin.id and entry.details["region"] == "3301"
    assert "区域 3301" in client.get("/admin/users/").get_data(as_text=True)
    client.post_form("/logout")
    client.post_form("/login", {"username": "hz-region", "password": "long-enough-1"})
    assert "西湖区" in client.get("/admin/stats/").get_data(as_text=True)  # its centres


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"region": "33010"}, "行政区划代码"),
        ({"region": ""}, "行政区划代码"),
        ({"region": "4401"}, "没有代码以 4401 开头的中心"),
        ({"centre": "CENTRE"}, "区域管理员对应一个区域，而不是中心"),
    ],
)
def test_a_regional_admin_with_a_wrong_region_is_refused_beside_the_field(
    app, client, login, make_centre, fields, message
):
    centre_id = make_centre().id
    login("admin", centre=None)
    if fields.get("centre") == "CENTRE":
        fields = {**fields, "centre": str(centre_id)}
    page = client.post_form("/admin/users/new", regional_admin_form(**fields))
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    region = text[text.index('id="region"') :]
    assert message in region[: region.index("</div>", region.index('id="region-error"')) + 6]
    assert 'value="杭州市矛调中心"' in text
    with app.app_context():
        assert _db.session.scalar(select(User).filter_by(username="hz-region")) is None


def test_a_centres_admin_cannot_make_a_regional_admin(app, client, login):
    login("admin")
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="regional_admin"' not in form and 'name="region"' not in form
    page = client.post_form("/admin/users/new", regional_admin_form(centre=""))
    assert page.status_code == 200
    with app.app_context():
        assert _db.session.scalar(select(User).filter_by(username="hz-region")) is None


def test_refused_user_form_keeps_the_input_and_writes_nothing(app, client, login):
    login("admin")
    with app.app_context():
        centre_id = app.extensions["sqlalchemy"].session.scalar(select(Centre.id))
    page = client.post_form(
        "/admin/users/new",
        {
            "username": "admin-330106",
            "display_name": "重名者",
            "role": "staff",
            "centre": str(centre_id),
            "password": "long-enough-1",
            "password_confirm": "long-enough-1",
        },
    ).get_data(as_text=True)
    assert "用户名 admin-330106 已被使用" in page
    assert 'value="重名者"' in page
    with app.app_context():
        names = app.extensions["sqlalchemy"].session.scalars(select(User.display_name)).all()
    assert "重名者" not in names


def test_centre_admin_cannot_move_a_user_to_another_centre(app, client, login, make_user):
    other_centre = make_user("staff", centre="330108", username="x").centre_id
    target = make_user("mediator", username="m1")
    login("admin")
    response = client.post_form(
        f"/admin/users/{target.id}/edit",
        {"display_name": "m1", "role": "mediator", "centre": str(other_centre), "is_active": "y"},
    )
    assert response.status_code == 200
    with app.app_context():
        assert (
            app.extensions["sqlalchemy"].session.get(User, target.id).centre_id == target.centre_id
        )


def test_admin_cannot_lock_themselves_out(app, client, login):
    admin = login("admin")
    with app.app_context():
        me = app.extensions["sqlalchemy"].session.get(User, admin.id)
        centre_id = me.centre_id
    page = client.post_form(
        f"/admin/users/{admin.id}/edit",
        {"display_name": "me", "role": "staff", "centre": str(centre_id), "is_active": "y"},
    ).get_data(as_text=True)
    assert "不能修改自己的角色" in page
    with app.app_context():
        assert app.extensions["sqlalchemy"].session.get(User, admin.id).role == "admin"


def test_reset_password_is_audited_and_takes_effect(app, client, login, make_user):
    target = make_user("mediator", username="m1")
    login("admin")
    response = client.post_form(
        f"/admin/users/{target.id}/password",
        {"password": "brand-new-pass", "password_confirm": "brand-new-pass"},
    )
    assert response.status_code == 302
    other = app.test_client()
    assert other.post_form("/login", {"username": "m1", "password": PASSWORD}).status_code == 200
    assert (
        other.post_form("/login", {"username": "m1", "password": "brand-new-pass"}).status_code
        == 302
    )
    with app.app_context():
        actions = app.extensions["sqlalchemy"].session.scalars(select(AuditEntry.action)).all()
    assert "user.password_reset" in actions


def test_global_admin_creates_a_centre_and_bad_codes_are_refused(app, client, login):
    login("admin", centre=None)
    page = client.post_form(
        "/admin/centres/new",
        {"code": "3301", "name": "拱墅区中心", "abbreviation": "拱墅", "timezone": "Asia/Shanghai"},
    ).get_data(as_text=True)
    assert "6 位行政区划代码" in page and 'value="拱墅区中心"' in page
    response = client.post_form(
        "/admin/centres/new",
        {
            "code": "330105",
            "name": "拱墅区中心",
            "abbreviation": "拱墅",
            "timezone": "Asia/Shanghai",
        },
    )
    assert response.status_code == 302
    assert "330105" in client.get("/admin/centres/").get_data(as_text=True)


def test_centre_admin_edits_their_centre_and_the_change_is_audited(app, client, login):
    admin = login("admin")
    with app.app_context():
        centre_id = app.extensions["sqlalchemy"].session.get(User, admin.id).centre_id
    page = client.post_form(
        f"/admin/centres/{centre_id}/edit",
        {"name": "西湖区矛调中心", "abbreviation": "西湖", "timezone": "Mars/Olympus"},
    ).get_data(as_text=True)
    assert "未知的时区" in page
    response = client.post_form(
        f"/admin/centres/{centre_id}/edit",
        {"name": "西湖区矛调中心", "abbreviation": "西湖", "timezone": "Asia/Shanghai"},
    )
    assert response.status_code == 302
    audit = client.get("/admin/audit/").get_data(as_text=True)
    assert "中心信息已修改" in audit and "西湖区矛调中心" in audit

import hashlib
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from mediation import clock, create_app
from mediation.audit.models import AuditEntry
from mediation.auth.accounts import add_user
from mediation.auth.models import LoginSession, Role, ThrottleHit
from mediation.directory.centres import centre_by_code
from mediation.extensions import db as _db
from mediation.jobs.sweeps import housekeeping
from tests.conftest import CSRF_FIELD, PASSWORD


def sign_in(client, username, password=PASSWORD, **extra):
    return client.post_form("/login", {"username": username, "password": password, **extra})


def audit_actions(app):
    with app.app_context():
        return [e.action for e in app.extensions["sqlalchemy"].session.scalars(select(AuditEntry))]


def test_sign_in_with_right_password_lands_on_home(client, make_user):
    make_user("staff")
    response = sign_in(client, "staff-330106")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "测试" in page and "退出" in page


def signed_in_as(client) -> str:
    """The display name in the navigation bar of a page only a signed-in user may open."""
    response = client.get("/account/password")
    assert response.status_code == 200, response.headers.get("Location")
    return re.search(r'class="nav-link[^"]*user-name"[^>]*>([^<]*)<', page_of(response)).group(1)


def page_of(response) -> str:
    return response.get_data(as_text=True)


def test_username_is_case_insensitive(client, make_user):
    staff = make_user("staff")
    make_user("admin", username="Staff-330106x")
    assert sign_in(client, "  Staff-330106 ").headers["Location"] == "/"
    assert signed_in_as(client) == staff.display_name


def test_failures_in_any_case_count_towards_one_lock_out(client, make_user):
    make_user("staff")
    for typed in ("STAFF-330106", "staff-330106", " Staff-330106", "sTaFf-330106 "):
        assert "用户名或密码错误" in page_of(sign_in(client, typed, "bad"))
    assert "账户已被临时锁定" in page_of(sign_in(client, "Staff-330106", "bad"))
    locked = sign_in(client, "staff-330106")
    assert locked.status_code == 200 and "账户已被临时锁定" in page_of(locked)
    assert client.get("/account/password").status_code == 302


def test_wrong_password_is_refused_with_a_message_and_the_username_kept(client, make_user, app):
    make_user("staff")
    response = sign_in(client, "staff-330106", "wrong-password")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "用户名或密码错误" in page
    assert 'value="staff-330106"' in page
    assert "login.failure" in audit_actions(app)


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, make_user):
    make_user("staff")
    wrong = sign_in(client, "staff-330106", "wrong-password")
    unknown = sign_in(client, "nobody", "wrong-password")
    assert "用户名或密码错误" in page_of(wrong)

    def answer(response) -> str:
        """The page without the values typed into the form and its tokens."""
        return re.sub(r'value="[^"]*"', "", page_of(response))

    assert wrong.status_code == unknown.status_code == 200
    assert answer(wrong) == answer(unknown)


def test_unknown_users_and_wrong_passwords_both_count_towards_the_client_limit(
    app, client, make_user, monkeypatch
):
    make_user("staff")
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_CLIENT", 2)
    assert sign_in(client, "staff-330106", "wrong-password").status_code == 200
    assert sign_in(client, "nobody", "wrong-password").status_code == 200
    refused = sign_in(client, "staff-330106")  # even the right password, from this client
    assert refused.status_code == 429 and "登录失败次数过多" in page_of(refused)


def test_deactivated_user_cannot_sign_in(client, make_user):
    make_user("staff", is_active=False)
    response = sign_in(client, "staff-330106")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_account_locks_after_five_failures_and_opens_after_the_window(client, make_user, app):
    make_user("staff")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with clock.frozen_at(start):
        for _ in range(4):
            assert "用户名或密码错误" in sign_in(client, "staff-330106", "bad").get_data(
                as_text=True
            )
        fifth = sign_in(client, "staff-330106", "bad").get_data(as_text=True)
        assert "账户已被临时锁定" in fifth
        # Even the right password is refused while locked.
        locked = sign_in(client, "staff-330106")
        assert locked.status_code == 200
        assert "账户已被临时锁定" in locked.get_data(as_text=True)
        assert "15 分钟" in locked.get_data(as_text=True)
    assert "login.locked" in audit_actions(app)
    with clock.frozen_at(start + timedelta(minutes=16)):
        assert sign_in(client, "staff-330106").status_code == 302


def hits_at(app) -> list[datetime]:
    with app.app_context():
        return sorted(_db.session.scalars(select(ThrottleHit.at)))


def test_housekeeping_forgets_old_failures_but_no_lock_out_in_force(client, make_user, app):
    make_user("staff")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with clock.frozen_at(start - timedelta(days=3)):
        sign_in(client, "someone-else", "bad")
    # Within a day: the daily limit of online applications per mobile still counts such rows.
    with clock.frozen_at(start - timedelta(hours=20)):
        sign_in(client, "another", "bad")
    with clock.frozen_at(start):
        for _ in range(5):
            sign_in(client, "staff-330106", "bad")
        with app.app_context():
            assert housekeeping(clock.now()) == 2  # the old failure, by account and by client
        assert "账户已被临时锁定" in page_of(sign_in(client, "staff-330106"))
    assert min(hits_at(app)) == start - timedelta(hours=20)


def test_housekeeping_keeps_the_failures_a_longer_lock_out_counts(client, app):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with clock.frozen_at(start - timedelta(days=3)):
        sign_in(client, "someone", "bad")
    app.config["LOGIN_LOCK_MINUTES"] = 4 * 24 * 60
    try:
        with clock.frozen_at(start), app.app_context():
            assert housekeeping(clock.now()) == 0
    finally:
        app.config["LOGIN_LOCK_MINUTES"] = 15
    assert len(hits_at(app)) == 2


def test_housekeeping_forgets_expired_sign_ins_and_no_one_is_signed_out(client, login, app):
    staff = login("staff")
    with app.app_context():
        now = clock.now()
        _db.session.add(
            LoginSession(
                token="expired",
                user_id=staff.id,
                created_at=now - timedelta(hours=13),
                expires_at=now - timedelta(hours=1),
            )
        )
        _db.session.commit()
        assert housekeeping(now) == 1
        assert "expired" not in set(_db.session.scalars(select(LoginSession.token)))
    assert signed_in_as(client) == "测试中心工作人员"


def test_success_resets_the_failure_count(client, make_user):
    make_user("staff")
    for _ in range(4):
        sign_in(client, "staff-330106", "bad")
    assert sign_in(client, "staff-330106").status_code == 302
    client.post_form("/logout")
    for _ in range(4):
        sign_in(client, "staff-330106", "bad")
    assert sign_in(client, "staff-330106").status_code == 302


def test_one_client_guessing_many_accounts_gets_429(app, client):
    app.config["LOGIN_MAX_FAILURES_PER_CLIENT"] = 3
    try:
        for name in ("a", "b", "c"):
            assert sign_in(client, name, "bad").status_code == 200
        response = sign_in(client, "d", "bad")
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        page = response.get_data(as_text=True)
        assert "登录失败次数过多" in page and "Traceback" not in page
    finally:
        app.config["LOGIN_MAX_FAILURES_PER_CLIENT"] = 30


def test_lock_out_holds_across_web_workers(app, make_user, another_app):
    """Two app instances stand for two gunicorn workers: they share only the database."""
    make_user("staff")
    other_worker = another_app()
    first, second = app.test_client(), other_worker.test_client()
    for index in range(5):
        sign_in(first if index % 2 else second, "staff-330106", "bad")
    refused = sign_in(first, "staff-330106")
    assert "账户已被临时锁定" in refused.get_data(as_text=True)


def test_sign_in_starts_a_new_session(client, make_user):
    make_user("staff")
    client.get("/")
    before = client.get_cookie("session").value
    sign_in(client, "staff-330106")
    assert client.get_cookie("session").value != before


def test_sign_out_ends_the_session_on_the_server(client, make_user, app):
    make_user("staff")
    sign_in(client, "staff-330106")
    stolen = client.get_cookie("session").value
    assert client.post_form("/logout").status_code == 302
    with app.app_context():
        assert (
            app.extensions["sqlalchemy"].session.scalar(
                select(func.count()).select_from(LoginSession)
            )
            == 0
        )
    # Replaying the cookie from before the sign-out does not sign anyone in.
    client.set_cookie("session", stolen)
    response = client.get("/admin/users/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "logout" in audit_actions(app)


def test_remember_me_cookie_is_secure_httponly_and_lax_in_production(make_user, another_app):
    production = another_app("production", SECRET_KEY="x" * 32)
    make_user("staff")
    client = production.test_client()
    page = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = CSRF_FIELD.search(page).group(1)
    response = client.post(
        "/login",
        data={
            "csrf_token": token,
            "username": "staff-330106",
            "password": PASSWORD,
            "remember": "y",
        },
        base_url="https://localhost",
        # Over HTTPS the CSRF check also wants a same-site Referer, as browsers send.
        headers={"Referer": "https://localhost/login"},
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    session = next(c for c in cookies if c.startswith("session="))
    for cookie in (remember, session):
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Strict-Transport-Security" in response.headers


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    import pytest

    from config import ConfigError

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app("production", SECRET_KEY="")


def test_remember_me_cookie_stops_working_after_sign_out(client, make_user):
    make_user("staff")
    sign_in(client, "staff-330106", remember="y")
    remember = client.get_cookie("remember_token").value
    client.post_form("/logout")
    client.delete_cookie("session")
    client.set_cookie("remember_token", remember)
    response = client.get("/admin/users/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_deactivating_a_user_ends_their_open_session(app, make_user, login):
    make_user("staff")
    staff_client = app.test_client()
    sign_in(staff_client, "staff-330106")
    assert staff_client.get("/").status_code == 200 and "退出" in staff_client.get("/").get_data(
        as_text=True
    )
    admin_client = app.test_client()
    admin_client.post_form(
        "/login", {"username": make_user("admin", username="boss").username, "password": PASSWORD}
    )
    with app.app_context():
        from mediation.auth.accounts import user_by_username

        staff_id = user_by_username("staff-330106").id
        centre_id = user_by_username("staff-330106").centre_id
    response = admin_client.post_form(
        f"/admin/users/{staff_id}/edit",
        {"display_name": "李受理", "role": "staff", "centre": str(centre_id)},
    )
    assert response.status_code == 302
    assert "退出" not in staff_client.get("/").get_data(as_text=True)


def test_next_parameter_never_leaves_the_site(client, make_user):
    make_user("staff")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post_form(
            f"/login?next={target}", {"username": "staff-330106", "password": PASSWORD}
        )
        assert response.headers["Location"] == "/"
        client.post_form("/logout")
    response = client.post_form(
        "/login?next=/admin/users/", {"username": "staff-330106", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/admin/users/"


def test_protected_page_sends_anonymous_users_to_sign_in(client):
    response = client.get("/admin/users/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/admin/users/")


def test_change_own_password(client, login, app):
    login("mediator")
    response = client.post_form(
        "/account/password",
        {
            "current_password": PASSWORD,
            "password": "a-new-pass-1",
            "password_confirm": "a-new-pass-1",
        },
    )
    assert response.status_code == 302
    assert sign_in(client, "mediator-330106").status_code == 200
    assert sign_in(client, "mediator-330106", "a-new-pass-1").status_code == 302
    assert "user.password_change" in audit_actions(app)


def test_change_password_keeps_errors_beside_fields(client, login):
    login("mediator")
    page = client.post_form(
        "/account/password",
        {"current_password": "nope", "password": "short", "password_confirm": "other"},
    ).get_data(as_text=True)
    assert "两次输入的密码不一致" in page
    assert "invalid-feedback" in page


def test_an_unknown_username_costs_the_hashing_of_a_wrong_password(
    app, another_app, make_user, monkeypatch
):
    """Otherwise the time of the answer would tell which usernames exist: an unknown username
    is checked against a hash as costly as a real one, made the way the app is configured to
    hash passwords (here two ways: PBKDF2 with SHA-256, and with SHA-512)."""
    derivations = []
    real_pbkdf2 = hashlib.pbkdf2_hmac

    def pbkdf2_spy(name, password, salt, iterations, *rest):
        derivations.append((name, iterations))
        return real_pbkdf2(name, password, salt, iterations, *rest)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", pbkdf2_spy)
    make_user("staff")
    sha512 = another_app(PASSWORD_HASH_METHOD="pbkdf2:sha512:1500")
    with sha512.app_context():
        add_user("staff-sha512", "测试", Role.STAFF, PASSWORD, centre_by_code("330106"))
        _db.session.commit()
    for web, username, expected in (
        (app, "staff-330106", [("sha256", 1000)]),
        (sha512, "staff-sha512", [("sha512", 1500)]),
    ):
        assert web.config["PASSWORD_HASH_METHOD"] == f"pbkdf2:{expected[0][0]}:{expected[0][1]}"
        client = web.test_client()
        sign_in(client, "warm-up", "wrong-password")  # the unknown users' hash, made once
        work = {}
        for name in (username, "nobody"):
            derivations.clear()
            assert "用户名或密码错误" in page_of(sign_in(client, name, "wrong-password"))
            work[name] = list(derivations)
        assert work == {username: expected, "nobody": expected}

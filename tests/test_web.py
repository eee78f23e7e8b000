"""What every page shares: headers, errors, language, CSRF, offline assets."""

import html
import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy.engine import make_url

from mediation.auth.models import User
from mediation.extensions import db as _db
from tests.conftest import CSRF_FIELD, PASSWORD
from tests.test_case_pages import INTAKE

ROOT = Path(__file__).resolve().parent.parent


def test_security_headers_on_pages(client):
    response = client.get("/login")
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def test_hsts_covers_subdomains_in_production_unless_turned_off(another_app):
    for overrides, expected in (
        ({}, "max-age=31536000; includeSubDomains"),
        ({"HSTS_INCLUDE_SUBDOMAINS": False}, "max-age=31536000"),
    ):
        production = another_app("production", SECRET_KEY="k" * 32, **overrides)
        response = production.test_client().get("/login", base_url="https://localhost")
        assert response.headers["Strict-Transport-Security"] == expected


def test_no_hsts_without_secure_cookies(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_the_app_lets_no_server_header_through(another_app):
    production = another_app("production", SECRET_KEY="k" * 32)

    @production.after_request  # runs before the app's own (Flask runs them last first)
    def name_the_server(response):
        response.headers["Server"] = "Werkzeug/3.1 Python/3.11"
        return response

    assert "Server" not in production.test_client().get("/login").headers


def test_gunicorn_in_production_sends_no_server_banner(tmp_path):
    """As deployed: gunicorn.conf.py read from the working directory."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "MEDIATION_ENV": "production",
        "SECRET_KEY": "k" * 32,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'mediation.sqlite3'}",
    }
    # A health check asks for a write to the schema's tables.
    upgrade = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    subprocess.run(upgrade, cwd=ROOT, env=env, check=True, capture_output=True)
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--no-control-socket", "-w", "1"]
        + ["-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None and time.monotonic() < deadline, (
                tmp_path / "gunicorn.log"
            ).read_text()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                break
            except OSError:
                time.sleep(0.1)
            finally:
                connection.close()
        assert response.status == 200
        assert response.getheader("Server", "") == ""
        assert "includeSubDomains" in response.getheader("Strict-Transport-Security")
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_signed_in_pages_are_not_cached(client, login):
    login("admin")
    assert client.get("/admin/users/").headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()


def test_templates_have_no_inline_script_style_or_outside_assets():
    for path in (ROOT / "templates").rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline script in {path}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler in {path}"
        assert " style=" not in html, f"inline style in {path}"
        assert "http://" not in html and "https://" not in html, f"outside URL in {path}"
    for path in (ROOT / "static" / "css").rglob("*.css"):
        assert "://" not in path.read_text(encoding="utf-8"), f"outside URL in {path}"


def test_vendored_assets_are_served_by_the_app(client):
    for asset in ("vendor/bootstrap/bootstrap.min.css", "vendor/bootstrap/bootstrap.bundle.min.js"):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200, asset
        response.close()


def test_chinese_is_the_default_language(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-Hans-CN">' in page
    assert "工作人员登录" in page


def test_language_switch_is_remembered(client):
    response = client.post_form("/language", {"lang": "en", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Staff sign-in" in page
    client.post_form("/language", {"lang": "zh_Hans_CN", "next": "/login"})
    assert "工作人员登录" in client.get("/login").get_data(as_text=True)


def test_the_forms_own_messages_follow_the_language(client):
    """WTForms' built-in messages come from its catalogue in the reader's language."""
    page = client.post_form("/login", {"username": "", "password": ""}).get_data(as_text=True)
    assert "该字段是必填字段。" in page
    client.post_form("/language", {"lang": "en", "next": "/login"})
    page = client.post_form("/login", {"username": "", "password": ""}).get_data(as_text=True)
    assert "This field is required." in page and "该字段是必填字段" not in page


def test_the_language_switch_comes_back_to_the_page_it_is_on(client, login):
    login("staff")
    page = client.get("/cases/?state=mediating&q=张").get_data(as_text=True)
    form = {
        "lang": "en",
        "next": html.unescape(NEXT_FIELD.search(page).group(1)),
        "csrf_token": CSRF_FIELD.search(page).group(1),
    }
    answer = client.post("/language", data=form)
    assert answer.status_code == 302
    assert unquote(answer.headers["Location"]) == "/cases/?state=mediating&q=张"
    assert '<html lang="en">' in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    client.post_form("/language", {"lang": "fr", "next": "/"})
    assert '<html lang="zh-Hans-CN">' in client.get("/").get_data(as_text=True)


def test_form_without_csrf_token_is_refused_plainly(client, make_user):
    make_user("staff")
    response = client.post("/login", data={"username": "staff-330106", "password": "x"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "表单已过期" in page and "CSRF" not in page


def test_language_switch_needs_csrf_too(client):
    assert client.post("/language", data={"lang": "en"}).status_code == 400


def test_a_pages_csrf_token_is_accepted_from_its_own_session_only(app, client):
    token = CSRF_FIELD.search(client.get("/login").get_data(as_text=True)).group(1)
    other = app.test_client()
    assert CSRF_FIELD.search(other.get("/login").get_data(as_text=True)).group(1) != token
    form = {"lang": "en", "next": "/", "csrf_token": token}
    assert other.post("/language", data=form).status_code == 400
    assert client.post("/language", data=form).status_code == 302
    assert client.post("/language", data=form).status_code == 302  # again, from the same page


def test_signing_in_gives_a_new_csrf_token_and_refuses_the_old_one(client, login):
    before = CSRF_FIELD.search(client.get("/").get_data(as_text=True)).group(1)
    login("staff")
    after = CSRF_FIELD.search(client.get("/").get_data(as_text=True)).group(1)
    assert after != before
    form = {"lang": "en", "next": "/"}
    assert client.post("/language", data={**form, "csrf_token": before}).status_code == 400
    assert client.post("/language", data={**form, "csrf_token": after}).status_code == 302


def test_not_found_page_is_friendly(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


@pytest.fixture
def failing_app(another_app):
    broken = another_app()

    @broken.get("/explode")
    def explode():
        raise RuntimeError("SELECT secret FROM user_account -- boom")

    broken.config["PROPAGATE_EXCEPTIONS"] = False
    return broken


def test_server_error_shows_no_trace_or_sql(failing_app):
    response = failing_app.test_client().get("/explode")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "出错了" in page
    assert "Traceback" not in page and "SELECT" not in page and "RuntimeError" not in page


def test_a_save_refused_by_a_constraint_says_so_not_error(another_app, make_user):
    """What a form's own check could not see (two posts at once) is refused by the database's
    constraint: the user reads that it was saved already, not that something broke."""
    make_user("staff", username="li")
    racing = another_app()

    @racing.post("/race")
    def race():
        _db.session.add(User(username="li", display_name="李", role="staff", password_hash="x"))
        _db.session.flush()
        return "saved twice"

    racing.config["PROPAGATE_EXCEPTIONS"] = False
    response = racing.test_client().post_form("/race")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "已经保存过" in page and "user_account" not in page


def test_health_check(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_health_check_fails_without_its_database(another_app, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    broken = another_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'db.sqlite3'}")
    folder.rmdir()  # the database's folder goes away while the app runs
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "database unavailable"}


def read_only_app(app, another_app):
    """The same database, opened so that it answers reads and refuses every write (a SQLite
    file that cannot be written, a PostgreSQL server in read-only mode)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        url = url.set(database=f"file:{url.database}", query={"mode": "ro", "uri": "true"})
        return another_app(SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False))
    return another_app(
        SQLALCHEMY_ENGINE_OPTIONS={
            "connect_args": {"options": "-c default_transaction_read_only=on"}
        }
    )


def test_health_check_fails_when_the_database_takes_no_writes(app, another_app, caplog):
    response = read_only_app(app, another_app).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "database unavailable"}
    assert "does not accept writes" in caplog.text


def signed_in_elsewhere(client, login, other_app):
    """A client of `other_app` carrying the session of a staff member signed in on `client`."""
    login("staff")
    visitor = other_app.test_client()
    visitor.set_cookie("session", client.get_cookie("session").value)
    return visitor


def test_a_save_the_database_refuses_is_unavailable_not_an_error(app, client, login, another_app):
    visitor = signed_in_elsewhere(client, login, read_only_app(app, another_app))
    assert visitor.get("/cases/new").status_code == 200  # reading still works
    response = visitor.post_form("/cases/new", INTAKE)
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert "暂时无法使用" in page and "Traceback" not in page


@pytest.mark.parametrize(
    ("language", "expected"), [(None, "暂时无法使用"), ("en", "Temporarily unavailable")]
)
def test_pages_while_the_database_is_down_say_so_in_the_users_language(
    app, client, login, another_app, tmp_path, language, expected
):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    folder = tmp_path / "data"
    folder.mkdir()
    unreachable = (
        f"sqlite:///{folder / 'db.sqlite3'}"
        if url.get_backend_name() == "sqlite"
        else url.set(port=1).render_as_string(hide_password=False)
    )
    gone = another_app(SQLALCHEMY_DATABASE_URI=unreachable)
    folder.rmdir()  # the database's folder goes away while the app runs
    visitor = signed_in_elsewhere(client, login, gone)
    if language:
        visitor.set_cookie("lang", language)
    for path in ("/", "/cases/", "/status"):
        response = visitor.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 503, path
        assert expected in page and "<html" in page and "Traceback" not in page, path


def test_navigation_matches_the_role(client, login):
    login("staff")
    page = client.get("/").get_data(as_text=True)
    assert "/admin/users/" not in page
    client.post_form("/logout")
    login("admin")
    page = client.get("/").get_data(as_text=True)
    assert "/admin/users/" in page and "/admin/audit/" in page


def test_ids_and_pages_beyond_any_column_are_not_found_not_errors(client, login):
    login("admin")
    huge = "9" * 20
    assert client.get(f"/cases/{huge}").status_code == 404
    assert client.get(f"/admin/users/{huge}/edit").status_code == 404
    for url in (
        f"/admin/audit/?before={huge}",
        f"/admin/users/?page={huge}",
        f"/cases/?centre={huge}",
        f"/admin/organizations/?centre={huge}",
        f"/cases/new?centre={huge}",
        "/cases/?q=%F4%8F%BF%BF",
    ):
        assert client.get(url).status_code == 200, url


def test_a_time_zone_folder_is_an_unknown_time_zone(client, login):
    login("admin", centre=None)
    page = client.post_form(
        "/admin/centres/new",
        {"code": "330105", "name": "拱墅区中心", "abbreviation": "拱墅", "timezone": "America"},
    ).get_data(as_text=True)
    assert "未知的时区" in page


def test_the_layouts_links_follow_the_mount_point(client, login):
    login("staff")
    page = client.get("/", base_url="http://localhost/mediation").get_data(as_text=True)
    assert 'href="/mediation/static/css/app.css"' in page
    assert 'href="/mediation/cases/"' in page and 'action="/mediation/language"' in page
    assert 'href="/cases/"' not in page


def test_the_menu_follows_the_language_and_the_role(client, login):
    """Each reader gets the menu of their role, in their language."""
    login("staff")
    menu = client.get("/notices").get_data(as_text=True)
    assert "登记案件" in menu and "统计" not in menu
    client.post_form("/language", {"lang": "en", "next": "/notices"})
    menu = client.get("/notices").get_data(as_text=True)
    assert "Register a case" in menu and "登记案件" not in menu
    client.post_form("/logout")
    login("admin")
    menu = client.get("/notices").get_data(as_text=True)
    assert "Statistics" in menu and "Ledger import" in menu


MENU_LINK = re.compile(r'class="(?:nav-link|dropdown-item)[^"]*"\s+href="(/[^"]*)"')


@pytest.mark.parametrize(
    "role, centre",
    [("admin", None), ("admin", "330106"), ("staff", "330106"), ("mediator", "330106")],
    ids=["global admin", "centre admin", "staff", "mediator"],
)
def test_every_menu_item_opens_for_its_reader(client, login, make_centre, role, centre):
    """No menu offers a page that answers 403 (a centre admin's jobs page did)."""
    make_centre()
    login(role, centre=centre)
    menu = client.get("/notices").get_data(as_text=True)
    links = MENU_LINK.findall(menu[: menu.index("</nav>")])
    assert "/cases/" in links
    for link in links:
        assert client.get(link).status_code == 200, link
    assert ("/cases/caseloads" in links) == (role != "mediator")
    assert ("/admin/jobs/" in links) == (role == "admin")


NEXT_FIELD = re.compile(r'name="next" value="([^"]*)"')
ACTIVE_ITEM = re.compile(r'class="nav-link active"\s+href="([^"]+)"')


def test_the_navigation_bar_is_this_requests_and_this_users(app, client, make_user):
    """The bar shows this request's path to come back to (escaped), its active item, the
    session's CSRF token, and what the user is now called."""
    mine, theirs = make_user("staff"), make_user("staff", username="other-staff")
    other = app.test_client()
    for browser, user in ((client, mine), (other, theirs)):
        form = {"username": user.username, "password": PASSWORD}
        assert browser.post_form("/login", form).status_code == 302
    page = client.get('/cases/?q="><b>x').get_data(as_text=True)
    assert NEXT_FIELD.search(page).group(1) == "/cases/?q=&#34;&gt;&lt;b&gt;x"
    assert ACTIVE_ITEM.findall(page) == ["/cases/"]
    page = client.get("/notices").get_data(as_text=True)
    assert NEXT_FIELD.search(page).group(1) == "/notices"
    assert ACTIVE_ITEM.findall(page) == []
    assert mine.display_name in page

    with app.app_context():
        _db.session.get(User, mine.id).display_name = "<改名>后的受理员"
        _db.session.commit()
    page = client.get("/notices").get_data(as_text=True)
    assert "&lt;改名&gt;后的受理员" in page and mine.display_name not in page
    elsewhere = other.get("/notices").get_data(as_text=True)
    assert "后的受理员" not in elsewhere and theirs.display_name in elsewhere

    # The bar's token is its session's: another session's is refused, its own signs out.
    token = CSRF_FIELD.search(page).group(1)
    assert CSRF_FIELD.search(elsewhere).group(1) != token
    assert other.post("/logout", data={"csrf_token": token}).status_code == 400
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/notices").status_code == 302


def test_the_sign_in_link_is_on_public_pages_but_its_own(client):
    assert 'href="/login"' in client.get("/status").get_data(as_text=True)
    assert 'class="btn btn-sm btn-light" href="/login"' not in client.get("/login").get_data(
        as_text=True
    )


def test_select_options_mark_the_chosen_value_and_escape_labels(app):
    with app.test_request_context("/"):
        options = app.jinja_env.get_template("_macros.html").module.select_options
        assert options({"a": "甲", "b": "<乙>"}, "b") == (
            '<option value="a">甲</option><option value="b" selected>&lt;乙&gt;</option>'
        )
        # Values compare as text (a form's value against an id); nothing chosen, nothing marked.
        assert options([(7, "王调解"), (12, "赵调解")], "12").count(" selected") == 1
        assert " selected" not in options([(7, "王调解")], None)
        assert " selected" not in options([(7, "王调解")])

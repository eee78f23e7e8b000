"""The operator commands of SPEC section 6 that exist so far."""

from sqlalchemy import select

from mediation.auth.models import User
from mediation.directory.models import Centre


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_centre_add(app):
    result = run(app, "centre", "add", "330106", "西湖区社会矛盾纠纷调处化解中心", "--abbr", "西湖")
    assert result.exit_code == 0, result.output
    with app.app_context():
        centre = app.extensions["sqlalchemy"].session.scalar(select(Centre))
        assert (centre.code, centre.abbreviation, centre.timezone) == (
            "330106",
            "西湖",
            "Asia/Shanghai",
        )


def test_centre_add_refuses_bad_input_with_a_plain_message(app):
    result = run(app, "centre", "add", "3301", "x", "--abbr", "x")
    assert result.exit_code != 0
    assert "6 位行政区划代码" in result.output
    run(app, "centre", "add", "330106", "x", "--abbr", "x")
    again = run(app, "centre", "add", "330106", "y", "--abbr", "y")
    assert again.exit_code != 0 and "已存在" in again.output
    bad_zone = run(app, "centre", "add", "330108", "y", "--abbr", "y", "--timezone", "Nowhere/City")
    assert bad_zone.exit_code != 0 and "未知的时区" in bad_zone.output


def test_user_add_with_password_on_stdin(app, client):
    run(app, "centre", "add", "330106", "西湖", "--abbr", "西湖")
    result = run(
        app,
        "user",
        "add",
        "li.staff",
        "--role",
        "staff",
        "--centre",
        "330106",
        "--password-stdin",
        input="a-good-password\n",
    )
    assert result.exit_code == 0, result.output
    response = client.post_form("/login", {"username": "li.staff", "password": "a-good-password"})
    assert response.status_code == 302


def test_user_add_asks_for_the_password_twice(app):
    result = run(
        app, "user", "add", "root", "--role", "admin", input="a-good-password\na-good-password\n"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = app.extensions["sqlalchemy"].session.scalar(select(User))
        assert user.is_global_admin
        assert "a-good-password" not in user.password_hash


def test_user_add_refuses_bad_input(app):
    no_centre = run(
        app, "user", "add", "x", "--role", "staff", "--password-stdin", input="long-enough\n"
    )
    assert no_centre.exit_code != 0 and "必须属于一个中心" in no_centre.output
    unknown = run(
        app,
        "user",
        "add",
        "x",
        "--role",
        "staff",
        "--centre",
        "999999",
        "--password-stdin",
        input="long-enough\n",
    )
    assert unknown.exit_code != 0 and "999999" in unknown.output
    short = run(app, "user", "add", "x", "--role", "admin", "--password-stdin", input="short\n")
    assert short.exit_code != 0 and "至少需要 8 个字符" in short.output
    bad_role = run(
        app, "user", "add", "x", "--role", "boss", "--password-stdin", input="long-enough\n"
    )
    assert bad_role.exit_code != 0


def test_demo_load_creates_the_demo_centre_and_logins(app, client):
    result = run(app, "demo", "load", "--cases", "0")
    assert result.exit_code == 0, result.output
    for username in ("demo-admin", "demo-staff", "demo-mediator", "demo-mediator2"):
        assert username in result.output
    assert "demo-pass-2026" in result.output
    response = client.post_form(
        "/login", {"username": "demo-mediator2", "password": "demo-pass-2026"}
    )
    assert response.status_code == 302
    with app.app_context():
        centre = app.extensions["sqlalchemy"].session.scalar(select(Centre))
        assert (centre.code, centre.name, centre.abbreviation) == (
            "330106",
            "西湖区社会矛盾纠纷调处化解中心",
            "西湖",
        )


def test_demo_load_twice_changes_nothing_and_if_empty_skips(app):
    run(app, "demo", "load", "--cases", "5")
    assert run(app, "demo", "load", "--cases", "5").exit_code == 0
    skipped = run(app, "demo", "load", "--if-empty")
    assert skipped.exit_code == 0 and "未加载演示数据" in skipped.output
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        assert len(session.scalars(select(User)).all()) == 4


def test_demo_load_refuses_production(another_app):
    production = another_app("production", SECRET_KEY="k" * 32)
    result = production.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "生产环境" in result.output
    with production.app_context():
        assert production.extensions["sqlalchemy"].session.scalar(select(Centre)) is None


def test_backup_copies_sqlite_and_points_postgresql_to_pg_dump(app, tmp_path, make_user):
    """SPEC 6: a consistent copy of a live SQLite database; on PostgreSQL, pg_dump's command.
    Each CI pass checks the half of its engine."""
    import sqlite3

    make_user("staff", username="in-the-copy")
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine.dialect.name
    target = tmp_path / "copy.sqlite3"
    result = run(app, "backup", str(target))
    assert result.exit_code == 0, result.output
    if engine == "postgresql":
        assert "pg_dump" in result.output and not target.exists()
        return
    copy = sqlite3.connect(target)
    names = [row[0] for row in copy.execute("select username from user_account")]
    copy.close()
    assert names == ["in-the-copy"]
    again = run(app, "backup", str(target))
    assert again.exit_code != 0 and "已存在" in again.output

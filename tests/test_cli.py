"""The operator commands of SPEC section 6 that exist so far."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from mediation.auth.models import User
from mediation.directory.models import Centre

ROOT = Path(__file__).resolve().parent.parent


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def flask_command(*args, **env) -> subprocess.CompletedProcess:
    """`flask --app wsgi ARGS` in a process of its own, as an operator runs it, with `env` on
    top of a development environment."""
    environment = {
        **{k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"},
        "MEDIATION_ENV": "development",
        "TIMEZONE": "Asia/Shanghai",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


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


def test_centre_add_refuses_texts_longer_than_their_columns(app):
    long_name = run(app, "centre", "add", "330106", "西" * 150, "--abbr", "西湖")
    assert long_name.exit_code == 1
    assert "中心名称最多 100 个字符，现有 150 个" in long_name.output
    long_abbreviation = run(app, "centre", "add", "330106", "西湖区", "--abbr", "西" * 21)
    assert long_abbreviation.exit_code == 1 and "简称最多 20 个字符" in long_abbreviation.output
    with app.app_context():
        assert app.extensions["sqlalchemy"].session.scalar(select(Centre)) is None


def test_user_add_refuses_a_name_longer_than_its_column(app):
    result = run(
        app,
        "user",
        "add",
        "root",
        "--role",
        "admin",
        "--name",
        "王" * 65,
        "--password-stdin",
        input="a-good-password\n",
    )
    assert result.exit_code == 1 and "姓名最多 64 个字符，现有 65 个" in result.output
    with app.app_context():
        assert app.extensions["sqlalchemy"].session.scalar(select(User)) is None


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
        # The demo centre's four, the second centre's staff and the regional administrator.
        assert len(session.scalars(select(User)).all()) == 6


def test_demo_load_refuses_production(another_app):
    production = another_app("production", SECRET_KEY="k" * 32)
    result = production.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "生产环境" in result.output
    with production.app_context():
        assert production.extensions["sqlalchemy"].session.scalar(select(Centre)) is None


def test_backup_copies_sqlite_and_dumps_postgresql_with_pg_dump(app, tmp_path, make_user):
    """SPEC 6: a consistent copy of a live database, by SQLite's online backup or pg_dump.
    Each CI pass checks the half of its engine."""
    import sqlite3

    make_user("staff", username="in-the-copy")
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine.dialect.name
    target = tmp_path / "copy.sqlite3"
    result = run(app, "backup", str(target))
    assert result.exit_code == 0, result.output
    if engine == "postgresql":
        assert target.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
        listing = subprocess.run(
            ["pg_restore", "--list", str(target)], capture_output=True, text=True, check=True
        )
        assert "TABLE DATA public user_account" in listing.stdout
    else:
        copy = sqlite3.connect(target)
        names = [row[0] for row in copy.execute("select username from user_account")]
        copy.close()
        assert names == ["in-the-copy"]
    again = run(app, "backup", str(target))
    assert again.exit_code != 0 and "已存在" in again.output


def test_backup_without_pg_dump_names_a_command_pg_dump_can_read(
    another_app, tmp_path, monkeypatch
):
    """The URL without the driver's name (which libpq does not know) and without the password
    (PGPASSWORD); and the backup not made is a failure, for the script that runs it."""
    postgresql = another_app(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://mediation:s3cret@db.internal:5433/cases"
    )
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump on it
    result = run(postgresql, "backup", str(tmp_path / "cases.dump"))
    assert result.exit_code == 1
    assert (
        f"pg_dump --format=custom --file {tmp_path / 'cases.dump'} "
        "postgresql://mediation@db.internal:5433/cases" in result.output
    )
    assert "+psycopg" not in result.output and "s3cret" not in result.output


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEDIATION_ENV": "production", "SECRET_KEY": ""}, "未设置 SECRET_KEY"),
        ({"TIMEZONE": "Asia/Atlantis"}, "TIMEZONE Asia/Atlantis 不是已知的时区"),
        ({"DATABASE_URL": "sqlite:////no/such/folder/mediation.sqlite3"}, "其所在文件夹不存在"),
        ({"MEDIATION_ENV": "staging"}, "MEDIATION_ENV staging 未知"),
        ({"REGION_NAMES": "3301=杭州市,330106=西湖区"}, "REGION_NAMES 中的 330106=西湖区 不是"),
    ],
    ids=[
        "production-without-secret-key",
        "unknown-timezone",
        "unreachable-sqlite",
        "bad-env",
        "bad-region-names",
    ],
)
def test_a_setting_the_app_cannot_start_with_is_one_line_and_status_1(env, message, tmp_path):
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'mediation.sqlite3'}")
    result = flask_command("jobs", "list", **env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr, result.stderr
    assert result.stdout == ""


def test_gunicorn_stops_on_a_setting_the_app_cannot_start_with(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--no-control-socket", "-b", "127.0.0.1:0", "wsgi:app"],
        cwd=ROOT,
        env={**os.environ, "MEDIATION_ENV": "production", "SECRET_KEY": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "未设置 SECRET_KEY" in result.stderr
    assert sum("SECRET_KEY" in line for line in result.stderr.splitlines()) == 1


def test_jobs_run_tells_a_database_error_without_its_sql(tmp_path):
    """On a database without the schema (before `flask db upgrade`): the cause, no statement."""
    result = flask_command(
        "jobs", "run", "deadline_sweep", DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    )
    assert result.returncode == 1
    assert "no such table: job_run" in result.stderr, result.stderr
    for leak in ("Traceback", "[SQL", "UPDATE", "job_run.status", "[parameters"):
        assert leak not in result.stderr + result.stdout

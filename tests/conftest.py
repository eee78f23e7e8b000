"""Fixtures: `app`, `db`, `client`, `login(role)` and factories such as `make_user(...)`.

The schema comes from the migrations, as in production. Tests run on SQLite unless
TEST_DATABASE_URL names another database (CI runs the suite on PostgreSQL too); every test
starts from empty tables.
"""

import os
import re
from contextlib import contextmanager
from types import SimpleNamespace

import flask_migrate
import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event, text

from mediation import create_app
from mediation.auth.accounts import add_user, user_by_username
from mediation.auth.models import Role
from mediation.directory.centres import add_centre, centre_by_code
from mediation.extensions import db as _db

PASSWORD = "correct-horse-42"
CSRF_FIELD = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Client(FlaskClient):
    """A test client that fills in the CSRF token the way a browser's form would."""

    def csrf_token(self) -> str:
        # Flask-WTF caches the signed token in `g`; when a test holds an app context (the
        # `db` fixture) that cache outlives a sign-in that changed the session.
        if has_app_context():
            g.pop("csrf_token", None)
        html = self.get("/").get_data(as_text=True)
        return CSRF_FIELD.search(html).group(1)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


@contextmanager
def recorded_statements(app):
    """The SQL statements the app runs while the block runs, in a list filled as they run (for
    tests that a page's statements do not grow with its rows)."""
    with app.app_context():
        engine = _db.engine
    statements = []

    def record(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def _drop_everything() -> None:
    engine = _db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=_database_url(tmp_path_factory),
    )
    app.test_client_class = Client
    with app.app_context():
        _drop_everything()
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


# Reference data inserted by the migrations stays; everything else goes after each test.
REFERENCE_TABLES = {"channel", "category"}


def empty_tables() -> None:
    tables = [t for t in reversed(_db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
    with _db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_database(app):
    yield
    with app.app_context():
        _db.session.remove()
        empty_tables()


@pytest.fixture
def db(app):
    """The database inside an app context, for tests of domain code without the web client."""
    with app.app_context():
        yield _db
        _db.session.rollback()


@pytest.fixture
def client(app) -> Client:
    return app.test_client()


def _detached(obj):
    _db.session.refresh(obj)
    _db.session.expunge(obj)
    return obj


@pytest.fixture
def make_centre(app):
    def make(code="330106", name="西湖区社会矛盾纠纷调处化解中心", abbreviation="西湖"):
        with app.app_context():
            centre = centre_by_code(code) or add_centre(code, name, abbreviation)
            _db.session.commit()
            return _detached(centre)

    return make


@pytest.fixture
def make_user(app, make_centre):
    """make_user(role="staff", centre="330106"); centre=None makes a global admin."""

    def make(role="staff", centre="330106", username=None, password=PASSWORD, is_active=True):
        centre_obj = make_centre(code=centre) if centre else None
        with app.app_context():
            user = add_user(
                username or f"{role}-{centre or 'global'}",
                f"测试{Role(role).label}",
                Role(role),
                password,
                _db.session.get(type(centre_obj), centre_obj.id) if centre_obj else None,
            )
            user.is_active = is_active
            _db.session.commit()
            return _detached(user)

    return make


@pytest.fixture
def login(client, make_user, app):
    """login(role, centre="330106") signs the `client` in as a new user with that role."""

    def sign_in(role="staff", centre="330106", username=None, remember=False):
        with app.app_context():
            existing = user_by_username(username or f"{role}-{centre or 'global'}")
            user = _detached(existing) if existing else None
        user = user or make_user(role, centre, username=username)
        response = client.post_form(
            "/login",
            {"username": user.username, "password": PASSWORD, "remember": "y" if remember else ""},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return SimpleNamespace(id=user.id, username=user.username, role=user.role)

    return sign_in


@pytest.fixture
def another_app(app):
    """another_app(config_name="testing", **config): a second app on the same database, standing
    for another web worker or another configuration. Its connections are closed afterwards."""
    made = []

    def make(config_name="testing", **overrides):
        overrides.setdefault("SQLALCHEMY_DATABASE_URI", app.config["SQLALCHEMY_DATABASE_URI"])
        other = create_app(config_name, **overrides)
        other.test_client_class = Client
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def make_api_client(app, make_centre):
    """make_api_client(scopes="cases:read,cases:write,stats:read", centre="330106", name=None):
    a committed integration client; returns (client id, its Authorization headers)."""
    from mediation.api.clients import add_client, parse_scopes

    made = []

    def make(scopes="cases:read,cases:write,stats:read", centre="330106", name=None):
        centre_obj = make_centre(code=centre)
        with app.app_context():
            client, token = add_client(
                name or f"client-{len(made) + 1}",
                _db.session.get(type(centre_obj), centre_obj.id),
                parse_scopes(scopes),
            )
            _db.session.commit()
            made.append(client.id)
            return client.id, {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def make_case(db):
    """make_case(state="registered", **overrides): a committed case that got to `state`
    through the workflow functions, in the `db` fixture's app context.

    States: registered, assigned, mediating, agreed (with one obligation), fulfilled,
    defaulted, transferred, withdrawn. Overrides: `centre` (code), `at` (when it happens),
    `mediator`, `transfer_reason`, and any intake field (`category_code`, `amount`, `parties`,
    `street`, `risk_level`, ...). The centre, its staff user `staff-<code>`, an organisation
    and a mediator with the login `mediator-<code>` are made when missing.
    `case.access_codes` maps each party's id to its access code. See tests/case_factory.py.
    """
    from tests.case_factory import build_case

    return build_case


@pytest.fixture
def hold_job_lock(app):
    """`with hold_job_lock(job_id):` holds a queued job's lock as its job process does on
    PostgreSQL (mediation.jobs.queue), on a connection of its own; nothing on SQLite, where
    a job's process is looked for by its pid."""
    from mediation.jobs.queue import JOB_LOCK

    @contextmanager
    def hold(job_id: int):
        if _db.engine.dialect.name != "postgresql":
            yield
            return
        with _db.engine.connect() as connection:
            key = {"key": JOB_LOCK, "id": job_id}
            connection.execute(text("select pg_advisory_lock(:key, :id)"), key)
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("select pg_advisory_unlock(:key, :id)"), key)
                connection.commit()

    return hold

"""Engine set-up shared by both engines: SQLite pragmas and transactions, UTC datetimes."""

import os
import sqlite3
import time
import zlib
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import DateTime, bindparam, event, inspect, select, text
from sqlalchemy.engine import CursorResult, Engine, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.types import TypeDecorator

from config import ConfigError
from mediation.web.language import gettext as _

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime, stored naive in UTC so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def _begins_writing() -> bool:
    # Reads take no lock; anything that may write (a form post, a CLI command, a job) takes
    # the write lock at BEGIN, so it waits its turn (_begin_immediate) instead of failing
    # with SQLITE_BUSY when a read transaction later upgrades to a write.
    if not has_request_context():
        return True
    if request.method in SAFE_METHODS:
        return False
    if g.pop("write_next", False):  # begin_writing: this one transaction writes
        return True
    return not _reads_first()


def _reads_first() -> bool:
    """Whether this request reads before it writes (reads_first, reads_first_view)."""
    if not has_request_context() or request.method in SAFE_METHODS:
        return False
    reading = g.get("reads_first")
    if reading is None:
        view = current_app.view_functions.get(request.endpoint)
        reading = g.reads_first = getattr(view, "reads_first", False)
    return reading


BULK_CACHE_KIB = 256 * 1024
DEFAULT_CACHE_KIB = 2000  # SQLite's own default


@contextmanager
def bulk_page_cache():
    """SQLite: a large page cache on this connection while a bulk write runs (an import
    touches every index of the case table at random places), then the default again, its
    memory given back. Nothing on PostgreSQL, whose cache is the server's."""
    from mediation.extensions import db

    if db.session.get_bind().dialect.name != "sqlite":
        yield
        return
    db.session.execute(text(f"PRAGMA cache_size = -{BULK_CACHE_KIB}"))
    try:
        yield
    finally:
        db.session.execute(text(f"PRAGMA cache_size = -{DEFAULT_CACHE_KIB}"))
        db.session.execute(text("PRAGMA shrink_memory"))


def reads_first() -> None:
    """This request's transactions only read, but for the one after `begin_writing` (a form
    that usually just looks something up): many of them can then run at once on SQLite."""
    g.reads_first = True


def reads_first_view(view):
    """Marks a form view whose requests read before they write (the signed-in user, the
    checks of the form): they hold the write lock only in the transaction after
    `begin_writing`, so on SQLite a second worker's requests are not queued behind the rest."""
    view.reads_first = True
    return view


def begin_writing() -> None:
    """In a `reads_first` request, end the reading transaction: the next one takes the write
    lock at its BEGIN, and those after it read again. Nothing was written. What was read
    (the signed-in user, their centre) is kept as read, not loaded again inside the lock:
    read again, inside, anything the write depends on. Elsewhere (PostgreSQL, which locks
    rows; a request that writes from its start; the CLI) it does nothing."""
    from mediation.extensions import db

    session = db.session()
    if session.get_bind().dialect.name != "sqlite" or not _reads_first():
        return
    g.write_next = True
    if session.in_transaction():
        commit_keeping_loaded()


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session holds: for a page that shows what it has
    just read or written, which would otherwise be loaded again, row by row."""
    from mediation.extensions import db

    session = db.session()
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def check_sqlite_file(url: str) -> None:
    """Raise ConfigError when the SQLite database of `url` cannot be opened for writing: its
    folder is missing or not writable (SQLite writes its journal beside it), or the file is
    not a writable file. Looked at on the file system, without connecting."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).resolve()
    if not path.parent.is_dir():
        reason = _("its folder does not exist")
    elif not os.access(path.parent, os.W_OK | os.X_OK):
        reason = _("its folder is not writable")
    elif path.exists() and not (path.is_file() and os.access(path, os.R_OK | os.W_OK)):
        reason = _("it is not a file this process may read and write")
    else:
        return
    raise ConfigError(
        _(
            "The SQLite database %(path)s cannot be opened: %(reason)s. Check DATABASE_URL.",
            path=str(path),
            reason=reason,
        )
    )


def configure_sqlite(engine: Engine) -> None:
    """WAL, busy timeout, foreign keys, and our own BEGIN instead of pysqlite's."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(WRITE_LOCK_TIMEOUT * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if _begins_writing():
            _begin_immediate(connection)
        else:
            # On the driver's connection, as the BEGIN IMMEDIATE above.
            connection.connection.driver_connection.execute("BEGIN")


def configure_postgresql(app: Flask, engine: Engine) -> None:
    """A request's transaction that only read ends with COMMIT, not ROLLBACK.

    The two are the same for the data, but psycopg forgets every prepared statement at a
    rollback, and a kept prepared statement is planned once rather than on every run. A
    request that wrote, or left changes unflushed, or failed, is rolled back as before
    (Flask-SQLAlchemy's teardown)."""

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.info.pop("wrote", None)

    @event.listens_for(engine, "before_cursor_execute")
    def _note_writes(connection, cursor, statement, parameters, context, executemany):
        # Anything but a SELECT counts as a write (a WITH too): rolled back, as before. The
        # app's SELECTs call no function that writes (nextval, pg_notify).
        if statement.lstrip()[:6].upper() != "SELECT":
            note_write(connection)

    @app.teardown_request
    def _commit_reading(error):
        from mediation.extensions import db

        session = db.session()
        if error is not None or not session.in_transaction():
            return
        if session.new or session.dirty or session.deleted:
            return
        try:
            if not session.connection().info.get("wrote"):
                session.commit()
        except SQLAlchemyError:
            session.rollback()  # e.g. a failed flush the view caught: nothing is kept


def note_write(connection) -> None:
    """Marks the transaction on `connection` as writing (configure_postgresql): for writes
    that bypass SQLAlchemy's statements, such as COPY."""
    connection.info["wrote"] = True


# The write-ahead log is copied into the database every this many pages (SQLite: 1000). A
# registration writes a page of each of the case table's twenty-odd indexes, mostly the same
# hot ones: a longer log writes each of those back once for many more registrations.
WAL_CHECKPOINT_PAGES = 4000

# How long a writer waits for SQLite's write lock before giving up, and how often it looks.
WRITE_LOCK_TIMEOUT = 30.0
WRITE_LOCK_STEP = 0.0005


def _begin_immediate(connection) -> None:
    """BEGIN IMMEDIATE, looking for the write lock every WRITE_LOCK_STEP: SQLite's own busy
    handler sleeps longer the longer it waits, past the end of another writer's short save."""
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA busy_timeout = 0")
    deadline = time.monotonic() + WRITE_LOCK_TIMEOUT
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
            time.sleep(WRITE_LOCK_STEP)
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the last try fails as SQLAlchemy's error
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(WRITE_LOCK_TIMEOUT * 1000)}")


def check_writes(engine: Engine) -> None:
    """Raises SQLAlchemyError unless the database accepts a write: one that changes nothing,
    rolled back. A SQLite file busy with another connection's save does accept writes, and is
    not waited for (a health check must not queue behind an import)."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection
        if sqlite:
            raw.execute("PRAGMA busy_timeout = 0")
        try:
            with connection.begin() as transaction:
                try:
                    connection.execute(_WRITE_NOTHING)
                except OperationalError as error:
                    if not (sqlite and _is_busy(error.orig)):
                        raise
                transaction.rollback()
        finally:
            if sqlite:
                raw.execute(f"PRAGMA busy_timeout = {int(WRITE_LOCK_TIMEOUT * 1000)}")


# A writing statement: a read-only file or server refuses it before looking at any row.
_WRITE_NOTHING = text("UPDATE case_counter SET last_seq = last_seq WHERE 1 = 0")


def _is_busy(error) -> bool:
    # SQLITE_BUSY and its extended codes (another connection recovering the WAL)
    return getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY


# Made by a migration for one engine only, outside the models: the trigram search of party
# names (mediation.cases.search), an FTS5 table and its own tables on SQLite, an index on
# PostgreSQL.
ONE_ENGINE_TABLES = "party_name_search"
ONE_ENGINE_INDEXES = ("ix_party_name_trgm",)


def include_name(name, type_, parent_names) -> bool:
    """What autogenerate compares with the models: all but what one engine has alone."""
    if type_ == "table":
        return not (name or "").startswith(ONE_ENGINE_TABLES)
    if type_ == "index":
        return name not in ONE_ENGINE_INDEXES
    return True


def render_item(type_, obj, autogen_context):
    """Migrations store UTCDateTime as a plain DateTime and never import the app."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def backup_sqlite(engine: Engine, target: str) -> None:
    """A consistent copy of a live SQLite database (SQLite's online backup: writers may go on
    while it copies)."""
    raw = engine.raw_connection()
    try:
        destination = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(destination)
        finally:
            destination.close()
    finally:
        raw.close()


def lock_until_commit(name: str, value: int) -> None:
    """On PostgreSQL, an advisory lock on (name, value) held until the transaction ends: a
    second request taking it waits for the first to commit. SQLite needs none: a request
    that writes holds its write lock from its BEGIN."""
    from mediation.extensions import db

    if db.session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(name.encode()) & 0x7FFFFFFF  # the lock's first key is an int4
        db.session.execute(
            text("select pg_advisory_xact_lock(:key, :value)"), {"key": key, "value": value}
        )


def read(statement, params: dict | None = None) -> CursorResult:
    """The result of a statement of columns (not of ORM objects), run on the session's
    connection in its transaction, without the session's ORM handling of results (and its
    flush of pending changes, which a page only reading has none of)."""
    from mediation.extensions import db

    return db.session.connection().execute(statement, params)


def with_children(statement, params: dict, key: str):
    """The entity of the first column of `statement`'s rows (an outer join of it and its
    children, the second column), with its `key` collection set to those children; None
    when there are no rows. One statement instead of a load and a lazy load."""
    from sqlalchemy.orm.attributes import set_committed_value

    from mediation.extensions import db

    rows = db.session.execute(statement, params).all()
    if not rows:
        return None
    parent = rows[0][0]
    set_committed_value(parent, key, [child for _parent, child in rows if child is not None])
    return parent


def preload(instance, *relationships) -> None:
    """Fill relationships of a loaded `instance` (a collection or a one-to-one of rows that
    point at it), one plain query apiece, with statements built once."""
    from sqlalchemy.orm.attributes import set_committed_value

    from mediation.extensions import db

    for relationship in relationships:
        prop = relationship.property
        statement, owner_key = _children_statement(type(instance), prop.key)
        rows = db.session.scalars(statement, {"owner": getattr(instance, owner_key)}).all()
        set_committed_value(instance, prop.key, rows if prop.uselist else next(iter(rows), None))


@cache
def _children_statement(owner: type, key: str):
    """The statement loading `owner.key`'s rows, built once, and the owner's attribute they
    point at."""
    prop = inspect(owner).relationships[key]
    ((local, remote),) = prop.local_remote_pairs
    statement = select(prop.mapper).where(remote == bindparam("owner"))
    if prop.order_by:
        statement = statement.order_by(*prop.order_by)
    return statement, prop.parent.get_property_by_column(local).key

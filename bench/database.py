"""The benchmark's databases: a base database per case count, built once and cached, and a
fresh copy of it for each run, so that the run's writes never reach the cache.

SQLite: the base is `bench/data/bench-<N>.sqlite`, the run copy `bench/data/run.sqlite`.
PostgreSQL (`DATABASE_URL`): the base is the database `bench_base_<N>` on that server, the run
copy `bench_run`, made with CREATE DATABASE … TEMPLATE. A base is rebuilt when the migrations'
head revision differs from the one it was built at (kept in a file next to the SQLite base, in
the comment of the PostgreSQL base). (BENCH_DB_PREFIX replaces `bench_` in these names.)

A base of several centres (`--centres`, 10 at 10,000,000 cases; PostgreSQL only) is
`bench_base_<N>_<C>centres`, built by centres.py from the one-centre base of N ÷ C cases, and
not copied per run: the run works on it and undoes its writes (undo.py).
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy.engine import make_url

from bench.centres import build_report, copy_centres, record_step, restore_indexes

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
FLASK = str(ROOT / ".venv" / "bin" / "flask")
# The PostgreSQL databases' names start with this (BENCH_DB_PREFIX: e.g. a test's own names).
PREFIX = os.environ.get("BENCH_DB_PREFIX", "bench_")
RUN_DATABASE = f"{PREFIX}run"


def populate(env: dict, cases: int) -> None:
    """Fills a new, empty base database: the schema, then the demo centre with its directory,
    logins and `cases` cases. The one place that decides how a base is built."""
    env = {**env, "MEDIATION_ENV": "development"}  # demo data is refused in production
    flask_command(env, "db", "upgrade")
    flask_command(env, "demo", "generate", "--cases", str(cases))


def flask_command(env: dict, *args: str) -> None:
    print(f"   $ flask {' '.join(args)}", flush=True)
    subprocess.run([FLASK, *args], cwd=ROOT, env=env, check=True)


def head_revision() -> str:
    return ScriptDirectory(str(ROOT / "migrations")).get_current_head()


@dataclass
class Engine:
    """Where the base and run databases live, and how to make them."""

    name: str  # sqlite or postgresql
    server_url: str  # PostgreSQL: DATABASE_URL as given; SQLite: empty

    @classmethod
    def from_environment(cls) -> "Engine":
        url = os.environ.get("DATABASE_URL", "")
        if not url:
            return cls("sqlite", "")
        if make_url(url).get_backend_name() != "postgresql":
            sys.exit(f"bench: DATABASE_URL must be a PostgreSQL URL (or unset for SQLite): {url}")
        return cls("postgresql", url)

    def run_copy(self, cases: int, env: dict, rebuild: bool) -> str:
        """A fresh copy of the base database for `cases` cases (built first if needed); its
        SQLAlchemy URL."""
        if self.name == "sqlite":
            return _sqlite_run_copy(cases, env, rebuild)
        return _postgresql_run_copy(self.server_url, cases, env, rebuild)

    def region_base(self, cases: int, centres: int, env: dict, rebuild: bool) -> str:
        """The base of `cases` cases across `centres` centres (built, or its build resumed,
        first if needed; see centres.py); its SQLAlchemy URL. A run works on it in place and
        undoes its writes (undo.py): a 10M base is ~50 GB, no room for a copy per run."""
        if self.name == "sqlite":
            sys.exit("bench: a base of several centres is built on PostgreSQL only")
        return _postgresql_region_base(self.server_url, cases, centres, env, rebuild)

    def drop_run_copy(self) -> None:
        if self.name == "sqlite":
            for path in DATA.glob("run.sqlite*"):
                path.unlink()
        else:
            with _maintenance(self.server_url) as connection:
                _drop(connection, RUN_DATABASE)


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _sqlite_run_copy(cases: int, env: dict, rebuild: bool) -> str:
    base = DATA / f"bench-{cases}.sqlite"
    marker = base.with_suffix(".head")
    head = head_revision()
    if rebuild or not base.exists() or not marker.exists() or marker.read_text() != head:
        _build_sqlite(base, marker, head, cases, env)
    else:
        print(f"== base database {base.name} (cached, revision {head})", flush=True)
    run = DATA / "run.sqlite"
    for path in DATA.glob("run.sqlite*"):
        path.unlink()
    _checkpoint(base)
    shutil.copyfile(base, run)
    return _sqlite_url(run)


def _build_sqlite(base: Path, marker: Path, head: str, cases: int, env: dict) -> None:
    print(f"== building base database {base.name} with {cases} cases", flush=True)
    DATA.mkdir(parents=True, exist_ok=True)
    partial = base.with_suffix(".building")
    for path in (base, marker, *DATA.glob(f"{partial.name}*")):
        path.unlink(missing_ok=True)
    populate({**env, "DATABASE_URL": _sqlite_url(partial)}, cases)
    _checkpoint(partial)
    partial.rename(base)
    marker.write_text(head)


def _checkpoint(path: Path) -> None:
    """Moves everything from the write-ahead log into the file, so a file copy is complete."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


# --- PostgreSQL ------------------------------------------------------------------------------


def _database_url(server_url: str, database: str) -> str:
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _maintenance(server_url: str) -> psycopg.Connection:
    """An autocommit connection to the server's `postgres` database (CREATE and DROP DATABASE
    cannot run in a transaction)."""
    return psycopg.connect(_libpq_url(_database_url(server_url, "postgres")), autocommit=True)


def _drop(connection: psycopg.Connection, database: str) -> None:
    connection.execute(
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
    )


def _comment(connection: psycopg.Connection, database: str) -> str | None:
    """The database's comment ("" when it has none), None when there is no such database."""
    found = connection.execute(
        "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database "
        "WHERE datname = %s",
        (database,),
    ).fetchone()
    return None if found is None else found[0]


def _set_comment(connection: psycopg.Connection, database: str, text: str) -> None:
    connection.execute(
        sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(database), sql.Literal(text))
    )


def _postgresql_base(connection, server_url: str, cases: int, env: dict, rebuild: bool) -> str:
    """The name of the one-centre base of `cases` cases, built first if needed."""
    base, head = f"{PREFIX}base_{cases}", head_revision()
    if rebuild or _comment(connection, base) != head:
        _build_postgresql(connection, server_url, base, head, cases, env)
    else:
        print(f"== base database {base} (cached, revision {head})", flush=True)
    return base


def _postgresql_region_base(server_url: str, cases: int, centres: int, env, rebuild) -> str:
    """The base `<prefix>base_<cases>_<centres>centres`: a copy (TEMPLATE) of the one-centre
    base of cases ÷ centres, to which centres.py adds the other centres, one transaction per
    centre. Its comment says "building <revision>" until the last centre is in, then the
    revision: a build killed half-way resumes at its next centre."""
    per_centre, head = cases // centres, head_revision()
    base = f"{PREFIX}base_{cases}_{centres}centres"
    with _maintenance(server_url) as connection:
        comment = _comment(connection, base)
        if not rebuild and comment == head:
            print(f"== base database {base} (cached, revision {head}), worked on in place")
            return _database_url(server_url, base)
        if rebuild or comment != f"building {head}":
            source = _postgresql_base(connection, server_url, per_centre, env, rebuild)
            print(f"== building base database {base}: {source} and {centres - 1} copies")
            started = time.perf_counter()
            _drop(connection, base)
            connection.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(base), sql.Identifier(source)
                )
            )
            url = _libpq_url(_database_url(server_url, base))
            with psycopg.connect(url, autocommit=True) as database:
                record_step(database, f"template {source}", time.perf_counter() - started)
            _set_comment(connection, base, f"building {head}")
            print(f"   {source} copied in {time.perf_counter() - started:.0f} s", flush=True)
        else:
            print(f"== resuming the build of base database {base}", flush=True)
        url = _libpq_url(_database_url(server_url, base))
        copy_centres(url, centres)
        restore_indexes(url)
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as database:
            database.execute("VACUUM ANALYZE")
            record_step(database, "VACUUM ANALYZE", time.perf_counter() - started)
        _set_comment(connection, base, head)
        print(
            f"   {build_report(url)}; size {database_size(server_url, base)} "
            "(the first centre's base is built, and timed, on its own)",
            flush=True,
        )
    return _database_url(server_url, base)


def database_size(server_url: str, database: str) -> str:
    with _maintenance(server_url) as connection:
        return connection.execute(
            "SELECT pg_size_pretty(pg_database_size(%s))", (database,)
        ).fetchone()[0]


def _postgresql_run_copy(server_url: str, cases: int, env: dict, rebuild: bool) -> str:
    with _maintenance(server_url) as connection:
        base = _postgresql_base(connection, server_url, cases, env, rebuild)
        _drop(connection, RUN_DATABASE)
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(RUN_DATABASE), sql.Identifier(base)
            )
        )
    return _database_url(server_url, RUN_DATABASE)


def _build_postgresql(connection, server_url: str, base: str, head: str, cases: int, env) -> None:
    """Builds the base; the revision goes into its comment only once it is complete."""
    print(f"== building base database {base} with {cases} cases", flush=True)
    _drop(connection, base)
    connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(base)))
    url = _database_url(server_url, base)
    populate({**env, "DATABASE_URL": url}, cases)
    # A bulk load leaves no planner statistics; a server in service has them from autovacuum.
    with psycopg.connect(_libpq_url(url), autocommit=True) as database:
        database.execute("VACUUM ANALYZE")
    _set_comment(connection, base, head)

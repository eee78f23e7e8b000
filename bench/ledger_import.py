"""The ledger import at scale (issue 22): a generated ledger of N rows imported into an empty
database, by the import a job process runs (`import_ledger`, reading the file twice, a row at
a time), timed from the first row read to the commit.

    python -m bench.ledger_import --rows 1000000 [--database-url URL] [--keep]

Without --database-url, a SQLite file in bench/data/; with a PostgreSQL URL, that database's
schema is dropped and made again from the migrations (give it a database of its own). Prints
rows a second (and per second of this process's CPU: on a shared machine the wall clock
counts the other work too) and the process's peak memory, and fails below
--min-rows-per-second. On PostgreSQL on this host, also the CPU of the server process that
ran the import (COPY, indexes, constraint checks), read from /proc.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import flask_migrate
from sqlalchemy import func, select, text

from bench import fixtures
from mediation import create_app
from mediation.cases.models import Case
from mediation.demo.data import DEMO_CENTRE
from mediation.directory.centres import add_centre
from mediation.extensions import db
from mediation.ledger.importer import import_ledger

DATA = Path(__file__).parent / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--min-rows-per-second", type=int, default=3000)
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file afterwards")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    sqlite_file = DATA / "ledger-bench.sqlite3"
    url = args.database_url or f"sqlite:///{sqlite_file}"
    if not args.database_url:
        for path in DATA.glob("ledger-bench.sqlite3*"):
            path.unlink()
    app = create_app(
        "development", SQLALCHEMY_DATABASE_URI=url, LEDGER_MAX_ROWS=args.rows, SECRET_KEY="bench"
    )
    ledger = DATA / f"ledger-{args.rows}.csv"
    if not ledger.exists():
        print(f"writing {ledger} ...", flush=True)
        fixtures.write_ledger(ledger, args.rows, "L")
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        flask_migrate.upgrade()
        centre = add_centre(*DEMO_CENTRE)
        db.session.commit()
        data = ledger.read_bytes()
        marks = {}

        def progress(phase: str, done: int, total: int) -> None:
            marks.setdefault(phase, time.perf_counter())
            if done and done % 100_000 == 0:
                print(f"  {phase} {done:,}", flush=True)

        server = _server_cpu()
        start, cpu = time.perf_counter(), time.process_time()
        result = import_ledger(
            centre, data, create_missing=True, progress=progress, free_while_reading=True
        )
        db.session.commit()
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        after = _server_cpu()
        # The same server process throughout, or its figure says nothing.
        server_cpu = after[1] - server[1] if server and after and after[0] == server[0] else None
        created = db.session.scalar(select(func.count()).select_from(Case))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = args.rows / seconds
    checked = marks.get("writing", start + seconds) - start
    print(
        f"{url.split(':')[0]}: {args.rows:,} rows "
        f"({ledger.stat().st_size / 1e6:.0f} MB CSV) in {seconds:.0f} s "
        f"(read and checked in {checked:.0f} s): {rate:,.0f} rows/s; this process's CPU "
        f"{cpu:.0f} s ({args.rows / cpu:,.0f} rows per CPU second); "
        + (
            f"the server's CPU {server_cpu:.0f} s ({args.rows / (cpu + server_cpu):,.0f} rows "
            "per CPU second of both); "
            if server_cpu
            else ""
        )
        + f"{created:,} cases; problems {len(result.problems)}; peak memory {peak_mb:.0f} MB"
    )
    if not args.database_url and not args.keep:
        for path in DATA.glob("ledger-bench.sqlite3*"):
            path.unlink()
    return 0 if result.ok and created == args.rows and rate >= args.min_rows_per_second else 1


def _server_cpu() -> tuple[int, float] | None:
    """PostgreSQL: (pid, CPU seconds) of the server process of the session's connection, when
    it runs on this host; None otherwise."""
    if db.engine.dialect.name != "postgresql":
        return None
    pid = db.session.scalar(text("select pg_backend_pid()"))
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime, the 14th and 15th fields, in clock ticks.
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    sys.exit(main())

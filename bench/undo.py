"""A run on the base itself, and its writes undone afterwards (issue 22: a 10M base is ~40 GB;
a copy per run does not fit on the bench machine's disk).

`begin` marks, before the run, each table's row count and largest id and each sequence's
value, and puts a trigger on every table of the app that keeps, in `bench_undo.log`, the image
of each row that existed before the run as it was before its first change (UPDATE or DELETE;
the trigger's WHEN clause passes only ids at or below the mark, so rows the run adds cost
nothing), and the key of each row the run adds to a table without an id column. `revert`
then, in one transaction and without foreign-key checks (the end state is the state before):
deletes every row above its table's mark and every logged insert, puts back every logged
image (INSERT … ON CONFLICT DO UPDATE), resets the sequences, and drops the triggers. `check`
proves it: each table's row count and largest id, each sequence, and every row the run
changed equal to its image from before the run.

A run that dies before `revert` leaves its marks and log behind: the next `begin` reverts them
first. `vacuum` then cleans the tables the run wrote to, so that the next run finds the base
as this one did.
"""

import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

SCHEMA = "bench_undo"
SKIPPED = ("alembic_version",)  # and the build's own tables, bench_*


@dataclass
class Table:
    name: str
    key: list[str]  # the primary key's columns
    columns: list[str]
    mark: int | None = None  # largest id before the run (tables keyed by an integer id)
    rows: int = 0

    @property
    def by_id(self) -> bool:
        return self.key == ["id"]


@dataclass
class Outcome:
    problems: list[str] = field(default_factory=list)
    restored: dict[str, int] = field(default_factory=dict)  # rows put back, by table
    removed: dict[str, int] = field(default_factory=dict)  # rows deleted, by table
    seconds: float = 0.0

    def summary(self) -> str:
        changed = ", ".join(f"{t} {n:,}" for t, n in sorted(self.restored.items()) if n)
        added = ", ".join(f"{t} {n:,}" for t, n in sorted(self.removed.items()) if n)
        return (
            f"undone in {self.seconds:.0f} s: rows added removed ({added or 'none'}); "
            f"rows changed put back ({changed or 'none'})"
        )


def _tables(connection: psycopg.Connection) -> list[Table]:
    rows = connection.execute(
        """
        SELECT c.relname,
               (SELECT array_agg(a.attname ORDER BY k.n) FROM unnest(i.indkey) WITH ORDINALITY
                    AS k(attnum, n) JOIN pg_attribute a
                    ON a.attrelid = c.oid AND a.attnum = k.attnum),
               (SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
        WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname
        """
    ).fetchall()
    return [
        Table(name, list(key), list(columns))
        for name, key, columns in rows
        if name not in SKIPPED and not name.startswith("bench_")
    ]


def _sequences(connection: psycopg.Connection) -> dict[str, tuple[int, bool]]:
    names = connection.execute(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
    ).fetchall()
    return {
        name: connection.execute(
            sql.SQL("SELECT last_value, is_called FROM {}").format(sql.Identifier(name))
        ).fetchone()
        for (name,) in names
    }


def begin(url: str) -> list[Table]:
    """Marks the database at `url` (libpq URL) and starts keeping the run's changes; reverts
    a previous run's first if it left them."""
    with psycopg.connect(url, autocommit=True) as connection:
        if _has_log(connection):
            print("   a previous run left its writes: undoing them first", flush=True)
            _revert(connection)
            _finish(connection)
        started = time.perf_counter()
        tables = _tables(connection)
        with connection.transaction():
            connection.execute(f"CREATE SCHEMA {SCHEMA}")
            connection.execute(
                f"CREATE TABLE {SCHEMA}.log (seq bigserial PRIMARY KEY, tbl text NOT NULL, "
                "op char NOT NULL, image json NOT NULL)"
            )
            connection.execute(
                f"CREATE TABLE {SCHEMA}.mark (tbl text PRIMARY KEY, mark bigint, rows bigint)"
            )
            connection.execute(
                f"CREATE TABLE {SCHEMA}.sequence (name text PRIMARY KEY, last_value bigint, "
                "is_called boolean)"
            )
            connection.execute(
                f"""CREATE FUNCTION {SCHEMA}.keep() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        INSERT INTO {SCHEMA}.log (tbl, op, image)
                        VALUES (TG_TABLE_NAME, 'I', to_json(NEW));
                    ELSE
                        INSERT INTO {SCHEMA}.log (tbl, op, image)
                        VALUES (TG_TABLE_NAME, left(TG_OP, 1), to_json(OLD));
                    END IF;
                    RETURN NULL;
                END $$"""
            )
            for table in tables:
                name = sql.Identifier(table.name)
                # Taken inside the transaction that adds the triggers: a row is either
                # counted here or caught by them.
                connection.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(name))
                table.rows = connection.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(name)
                ).fetchone()[0]
                if table.by_id:
                    table.mark = connection.execute(
                        sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(name)
                    ).fetchone()[0]
                    events = sql.SQL("UPDATE OR DELETE ON {} FOR EACH ROW WHEN (OLD.id <= {})")
                    events = events.format(name, sql.Literal(table.mark))
                else:
                    events = sql.SQL("INSERT OR UPDATE OR DELETE ON {} FOR EACH ROW").format(name)
                connection.execute(
                    sql.SQL("CREATE TRIGGER bench_undo AFTER {} EXECUTE FUNCTION {}.keep()").format(
                        events, sql.Identifier(SCHEMA)
                    )
                )
                connection.execute(
                    f"INSERT INTO {SCHEMA}.mark VALUES (%s, %s, %s)",
                    (table.name, table.mark, table.rows),
                )
            for name, (value, called) in _sequences(connection).items():
                connection.execute(
                    f"INSERT INTO {SCHEMA}.sequence VALUES (%s, %s, %s)", (name, value, called)
                )
        print(
            f"   marked {len(tables)} tables ({sum(t.rows for t in tables):,} rows) in "
            f"{time.perf_counter() - started:.0f} s; their changes are kept to be undone",
            flush=True,
        )
        return tables


def _has_log(connection: psycopg.Connection) -> bool:
    return (
        connection.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,)).fetchone()
        is not None
    )


def _marked(connection: psycopg.Connection) -> list[Table]:
    marks = {
        name: (mark, rows)
        for name, mark, rows in connection.execute(f"SELECT tbl, mark, rows FROM {SCHEMA}.mark")
    }
    tables = [table for table in _tables(connection) if table.name in marks]
    for table in tables:
        table.mark, table.rows = marks[table.name]
    return tables


def _earliest(table: Table, ops: str) -> sql.Composed:
    """The first entry logged for each key of `table`, when its operation is one of `ops`:
    "I", a row the run added (to a table without an id); "UD", the image of a row from before
    the run (a row the run added, then changed, has an "I" first)."""
    key = sql.SQL(", ").join(sql.SQL("image->>{}").format(sql.Literal(c)) for c in table.key)
    return sql.SQL(
        "SELECT image FROM (SELECT DISTINCT ON ({key}) image, op FROM {schema}.log "
        "WHERE tbl = {table} ORDER BY {key}, seq) f WHERE op = ANY({ops})"
    ).format(
        key=key,
        schema=sql.Identifier(SCHEMA),
        table=sql.Literal(table.name),
        ops=sql.Literal(list(ops)),
    )


def revert(url: str) -> Outcome:
    """Undoes the run's writes (see the module's docstring); drops the triggers, keeps the
    log for `check`."""
    with psycopg.connect(url, autocommit=True) as connection:
        return _revert(connection)


def _revert(connection: psycopg.Connection) -> Outcome:
    outcome, started = Outcome(), time.perf_counter()
    tables = _marked(connection)
    with connection.transaction():
        # Neither foreign-key checks nor the undo's own triggers (both are triggers).
        connection.execute("SET LOCAL session_replication_role = replica")
        for table in tables:
            name = sql.Identifier(table.name)
            if table.by_id:
                removed = connection.execute(
                    sql.SQL("DELETE FROM {} WHERE id > {}").format(name, sql.Literal(table.mark))
                ).rowcount
            else:
                match = sql.SQL(" AND ").join(
                    sql.SQL("t.{0}::text = i.image->>{1}").format(sql.Identifier(c), sql.Literal(c))
                    for c in table.key
                )
                removed = connection.execute(
                    sql.SQL("DELETE FROM {} t USING ({}) i WHERE {}").format(
                        name, _earliest(table, "I"), match
                    )
                ).rowcount
            outcome.removed[table.name] = removed
        for table in tables:
            columns = sql.SQL(", ").join(map(sql.Identifier, table.columns))
            rest = [c for c in table.columns if c not in table.key]
            if rest:
                conflict = sql.SQL("DO UPDATE SET ") + sql.SQL(", ").join(
                    sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in rest
                )
            else:
                conflict = sql.SQL("DO NOTHING")
            outcome.restored[table.name] = connection.execute(
                sql.SQL(
                    "INSERT INTO {table} ({columns}) SELECT r.* FROM ({images}) i, "
                    "json_populate_record(NULL::{table}, i.image) r "
                    "ON CONFLICT ({key}) {conflict}"
                ).format(
                    table=sql.Identifier(table.name),
                    columns=columns,
                    images=_earliest(table, "UD"),
                    key=sql.SQL(", ").join(map(sql.Identifier, table.key)),
                    conflict=conflict,
                )
            ).rowcount
        for name, value, called in connection.execute(
            f"SELECT name, last_value, is_called FROM {SCHEMA}.sequence"
        ).fetchall():
            connection.execute("SELECT setval(%s, %s, %s)", (name, value, called))
        for table in tables:
            connection.execute(
                sql.SQL("DROP TRIGGER IF EXISTS bench_undo ON {}").format(
                    sql.Identifier(table.name)
                )
            )
    outcome.seconds = time.perf_counter() - started
    return outcome


def check(url: str) -> list[str]:
    """What differs from before the run (nothing, when the undo worked): each table's rows and
    largest id, each sequence, each row the run changed against its image from before."""
    with psycopg.connect(url, autocommit=True) as connection:
        problems = []
        for table in _marked(connection):
            name = sql.Identifier(table.name)
            rows = connection.execute(sql.SQL("SELECT count(*) FROM {}").format(name)).fetchone()
            if rows[0] != table.rows:
                problems.append(f"{table.name}: {rows[0]:,} rows, {table.rows:,} before")
            if table.by_id:
                top = connection.execute(
                    sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(name)
                ).fetchone()[0]
                if top != table.mark:
                    problems.append(f"{table.name}: largest id {top}, {table.mark} before")
            match = sql.SQL(" AND ").join(
                sql.SQL("t.{0}::text = i.image->>{1}").format(sql.Identifier(c), sql.Literal(c))
                for c in table.key
            )
            logged, same = connection.execute(
                sql.SQL(
                    "SELECT count(*), count(t.*) FILTER (WHERE to_jsonb(t) = i.image::jsonb) "
                    "FROM ({}) i LEFT JOIN {} t ON {}"
                ).format(_earliest(table, "UD"), name, match)
            ).fetchone()
            if logged != same:
                problems.append(f"{table.name}: {logged - same} of {logged} changed rows differ")
        for name, value, called in connection.execute(
            f"SELECT name, last_value, is_called FROM {SCHEMA}.sequence"
        ).fetchall():
            now = connection.execute(
                sql.SQL("SELECT last_value, is_called FROM {}").format(sql.Identifier(name))
            ).fetchone()
            if now != (value, called):
                problems.append(f"sequence {name}: {now}, {(value, called)} before")
        if connection.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'bench_undo'"
        ).fetchone()[0]:
            problems.append("the undo's triggers are still in place")
        return problems


def vacuum(url: str, outcome: Outcome) -> float:
    """VACUUM ANALYZE of the tables the run wrote to, so that the next run finds them as this
    one did (dead rows gone, pages all-visible again for index-only scans, fresh statistics);
    the seconds it took."""
    started = time.perf_counter()
    touched = {t for t, n in outcome.removed.items() if n} | {
        t for t, n in outcome.restored.items() if n
    }
    with psycopg.connect(url, autocommit=True) as connection:
        for table in sorted(touched):
            connection.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))
    return time.perf_counter() - started


def finish(url: str) -> None:
    """Drops the marks and the log (after `check`)."""
    with psycopg.connect(url, autocommit=True) as connection:
        _finish(connection)


def _finish(connection: psycopg.Connection) -> None:
    connection.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")

"""A base of several centres of one region (issue 22: 10,000,000 cases across 10 centres), built
from a one-centre base in SQL instead of by the demo generator (~1,000 cases/s on the 2-core
bench machine: 10M cases would take ~3 hours).

The first centre is the demo centre 330106 with the generator's cases (the one-centre base of
N ÷ centres cases, taken whole with CREATE DATABASE … TEMPLATE). Each further centre of region
3301 is a copy of the first centre's cases made with INSERT … SELECT, table by table, ids shifted
past each table's largest, in ONE transaction per centre: the centre's own row, abbreviation
(in its case numbers, and in the names and event details that carry 西湖), counters,
directory (organisations, mediators without logins, their specialties, routing rules),
calendar, mediation days and settings, a staff login `bench-staff-<code>` (the demo password),
and every case table. A killed build loses at most the centre it was copying: the centres in
`bench_build_step` are complete, and the next build goes on from the first missing one. That
table keeps each step's time (the template, each centre, each index, VACUUM), so a build over
several sessions still says how long it took in all.

The case tables' secondary indexes (neither primary keys nor unique: those stay, and check
the copies' numbers, keys and certificate numbers as they go in) are dropped before the first
copy and made again after the last, each in its own transaction: at 20,000 cases a centre,
copying with them took ~20 s a centre, without them ~3.5 s, and making them again over three
centres 12 s. Their definitions wait in `bench_build_index` until each is made again, so a
build killed at any point resumes.

What a copy does not make its own: the copied cases' events and sessions name the first
centre's staff and mediators as their actors (`actor_id`, `registered_by_id`: the users of
330106), and the parties' access codes, hashed with the case number, no longer match any code
(the bench's look-ups use the first centre's cases).
"""

import time

import psycopg
from psycopg import sql

SOURCE_CODE = "330106"
SOURCE_WORD = "西湖"  # the first centre's abbreviation, in numbers, names and event details
REGION = "3301"
# Districts of Hangzhou (region 3301) besides 西湖: (code, abbreviation); name: 〈abbr〉区….
DISTRICTS = (
    ("330102", "上城"),
    ("330105", "拱墅"),
    ("330108", "滨江"),
    ("330109", "萧山"),
    ("330110", "余杭"),
    ("330111", "富阳"),
    ("330112", "临安"),
    ("330113", "临平"),
    ("330114", "钱塘"),
)
CENTRE_NAME = "{}区社会矛盾纠纷调处化解中心"
STATE_TABLE = "bench_build_step"
INDEX_TABLE = "bench_build_index"
# The case tables, parents first, each with its id shifted (and the ids it refers to).
CASE_TABLES = (
    "dispute_case",
    "party",
    "case_event",
    "mediation_session",
    "extension",
    "follow_up",
    "transfer",
    "agreement",
    "obligation",
    "integrity_record",
    "certificate",
)
ID_TABLES = ("organization", "mediator", "routing_rule", *CASE_TABLES)


def copy_centres(url: str, centres: int) -> None:
    """Adds centres 2…`centres` to the base at `url` (libpq URL), each a copy of the first;
    the centres copied already are skipped."""
    if centres - 1 > len(DISTRICTS):
        raise SystemExit(f"bench: at most {len(DISTRICTS) + 1} centres (region {REGION})")
    with psycopg.connect(url, autocommit=True) as connection:
        done = {step.removeprefix("centre ") for step, _seconds, _rows in build_steps(connection)}
        if any(code not in done for code, _word in DISTRICTS[: centres - 1]):
            _drop_indexes(connection)
        for code, word in DISTRICTS[: centres - 1]:
            if code in done:
                print(f"   centre {code} {word}: copied already", flush=True)
                continue
            started = time.perf_counter()
            with connection.transaction():
                # No foreign-key checks (they are triggers): the copy refers to the rows it
                # copies, by construction; a superuser's setting (the bench's server).
                connection.execute("SET LOCAL session_replication_role = replica")
                rows, per_table = copy_centre(connection, code, word)
                seconds = time.perf_counter() - started
                record_step(connection, f"centre {code}", seconds, rows)
            slowest = ", ".join(
                f"{table} {count:,} rows {spent:.1f} s ({count / max(spent, 1e-6):,.0f}/s)"
                for table, (count, spent) in sorted(per_table.items(), key=lambda x: -x[1][1])[:4]
            )
            print(
                f"   centre {code} {word}: {rows:,} rows in {seconds:.1f} s "
                f"({rows / seconds:,.0f} rows/s; slowest: {slowest})",
                flush=True,
            )


def _drop_indexes(connection: psycopg.Connection) -> None:
    """Drops the case tables' secondary indexes, keeping their definitions (once: a resumed
    build finds them dropped already)."""
    with connection.transaction():
        exists = connection.execute("SELECT to_regclass(%s)", (INDEX_TABLE,)).fetchone()[0]
        if exists is not None:
            return
        connection.execute(
            f"CREATE TABLE {INDEX_TABLE} (name text PRIMARY KEY, definition text NOT NULL)"
        )
        indexes = connection.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname = ANY(%s) "
            "AND NOT i.indisprimary AND NOT i.indisunique",
            (list(CASE_TABLES),),
        ).fetchall()
        for name, definition in indexes:
            connection.execute(f"INSERT INTO {INDEX_TABLE} VALUES (%s, %s)", (name, definition))
            connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    print(f"   dropped {len(indexes)} secondary indexes of the case tables", flush=True)


def restore_indexes(url: str) -> None:
    """Makes again each index `_drop_indexes` dropped, one transaction each."""
    with psycopg.connect(url, autocommit=True) as connection:
        if connection.execute("SELECT to_regclass(%s)", (INDEX_TABLE,)).fetchone()[0] is None:
            return
        connection.execute("SET maintenance_work_mem = '1GB'")
        started = time.perf_counter()
        waiting = connection.execute(f"SELECT name, definition FROM {INDEX_TABLE}").fetchall()
        for name, definition in waiting:
            begun = time.perf_counter()
            with connection.transaction():
                connection.execute(definition)
                connection.execute(f"DELETE FROM {INDEX_TABLE} WHERE name = %s", (name,))
                record_step(connection, f"index {name}", time.perf_counter() - begun)
            print(f"   index {name} in {time.perf_counter() - begun:.1f} s", flush=True)
        connection.execute(f"DROP TABLE {INDEX_TABLE}")
        print(
            f"   {len(waiting)} indexes made again in {time.perf_counter() - started:.0f} s",
            flush=True,
        )


def build_steps(connection: psycopg.Connection) -> list[tuple[str, float, int]]:
    """(step, seconds, rows) of each step of the build done so far, in order."""
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (step text PRIMARY KEY, seconds real NOT NULL, "
        "rows bigint NOT NULL, finished_at timestamptz NOT NULL)"
    )
    return list(
        connection.execute(f"SELECT step, seconds, rows FROM {STATE_TABLE} ORDER BY finished_at")
    )


def record_step(connection: psycopg.Connection, step: str, seconds: float, rows: int = 0) -> None:
    build_steps(connection)
    connection.execute(
        f"INSERT INTO {STATE_TABLE} VALUES (%s, %s, %s, clock_timestamp()) ON CONFLICT (step) "
        "DO UPDATE SET seconds = EXCLUDED.seconds, rows = EXCLUDED.rows, "
        "finished_at = EXCLUDED.finished_at",
        (step, seconds, rows),
    )


def build_report(url: str) -> str:
    """How long the build took in all, and in which steps."""
    with psycopg.connect(url, autocommit=True) as connection:
        steps = build_steps(connection)
    total = sum(seconds for _step, seconds, _rows in steps)
    centres = [(s, r) for step, s, r in steps if step.startswith("centre ")]
    indexes = sum(seconds for step, seconds, _rows in steps if step.startswith("index "))
    other = ", ".join(
        f"{step} {seconds:.0f} s"
        for step, seconds, _rows in steps
        if not step.startswith(("centre ", "index "))
    )
    copied = sum(r for _s, r in centres)
    copy_seconds = sum(s for s, _r in centres)
    return (
        f"built in {total / 60:.1f} min of build steps in all: {len(centres)} centres copied "
        f"in {copy_seconds:.0f} s ({copied:,} rows, {copied / max(copy_seconds, 1e-6):,.0f} "
        f"rows/s), indexes made again in {indexes:.0f} s, {other}"
    )


def copy_centre(connection: psycopg.Connection, code: str, word: str):
    """One centre's copy, in the caller's transaction; (rows written, {table: (rows, s)})."""
    one = lambda query, *args: connection.execute(query, args).fetchone()[0]  # noqa: E731
    source = one("SELECT id FROM centre WHERE code = %s", SOURCE_CODE)
    # The source's case rows are the first in each table (the base's generator wrote them,
    # and every later row — copies, a run's writes — has a larger id): their id range.
    low_case, high_case = connection.execute(
        "SELECT min(id), max(id) FROM dispute_case WHERE centre_id = %s", (source,)
    ).fetchone()
    count = one("SELECT count(*) FROM dispute_case WHERE id BETWEEN %s AND %s", low_case, high_case)
    if count != one("SELECT count(*) FROM dispute_case WHERE centre_id = %s", source):
        raise RuntimeError("the first centre's cases are not a contiguous id range")
    ranges, shift = {}, {}
    for table in ID_TABLES:
        if table in CASE_TABLES and table != "dispute_case":
            where = "case_id BETWEEN %s AND %s" if table != "certificate" else None
            if where is None:  # a certificate's record is the source's
                ranges[table] = connection.execute(
                    "SELECT min(c.id), max(c.id) FROM certificate c JOIN integrity_record r "
                    "ON r.id = c.record_id WHERE r.case_id BETWEEN %s AND %s",
                    (low_case, high_case),
                ).fetchone()
            else:
                ranges[table] = connection.execute(
                    sql.SQL("SELECT min(id), max(id) FROM {} WHERE " + where).format(
                        sql.Identifier(table)
                    ),
                    (low_case, high_case),
                ).fetchone()
        elif table == "dispute_case":
            ranges[table] = (low_case, high_case)
        else:
            ranges[table] = connection.execute(
                sql.SQL("SELECT min(id), max(id) FROM {} WHERE centre_id = %s").format(
                    sql.Identifier(table)
                ),
                (source,),
            ).fetchone()
        low, _high = ranges[table]
        top = one(sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(table)))
        shift[table] = (top + 1 - low) if low is not None else 0
    centre = one(
        "INSERT INTO centre (code, name, abbreviation, timezone, created_at, phone) "
        "SELECT %s, %s, %s, timezone, now() AT TIME ZONE 'UTC', phone FROM centre WHERE id = %s "
        "RETURNING id",
        code,
        CENTRE_NAME.format(word),
        word,
        source,
    )
    params = {
        "source": source,
        "centre": centre,
        "old": SOURCE_WORD,
        "new": word,
        "code": code,
        "old_code": SOURCE_CODE,
        "username": f"bench-staff-{code}",
        **{f"{table}_shift": value for table, value in shift.items()},
        **{f"{table}_low": value[0] for table, value in ranges.items()},
        **{f"{table}_high": value[1] for table, value in ranges.items()},
    }
    per_table, total = {}, 0
    for table, statement in COPIES:
        started = time.perf_counter()
        rows = connection.execute(statement, params).rowcount
        per_table[table] = (rows, time.perf_counter() - started)
        total += rows
    for table in ID_TABLES:
        connection.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), max(id)) FROM {}").format(
                sql.Literal(table), sql.Identifier(table)
            )
        )
    return total, per_table


def _shifted(table: str, column: str | None = None) -> str:
    """`column` (a reference to `table`'s id; default: this row's own id) moved by the shift."""
    return f"{column or 'id'} + %({table}_shift)s"


_OWN = "WHERE id BETWEEN %({0}_low)s AND %({0}_high)s"
_CASE = _shifted("dispute_case", "case_id")
_RECORD = f"({_shifted('integrity_record', 'record_id')})::text"

# (table, statement) in the order they run: the directory, then the cases, parents first.
COPIES = (
    (
        "user_account",
        "INSERT INTO user_account (username, display_name, password_hash, role, centre_id, "
        "is_active, created_at) SELECT %(username)s, display_name, password_hash, role, "
        "%(centre)s, is_active, created_at FROM user_account WHERE username = 'demo-staff'",
    ),
    (
        "centre_settings",
        "INSERT INTO centre_settings SELECT %(centre)s, triage_days, triage_days_high_risk, "
        "warning_days, extensions_allowed, extension_max_days, incentive_measures "
        "FROM centre_settings WHERE centre_id = %(source)s",
    ),
    (
        "centre_category",
        "INSERT INTO centre_category SELECT %(centre)s, category_code, mediation_days "
        "FROM centre_category WHERE centre_id = %(source)s",
    ),
    (
        "calendar_day",
        "INSERT INTO calendar_day SELECT %(centre)s, day, is_workday, note "
        "FROM calendar_day WHERE centre_id = %(source)s",
    ),
    (
        "case_counter",
        "INSERT INTO case_counter SELECT %(centre)s, year, last_seq "
        "FROM case_counter WHERE centre_id = %(source)s",
    ),
    (
        "organization",
        f"INSERT INTO organization SELECT {_shifted('organization')}, %(centre)s, "
        "replace(name, %(old)s, %(new)s), kind, phone, replace(address, %(old)s, %(new)s), "
        f"is_active FROM organization {_OWN.format('organization')} AND centre_id = %(source)s",
    ),
    (
        "mediator",
        f"INSERT INTO mediator SELECT {_shifted('mediator')}, %(centre)s, "
        f"{_shifted('organization', 'organization_id')}, name, phone, is_active, max_caseload, "
        f"NULL FROM mediator {_OWN.format('mediator')} AND centre_id = %(source)s",
    ),
    (
        "mediator_specialty",
        f"INSERT INTO mediator_specialty SELECT {_shifted('mediator', 'mediator_id')}, "
        "category_code FROM mediator_specialty "
        "WHERE mediator_id BETWEEN %(mediator_low)s AND %(mediator_high)s",
    ),
    (
        "routing_rule",
        f"INSERT INTO routing_rule SELECT {_shifted('routing_rule')}, %(centre)s, category_code, "
        f"street, {_shifted('organization', 'organization_id')}, rank "
        f"FROM routing_rule {_OWN.format('routing_rule')} AND centre_id = %(source)s",
    ),
    (
        "dispute_case",
        "INSERT INTO dispute_case (id, centre_id, number, year, seq, ledger_ref, state, version, "
        "channel_code, category_code, amount, summary, claims, street, address, "
        "people_involved, risk_level, is_extreme, registered_at, registered_on, "
        "registered_by_id, triage_due_on, organization_id, mediator_id, routed_at, routed_on, "
        "deadline_on, extension_days, warned_at, concluded_at, concluded_on, outcome, "
        "transfer_reason, concluded_organization_id, concluded_mediator_id, intake_token, "
        "triage_warned_at, ledger_import_id, received_at, received_on, agreed_amount) "
        f"SELECT {_shifted('dispute_case')}, %(centre)s, "
        "%(new)s || substr(number, length(%(old)s) + 1), year, seq, ledger_ref, state, version, "
        "channel_code, category_code, amount, summary, claims, street, address, "
        "people_involved, risk_level, is_extreme, registered_at, registered_on, "
        "registered_by_id, triage_due_on, "
        f"{_shifted('organization', 'organization_id')}, {_shifted('mediator', 'mediator_id')}, "
        "routed_at, routed_on, deadline_on, extension_days, warned_at, concluded_at, "
        "concluded_on, outcome, transfer_reason, "
        f"{_shifted('organization', 'concluded_organization_id')}, "
        f"{_shifted('mediator', 'concluded_mediator_id')}, NULL, triage_warned_at, NULL, "
        f"received_at, received_on, agreed_amount FROM dispute_case "
        f"{_OWN.format('dispute_case')}",
    ),
    (
        "party",
        f"INSERT INTO party SELECT {_shifted('party')}, {_CASE}, position, role, kind, name, "
        "id_number, credit_code, phone, address, access_code_hash, access_code_issued_at, "
        f"honour_consent, sms_opt_out FROM party {_OWN.format('party')}",
    ),
    (
        "case_event",
        "INSERT INTO case_event (id, case_id, at, action, from_state, to_state, actor_id, "
        "actor_kind, actor_name, details, centre_id, txid) "
        f"SELECT {_shifted('case_event')}, {_CASE}, at, action, from_state, to_state, actor_id, "
        "actor_kind, actor_name, CASE WHEN strpos(details::text, %(old)s) > 0 "
        "THEN replace(details::text, %(old)s, %(new)s)::json ELSE details END, %(centre)s, txid "
        f"FROM case_event {_OWN.format('case_event')}",
    ),
    (
        "mediation_session",
        f"INSERT INTO mediation_session SELECT {_shifted('mediation_session')}, {_CASE}, "
        "held_at, replace(place, %(old)s, %(new)s), is_online, attendance, minutes, "
        f"recorded_by_id, recorded_at FROM mediation_session {_OWN.format('mediation_session')}",
    ),
    (
        "extension",
        f"INSERT INTO extension SELECT {_shifted('extension')}, {_CASE}, days, reason, "
        f"previous_deadline_on, deadline_on, consents, at FROM extension "
        f"{_OWN.format('extension')}",
    ),
    (
        "follow_up",
        "INSERT INTO follow_up (id, case_id, centre_id, visited_on, is_satisfied, note, "
        f"recorded_by_id, recorded_at) SELECT {_shifted('follow_up')}, {_CASE}, %(centre)s, "
        "visited_on, is_satisfied, note, recorded_by_id, recorded_at FROM follow_up "
        f"{_OWN.format('follow_up')}",
    ),
    (
        "transfer",
        f"INSERT INTO transfer SELECT {_shifted('transfer')}, {_CASE}, reason, court, "
        f"undisputed_facts, documents, transferred_on, filing_number FROM transfer "
        f"{_OWN.format('transfer')}",
    ),
    (
        "agreement",
        "INSERT INTO agreement (id, case_id, centre_id, signed_on, terms, confirmation_court, "
        f"confirmation_ruling, confirmed_on) SELECT {_shifted('agreement')}, {_CASE}, "
        "%(centre)s, signed_on, terms, confirmation_court, confirmation_ruling, confirmed_on "
        f"FROM agreement {_OWN.format('agreement')}",
    ),
    (
        "obligation",
        "INSERT INTO obligation (id, case_id, centre_id, agreement_id, obligor_id, obligee_id, "
        "description, amount, due_on, fulfilled_on, defaulted_at, is_voluntary, reminded_at) "
        f"SELECT {_shifted('obligation')}, {_CASE}, %(centre)s, "
        f"{_shifted('agreement', 'agreement_id')}, {_shifted('party', 'obligor_id')}, "
        f"{_shifted('party', 'obligee_id')}, description, amount, due_on, fulfilled_on, "
        f"defaulted_at, is_voluntary, reminded_at FROM obligation {_OWN.format('obligation')}",
    ),
    (
        "integrity_record",
        "INSERT INTO integrity_record SELECT "
        f"{_shifted('integrity_record')}, %(centre)s, {_CASE}, {_shifted('party', 'party_id')}, "
        f"{_shifted('obligation', 'obligation_id')}, kind, points, reason, identity_key, "
        "CASE WHEN dedupe_key LIKE 'positive:%%' "
        f"THEN 'positive:' || ({_CASE}) || ':' || ({_shifted('party', 'party_id')}) "
        f"ELSE 'negative:' || ({_shifted('obligation', 'obligation_id')}) END, "
        f"created_at, created_on FROM integrity_record {_OWN.format('integrity_record')}",
    ),
    (
        "certificate",
        f"INSERT INTO certificate SELECT {_shifted('certificate')}, "
        f"{_shifted('integrity_record', 'record_id')}, %(centre)s, "
        "%(code)s || '-' || extract(year FROM issued_on) || '-' || "
        f"lpad({_RECORD}, greatest(6, length({_RECORD})), '0'), "
        "verification_code, holder_name, issued_on, valid_until, points, measures, revoked_at, "
        "revoked_reason, revoked_by_id, CASE WHEN holder_key LIKE 'party:%%' "
        "THEN 'party:' || (substr(holder_key, 7)::int + %(party_shift)s) ELSE holder_key END, "
        f"is_listed, is_latest FROM certificate {_OWN.format('certificate')}",
    ),
)

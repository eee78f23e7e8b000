"""Benchmark of issue #8: the app under gunicorn on a large database, loaded by wrk.

    make bench                                   # SQLite, 1,000,000 cases
    make bench CASES=300 BENCH_ARGS=--quick      # a smoke run on a small database
    make bench DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres

(`make bench` runs `.venv/bin/python -m bench.run --cases $(CASES) $(BENCH_ARGS)`; see
`--help` for the options.) In one run, on this machine:

1. takes a fresh copy of the base database with N cases (built once with `flask db upgrade` and
   the demo generator, then cached: see database.py), gives 1,000 random cases' first party a
   known access code, and starts the app under gunicorn with the documented worker count;
2. measures with wrk, from a second process, GET /healthz as the baseline (in a short window
   before each page and after the last: a page's ratio is to the two around it), the party's
   status look-up (POST /status, cycling over those cases; it answers with a redirect) and the
   party's case page it leads to (GET /status/case), the staff case list (first page, a page
   filtered on state, the page 50 "next" links deep), the case page (cycling over 1,000 random
   cases, each read once before), the staff dashboard, and case registration (each request
   with its own one-time token); a page that answers anything but 2xx/3xx makes the run fail;
3. checks that every registration made exactly one case, that no case number is duplicated and
   the numbers stay gapless, and that no look-up failed; reads the workers' memory;
4. times the month statistics (in the app), the XLSX export of that month (`flask stats
   export`), the deadline sweep with nothing due and with 1% of the cases in mediation due, and
   the import of a generated ledger of 100,000 rows (`flask ledger import`);
5. prints every figure with its ratio to the baseline and its target, writes the same as JSON
   to bench/results/<engine>-<time>.json, and exits 1 when a target is missed (--no-fail: only
   when a check fails).

SQLite by default; PostgreSQL when DATABASE_URL names a server (the bench creates its own
databases there: bench_base_<N> and bench_run).

At 10,000,000 cases (or with --centres C > 1; PostgreSQL only) the base holds C centres of
region 3301 (centres.py builds it, resumably) and is not copied: the run works on the base
itself and undoes its writes afterwards (undo.py), then checks that every table, sequence and
changed row is as before the run (a check of the report: the run fails otherwise). The ledger
(1,000,000 rows) is imported into a centre of its own, which the undo removes; the region's
month statistics are timed as well (≤ 2 s).

    make bench CASES=10000000 DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bench import fixtures, undo
from bench.database import DATA, ROOT, Engine, database_size, head_revision
from bench.load import FORM, Measurement, Settings, Target, ensure_wrk, measure
from bench.report import WORKER_RSS_MB, Check, PageLine, Report, TimedLine, judge_page
from bench.server import Server
from bench.timed import (
    Timing,
    time_command,
    time_deadline_sweep,
    time_month_stats,
    time_region_stats,
)
from bench.web import BenchError, Browser
from mediation.demo.data import DEMO_PASSWORD, STAFF_LOGIN
from mediation.extensions import db

# One sync worker per core: on the 2-core bench machine the pages are CPU-bound, so 3 or 4
# workers served no more requests than 2 but tripled the look-up's p99 (time-slicing), at
# ~90 MB each. Measure again with --workers on other hardware.
WORKERS = 2
DEEP_PAGE = 50  # "next" links followed from the first page of the list
APPLICATIONS = 200  # online applications the applicant's look-up cycles over
BASELINE_WINDOW_MIN = 3  # seconds: the shortest baseline window (a third of a page's)
RESULTS = ROOT / "bench" / "results"
# "Memory bounded": the export process, app included, stays within a worker's budget.
EXPORT_RSS_MB = WORKER_RSS_MB
REGION_CASES = 10_000_000  # from this many cases, the base holds REGION_CENTRES centres
REGION_CENTRES = 10
# A centre of its own for the ledger import on a base worked on in place (outside region 3301:
# the region's figures stay those of its centres); the undo removes it with its cases.
LEDGER_CENTRE = ("339901", "基准测试台账导入中心", "台账")


@dataclass(frozen=True)
class Page:
    """A page measured under load and its targets (issue #8)."""

    key: str
    label: str
    min_ratio: float | None = None  # throughput ÷ the baseline's
    is_read: bool = True  # a read page's p99 stays within TAIL_FACTOR × its median
    vs_first_page: bool = False  # at most LIST_PAGE_FACTOR × slower than the list's first page


PAGES = (
    Page("baseline", "GET /healthz (baseline)", is_read=False),
    Page("status_lookup", "status look-up POST /status", 0.35),
    Page("status_page", "party's case GET /status/case", 0.30),
    Page("apply_form", "online application form GET /apply", 0.35),
    Page("apply_status", "application look-up POST /apply/status", 0.35),
    Page("list_first", "case list, first page", 0.20),
    Page("list_filtered", "case list, state=mediating", vs_first_page=True),
    Page("list_deep", "case list, deep page", vs_first_page=True),
    Page("detail", "case page GET /cases/<id>", 0.25),
    Page("dashboard", "staff dashboard", 0.20),
    Page("registration", "registration POST /cases/new", 0.10, is_read=False),
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases in the database")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per page")
    parser.add_argument(
        "--centres",
        type=int,
        help=f"centres of region 3301 the cases are spread over (PostgreSQL; default "
        f"{REGION_CENTRES} from {REGION_CASES:,} cases, else 1); with more than one the run "
        "works on the base itself and undoes its writes",
    )
    parser.add_argument(
        "--ledger-rows",
        type=int,
        help="rows of the ledger (default 100,000; 1,000,000 with several centres)",
    )
    parser.add_argument("--sample", type=int, default=1000, help="cases to look up and visit")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 3 s per page, a 500-row ledger"
    )
    parser.add_argument(
        "--pages-only", action="store_true", help="measure the pages, skip the timed operations"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even if targets are missed")
    args = parser.parse_args()
    if args.centres is None:
        args.centres = REGION_CENTRES if args.cases >= REGION_CASES else 1
    if args.ledger_rows is None:
        args.ledger_rows = 1_000_000 if args.centres > 1 else 100_000
    if args.quick:
        args.duration, args.ledger_rows = 3, min(args.ledger_rows, 500)
    return args


def app_environment() -> dict:
    """The app's configuration, as a deployment sets it (but plain HTTP, nothing sent out)."""
    return {
        **os.environ,
        "MEDIATION_ENV": "production",
        "SECRET_KEY": fixtures.SECRET_KEY,
        "SESSION_COOKIE_SECURE": "false",
        "SMS_GATEWAY_URL": "",
        "SMTP_HOST": "",
    }


def main() -> None:
    args = parse_args()
    engine = Engine.from_environment()
    ensure_wrk()
    env = app_environment()
    DATA.mkdir(parents=True, exist_ok=True)
    in_place = args.centres > 1
    if in_place:
        env["DATABASE_URL"] = engine.region_base(args.cases, args.centres, env, args.rebuild)
        marked = undo.begin(_libpq(env["DATABASE_URL"]))
    else:
        env["DATABASE_URL"] = engine.run_copy(args.cases, env, args.rebuild)
    env["LEDGER_MAX_ROWS"] = str(max(args.ledger_rows, 200_000))
    app = fixtures.bench_app(env["DATABASE_URL"])
    started = datetime.now(UTC)
    report = Report(settings(args, engine, started))
    if in_place:
        name = env["DATABASE_URL"].rsplit("/", 1)[-1]
        report.settings["database_size"] = database_size(engine.server_url, name)
        report.settings["base_rows"] = sum(table.rows for table in marked)
    try:
        benchmark(app, env, args, report)
    finally:
        with app.app_context():
            db.engine.dispose()
        if in_place:
            report.checks.append(undo_check(env["DATABASE_URL"]))
        else:
            engine.drop_run_copy()
    report.print()
    path = RESULTS / f"{engine.name}-{started:%Y%m%dT%H%M%SZ}.json"
    report.save(path)
    print(f"results: {path.relative_to(ROOT)}")
    # --no-fail excuses missed targets, never a failed check (a duplicate number, a lost case).
    checks_hold = all(check.passed for check in report.checks)
    sys.exit(0 if checks_hold and (report.passed or args.no_fail) else 1)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def undo_check(url: str) -> Check:
    """Undoes the run's writes on the base and checks that it is as before the run."""
    print("== undoing the run's writes on the base", flush=True)
    outcome = undo.revert(_libpq(url))
    problems = undo.check(_libpq(url))
    if not problems:
        undo.finish(_libpq(url))
    print(f"   {outcome.summary()}", flush=True)
    seconds = undo.vacuum(_libpq(url), outcome)
    print(f"   VACUUM ANALYZE of the tables it wrote to: {seconds:.0f} s", flush=True)
    detail = "; ".join(problems[:5]) or (
        "every table's rows and largest id, every sequence and "
        f"{sum(outcome.restored.values()):,} changed rows as before the run "
        f"({sum(outcome.removed.values()):,} added rows removed)"
    )
    return Check("the base as before the run", detail, not problems)


def settings(args, engine: Engine, started: datetime) -> dict:
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "engine": engine.name,
        "cases": args.cases,
        "centres": args.centres,
        "workers": args.workers,
        "threads": args.threads,
        "connections": args.connections,
        "duration": args.duration,
        "ledger_rows": args.ledger_rows,
        "started": started.isoformat(timespec="seconds"),
        "commit": commit,
        "revision": head_revision(),
        "cpus": os.cpu_count(),
    }


def benchmark(app, env: dict, args, report: Report) -> None:
    token_prefix = f"bench{datetime.now(UTC):%H%M%S}-"
    with app.app_context():
        print("== preparing the run copy", flush=True)
        pairs = fixtures.issue_access_codes(args.sample)
        applications = fixtures.submit_applications(APPLICATIONS)
        case_ids = fixtures.random_case_ids(args.sample)
        month = fixtures.previous_month()
    server = Server(args.workers, env, DATA / "gunicorn.log")
    try:
        server.wait_until_healthy()
        print(f"== gunicorn with {args.workers} workers on {server.base_url}", flush=True)
        targets = prepare_targets(app, server, pairs, case_ids, token_prefix)
        targets |= application_targets(server, applications)
        load = Settings(args.threads, args.connections, args.duration)
        measured = measure_pages(server, targets, load)
        windows = measured.pop("windows")
        report.baseline_windows = [m.requests_per_second for m in windows]
        report.worker_rss_mb = worker_rss = server.max_worker_rss_mb()
    except BenchError as error:
        raise SystemExit(f"bench: {error}\n--- gunicorn log:\n{server.log_tail()}") from None
    finally:
        server.stop()
    report.pages = judged_pages(measured, report.baseline_windows)
    report.checks = checks_after_load(app, measured["registration"], args, token_prefix)
    report.checks.append(
        Check(
            "largest worker's memory (VmRSS)",
            f"{worker_rss:.0f} MB (target < {WORKER_RSS_MB} MB)",
            worker_rss < WORKER_RSS_MB,
        )
    )
    if not args.pages_only:
        report.timed = timed_operations(app, env, month, args, token_prefix, report)


def prepare_targets(app, server: Server, pairs, case_ids, token_prefix: str) -> dict:
    """What wrk requests for each page, each checked once first: signed in as staff, a portal
    session, the files the Lua scripts cycle through."""
    staff = Browser(server.port)
    staff.log_in(STAFF_LOGIN, DEMO_PASSWORD)
    as_staff = (f"Cookie: {staff.cookie_header}",)
    party = Browser(server.port)
    status_form = {"csrf_token": party.csrf_token("/status")}
    lookups = [{**status_form, "case_number": n, "access_code": c} for n, c in pairs]
    answer = party.expect("/status", 302, lookups[0])
    if not answer.location.endswith("/status/case"):
        raise BenchError(f"the status look-up did not open the case: → {answer.location}")
    party.expect("/status/case", 200)
    as_party = (f"Cookie: {party.cookie_header}",)
    for path in ("/cases/", "/cases/?state=mediating", "/cases/dashboard"):
        staff.expect(path, 200)
    # Every case of the sample once, before its window: the window then measures the page,
    # not the disk's first read of a random case (a 10M base is twice the machine's memory).
    for case_id in case_ids:
        staff.expect(f"/cases/{case_id}", 200)
    return {
        "baseline": Target("/healthz"),
        "status_lookup": Target.cycling(
            "POST",
            _request_file("lookups", [f"/status\t{urlencode(form)}" for form in lookups]),
            (*as_party, FORM),
        ),
        "status_page": Target("/status/case", as_party),
        "list_first": Target("/cases/", as_staff),
        "list_filtered": Target("/cases/?state=mediating", as_staff),
        "list_deep": Target(deep_page(staff), as_staff),
        "detail": Target.cycling(
            "GET", _request_file("cases", [f"/cases/{i}" for i in case_ids]), as_staff
        ),
        "dashboard": Target("/cases/dashboard", as_staff),
        "registration": registration_target(app, staff, token_prefix),
    }


def application_targets(server: Server, applications: list[tuple[str, str]]) -> dict:
    """The online application's form, and the applicant's look-up cycling over the bench's
    applications (it answers with the application's page); each checked once first."""
    applicant = Browser(server.port)
    form = {"csrf_token": applicant.csrf_token("/apply/status")}
    lookups = [{**form, "number": number, "code": code} for number, code in applications]
    answer = applicant.expect("/apply/status", 200, lookups[0])
    if "application-status" not in answer.text:
        raise BenchError("the application look-up did not find the application")
    applicant.expect("/apply", 200)
    return {
        "apply_form": Target("/apply"),
        "apply_status": Target.cycling(
            "POST",
            _request_file("applications", [f"/apply/status\t{urlencode(f)}" for f in lookups]),
            (f"Cookie: {applicant.cookie_header}", FORM),
        ),
    }


def _request_file(name: str, lines: list[str]) -> Path:
    path = DATA / f"{name}.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def deep_page(staff: Browser) -> str:
    """The list page reached by following "next" DEEP_PAGE times (or the last page, when there
    are fewer)."""
    path = "/cases/"
    for _ in range(DEEP_PAGE):
        following = Browser.next_page_link(staff.expect(path, 200).text)
        if following is None:
            break
        path = following
    print(f"   deep page: {path}", flush=True)
    return path


def registration_target(app, staff: Browser, token_prefix: str) -> Target:
    """Intake forms, each with its own one-time token; one is submitted first and must have
    registered a case. (The session cookie is taken after the form: the form puts the secret of
    its CSRF token into the session.)"""
    form = fixtures.intake_form(staff.csrf_token("/cases/new"))
    trial = f"trial-{token_prefix}"
    staff.expect("/cases/new", 200, {**form, "submission": trial})
    with app.app_context():
        if fixtures.registered_with_prefix(trial) != 1:
            raise BenchError("the trial registration did not register a case")
    form_file = _request_file("intake", [urlencode(form) + "&submission={token}"])
    headers = (f"Cookie: {staff.cookie_header}", FORM)
    return Target("/cases/new", headers, "register.lua", (str(form_file), token_prefix))


def measure_pages(server: Server, targets: dict, load: Settings) -> dict:
    """Each page under load, with a short baseline window before it and one after the last
    (in "windows"); the baseline shown is the window of median throughput. On a shared
    machine the baseline drifted by a quarter from one minute to the next, and a single
    window at the start made every ratio carry that minute's luck."""
    baseline, *pages = PAGES
    # A third of a page's time is thousands of requests of the baseline.
    short = replace(load, duration=max(BASELINE_WINDOW_MIN, load.duration // 3))
    measured, windows = {}, []
    for page in pages:
        windows.append(measure_page(server, baseline, targets[baseline.key], short))
        measured[page.key] = measure_page(server, page, targets[page.key], load)
    windows.append(measure_page(server, baseline, targets[baseline.key], short))
    measured[baseline.key] = sorted(windows, key=lambda m: m.requests_per_second)[len(windows) // 2]
    measured["windows"] = windows
    return measured


def measure_page(server: Server, page: Page, target: Target, load: Settings) -> Measurement:
    print(f"== wrk: {page.label}", flush=True)
    measurement = measure(server.base_url, target, load)
    if measurement.errors:
        print(
            f"   ERRORS: {measurement.non_2xx_3xx} non-2xx/3xx answers, "
            f"socket errors {measurement.socket_errors}; the gunicorn log ends:\n"
            f"{server.log_tail(10)}",
            flush=True,
        )
    return measurement


def judged_pages(measured: dict[str, Measurement], windows: list[float]) -> list[PageLine]:
    """Each page's ratio is to the baseline windows just before and after it."""
    lines = {}
    for n, page in enumerate(PAGES):
        m = measured[page.key]
        if page.key == "baseline":
            ratio = 1.0
        else:
            ratio = m.requests_per_second / ((windows[n - 1] + windows[n]) / 2)
        line = PageLine(page.key, page.label, m, ratio)
        first = lines["list_first"] if page.vs_first_page else None
        judge_page(line, page.min_ratio, page.is_read and page.key != "baseline", first)
        lines[page.key] = line
    return list(lines.values())


def checks_after_load(app, registration: Measurement, args, token_prefix: str) -> list[Check]:
    answered = registration.requests - registration.non_2xx_3xx
    with app.app_context():
        registered = fixtures.registered_with_prefix(token_prefix)
        duplicates = fixtures.duplicate_case_numbers()
        gaps = fixtures.numbering_gaps()
        failed_lookups = fixtures.failed_lookups()
    # wrk stops with up to one request per connection in flight: the server may have
    # registered those cases without wrk counting their answers.
    return [
        Check(
            "one case per registration",
            f"{registered} cases for {answered} successful answers "
            f"(+ at most {args.connections} in flight at the end)",
            answered <= registered <= answered + args.connections,
        ),
        Check("no duplicate case numbers", f"{duplicates} duplicated", duplicates == 0),
        Check("gapless case numbers", "; ".join(gaps) or "gapless", not gaps),
        Check("every look-up found its case", f"{failed_lookups} failed", failed_lookups == 0),
    ]


def timed_operations(app, env, month: str, args, prefix: str, report: Report):
    print(f"== timed operations (month {month})", flush=True)
    ledger_rows, region = args.ledger_rows, []
    with app.app_context():
        stats = time_month_stats(month)
        if args.centres > 1:
            centres, timing = time_region_stats(month, fixtures.REGION)
            region.append(
                _timed(
                    "region_stats",
                    f"month statistics of region {fixtures.REGION}, {centres} centres "
                    "(median of 3)",
                    timing,
                    max_seconds=2,
                )
            )
    export = time_command(
        env,
        DATA / "export.log",
        *("stats", "export", "--month", month, "--centre", fixtures.CENTRE_CODE),
        *("--format", "xlsx", "--out", str(DATA / "export.xlsx")),
    )
    with app.app_context():
        catch_up = time_deadline_sweep()
        nothing_due = time_deadline_sweep(runs=3)
        made_due = fixtures.make_deadlines_due(0.01)
        one_percent = time_deadline_sweep()
    ledger = DATA / "ledger.csv"
    fixtures.write_ledger(ledger, ledger_rows, prefix)
    ledger_centre = fixtures.CENTRE_CODE
    if args.centres > 1:  # into a centre of its own, which the undo removes
        with app.app_context():
            ledger_centre = fixtures.add_bench_centre(*LEDGER_CENTRE)
    print(f"== flask ledger import ({ledger_rows} rows, centre {ledger_centre})", flush=True)
    imported = time_command(
        env,
        DATA / "ledger.log",
        *("ledger", "import", str(ledger), "--centre", ledger_centre, "--create-missing"),
    )
    imported.rows = ledger_rows
    with app.app_context():
        created = fixtures.imported_with_prefix(prefix)
    report.checks.append(
        Check("ledger rows imported", f"{created} of {ledger_rows}", created == ledger_rows)
    )
    return [
        _timed("month_stats", f"month statistics {month} (median of 3)", stats, max_seconds=1),
        *region,
        _timed(
            "xlsx_export",
            "XLSX export of the month (flask)",
            export,
            max_seconds=5,
            max_rss_mb=EXPORT_RSS_MB,
        ),
        _timed("sweep_catch_up", "deadline sweep, first run", catch_up),
        _timed(
            "sweep_nothing_due",
            "deadline sweep, nothing due (median of 3)",
            nothing_due,
            max_seconds=0.05,
        ),
        _timed("sweep_one_percent", f"deadline sweep, 1% due ({made_due} cases)", one_percent),
        _timed(
            "ledger_import",
            "ledger import (flask)",
            imported,
            # Issue 22: a million rows beside ten million cases; issue 8: 100,000 beside one.
            min_rows_per_second=3000 if args.centres > 1 else 2000,
        ),
    ]


def _timed(
    key: str,
    label: str,
    timing: Timing,
    max_seconds: float | None = None,
    max_rss_mb: float | None = None,
    min_rows_per_second: float | None = None,
) -> TimedLine:
    limits = []
    if max_seconds is not None:
        limits.append((f"≤ {max_seconds:g} s", timing.seconds <= max_seconds))
    if max_rss_mb is not None:
        limits.append((f"≤ {max_rss_mb:g} MB", timing.peak_rss_mb <= max_rss_mb))
    if min_rows_per_second is not None:
        rate = timing.rows_per_second or 0
        limits.append((f"≥ {min_rows_per_second:g} rows/s", rate >= min_rows_per_second))
    if not limits:
        return TimedLine(key, label, timing)
    target = ", ".join(text for text, _met in limits)
    return TimedLine(key, label, timing, target, all(met for _text, met in limits))


if __name__ == "__main__":
    main()

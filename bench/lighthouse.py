"""Lighthouse on the party's pages (issue #25): `make lighthouse`.

Serves the demo under gunicorn (on a database of its own in a temporary folder, with the static
files built as `make run` builds them), gives one demo party a known access code, and runs
Lighthouse 12.2.3 (installed in bench/lighthouse/ by make) as its command line does: Chromium
headless, the default mobile profile with simulated throttling. Each page is visited twice:
first with an empty cache, then again with the cache kept; that `--runs` times (Lighthouse's
figures vary with the machine's load), and the run with the median performance is reported.
Prints each page's scores and figures against the targets of issue #25, exits 1 when one is
missed, and keeps the reports in bench/results/lighthouse-<time>/.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from bench.database import ROOT, flask_command
from bench.server import Server
from mediation import create_app
from mediation.cases import workflow as wf
from mediation.cases.models import Case, Party
from mediation.demo.data import staff_user
from mediation.extensions import db
from mediation.integrity.models import Certificate, IntegrityRecord

MEASURE = ROOT / "bench" / "lighthouse" / "measure.mjs"
RESULTS = ROOT / "bench" / "results"
# Signs the sessions and keys the access code the run sets; the server gets the same.
SECRET_KEY = "lighthouse-secret-not-for-production"
WORKERS = 2


@dataclass(frozen=True)
class Page:
    key: str
    path: str
    signed_in: bool = False  # a party's portal session (case number and access code)


PAGES = (
    Page("status", "/status"),
    Page("status_case", "/status/case", signed_in=True),
    Page("verify", "/verify"),
    Page("honour", "/honour"),
    # Measured once the app has them.
    Page("apply", "/apply"),
    Page("apply_status", "/apply/status"),
)


@dataclass(frozen=True)
class Target:
    label: str
    key: str
    passes: object  # figure → bool
    shown: str


TARGETS = (
    Target("performance", "performance", lambda v: v >= 0.98, "≥ 0.98"),
    Target("first contentful paint", "fcp_s", lambda v: v <= 1.2, "≤ 1.2 s"),
    Target("first visit, transferred", "first_kib", lambda v: v <= 80, "≤ 80 KiB"),
    Target("repeat visit, static requests", "repeat_static", lambda v: v == 0, "0"),
    Target("accessibility", "accessibility", lambda v: v >= 1.0, "1.0"),
    Target("best practices", "best_practices", lambda v: v >= 1.0, "1.0"),
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each page (the median counts)")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even if targets are missed")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    if not Path(chrome).is_file() or not shutil.which("node"):
        sys.exit("make lighthouse needs Node.js and Chromium (Debian: nodejs, chromium)")
    reports = RESULTS / f"lighthouse-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    reports.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as folder:
        url = f"sqlite:///{Path(folder) / 'demo.sqlite3'}"
        env = {
            **os.environ,
            "MEDIATION_ENV": "development",  # demo data is refused in production
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "SESSION_COOKIE_SECURE": "false",  # served over plain HTTP
            "CHROME_PATH": chrome,
        }
        flask_command(env, "db", "upgrade")
        flask_command(env, "demo", "load")
        flask_command(env, "static", "build")
        pages, sign_in = prepare(url)
        server = Server(WORKERS, env, reports / "gunicorn.log")
        try:
            server.wait_until_healthy()
            print(f"== Lighthouse on {', '.join(page.path for page in pages)}", flush=True)
            job = {
                "base": server.base_url,
                "reports": str(reports),
                "runs": args.runs,
                "pages": [
                    {"key": p.key, "path": p.path, **({"signIn": sign_in} if p.signed_in else {})}
                    for p in pages
                ],
            }
            subprocess.run(
                ["node", str(MEASURE)], input=json.dumps(job), text=True, env=env, check=True
            )
        finally:
            server.stop()
    figures = {page.path: median_run(reports, page.key, args.runs) for page in pages}
    (reports / "figures.json").write_text(json.dumps(figures, indent=2))
    missed = print_report(figures)
    print(f"\nReports: {reports.relative_to(ROOT)}/")
    if missed and not args.no_fail:
        sys.exit(1)


def prepare(database_url: str) -> tuple[list[Page], dict]:
    """The pages this app has, and a party's case number and new access code."""
    app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY=SECRET_KEY)
    with app.app_context():
        served = {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}
        pages = [page for page in PAGES if page.path in served]
        number, code = give_access_code()
    return pages, {"number": number, "code": code}


def give_access_code() -> tuple[str, str]:
    """A new access code, given as staff give one, to the party with the fullest page: one
    holding an integrity certificate (agreement, obligations, certificate and the rating
    form), else the newest case's first party."""
    holder = select(IntegrityRecord.party_id).join(
        Certificate, Certificate.record_id == IntegrityRecord.id
    )
    party_id = db.session.scalar(holder.order_by(Certificate.id).limit(1))
    if party_id is None:
        party_id = db.session.scalar(select(Party.id).order_by(Party.id.desc()).limit(1))
    party = db.session.get(Party, party_id)
    case = db.session.get(Case, party.case_id)
    code = wf.regenerate_access_code(case, party, wf.Actor.for_user(staff_user()))
    db.session.commit()
    return case.number, code


def median_run(reports: Path, key: str, runs: int) -> dict:
    """The figures of the run with the median performance score (then first contentful paint)."""
    figures = sorted(
        (run_figures(reports, f"{key}-{run}") for run in range(1, runs + 1)),
        key=lambda f: (f["performance"], -f["fcp_s"]),
    )
    return figures[len(figures) // 2]


def run_figures(reports: Path, run: str) -> dict:
    first = json.loads((reports / f"{run}-first.json").read_text())
    repeat = json.loads((reports / f"{run}-repeat.json").read_text())
    audits = first["audits"]
    return {
        "performance": first["categories"]["performance"]["score"],
        "accessibility": first["categories"]["accessibility"]["score"],
        "best_practices": first["categories"]["best-practices"]["score"],
        "fcp_s": audits["first-contentful-paint"]["numericValue"] / 1000,
        "lcp_s": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "first_kib": audits["total-byte-weight"]["numericValue"] / 1024,
        "first_requests": len(_requests(first)),
        "repeat_static": len([r for r in _requests(repeat) if _is_static(r) and r["transferSize"]]),
        "repeat_kib": repeat["audits"]["total-byte-weight"]["numericValue"] / 1024,
        "report": run,
    }


def _requests(lhr: dict) -> list[dict]:
    return lhr["audits"]["network-requests"]["details"]["items"]


def _is_static(request: dict) -> bool:
    # A request served from the browser's cache transfers nothing.
    return urlsplit(request["url"]).path.startswith("/static/")


def print_report(figures: dict) -> bool:
    """Prints the figures of each page with a mark per target; whether any target is missed."""
    missed = False
    columns = ("page", "perf.", "FCP", "LCP", "TBT", "CLS", "first visit", "repeat visit",
               "a11y", "best pr.")  # fmt: skip
    print("\n" + "  ".join(f"{c:<{w}}" for c, w in zip(columns, WIDTHS, strict=True)))
    for path, f in figures.items():
        marks = {t.key: "✓" if t.passes(f[t.key]) else "✗" for t in TARGETS}
        missed |= "✗" in marks.values()
        cells = (
            path,
            f"{f['performance']:.2f} {marks['performance']}",
            f"{f['fcp_s']:.1f} s {marks['fcp_s']}",
            f"{f['lcp_s']:.1f} s",
            f"{f['tbt_ms']:.0f} ms",
            f"{f['cls']:.2f}",
            f"{f['first_kib']:.0f} KiB, {f['first_requests']} req. {marks['first_kib']}",
            f"{f['repeat_static']} static req., {f['repeat_kib']:.0f} KiB {marks['repeat_static']}",
            f"{f['accessibility']:.2f} {marks['accessibility']}",
            f"{f['best_practices']:.2f} {marks['best_practices']}",
        )
        print("  ".join(f"{c:<{w}}" for c, w in zip(cells, WIDTHS, strict=True)))
    print("\nTargets: " + "; ".join(f"{t.label} {t.shown}" for t in TARGETS))
    return missed


WIDTHS = (14, 7, 8, 6, 6, 5, 22, 27, 7, 8)

if __name__ == "__main__":
    main()

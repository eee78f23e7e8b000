"""The audit log (issue 18), timed in the app on a generated database:

    DATABASE_URL=sqlite:////path/to/bench.sqlite3 .venv/bin/python -m bench.audit [--runs 7]

Signs in as the demo centre's administrator and asks for GET /admin/audit/ through the whole app
(the feed's one statement, the users of the filter, the page's rendering), one request at a
time in this process: the first page, the page 50 pages deep, and each filter (a common and a
rare case action, sign-ins, a mediator, a case number, one day). Prints the median of `--runs`
requests after one to warm up, with the rows each showed. Nothing is written to the database
but the sign-ins.
"""

import argparse
import os
import statistics
import time

from sqlalchemy import func, select

from bench.fixtures import bench_app, demo_centre
from mediation.auth.models import User
from mediation.cases.models import Case, CaseEvent
from mediation.demo.data import DEMO_LOGINS, DEMO_PASSWORD
from mediation.directory.calendar import local_date
from mediation.extensions import db

ADMIN_LOGIN = next(login.username for login in DEMO_LOGINS if login.role == "admin")
MEDIATOR_LOGIN = next(login.username for login in DEMO_LOGINS if login.role == "mediator")
OLDER = 'href="/admin/audit/?after='


def filters() -> list[tuple[str, dict]]:
    """(what it is, the query) for each filter, from the demo centre's data."""
    centre = demo_centre()
    number = db.session.scalar(
        select(Case.number).where(Case.centre_id == centre.id).order_by(Case.id.desc()).limit(1)
    )
    mediator = db.session.scalar(select(User.id).where(User.username == MEDIATOR_LOGIN))
    last = db.session.scalar(select(func.max(CaseEvent.at)))
    day = local_date(last, centre).isoformat()
    return [
        ("action: agreement (common)", {"action": "event:agree"}),
        ("action: withdrawn (rare)", {"action": "event:withdraw"}),
        ("action: signed in", {"action": "audit:login.success"}),
        ("user: a mediator", {"user": mediator}),
        ("case number", {"case": number}),
        ("one day", {"from": day, "to": day}),
    ]


def timed(client, url: str, query: dict | None, runs: int) -> tuple[float, str]:
    client.get(url, query_string=query)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, query_string=query)
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    return statistics.median(seconds) * 1000, html


def rows(html: str) -> int:
    return html.split("<tbody>", 1)[1].count("<tr>")


def fifty_pages_deep(client) -> str:
    url = "/admin/audit/"
    for _ in range(50):
        html = client.get(url).get_data(as_text=True)
        url = "/admin/audit/?after=" + html.split(OLDER)[1].split('"')[0].replace("&amp;", "&")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="requests timed per page")
    runs = parser.parse_args().runs
    app = bench_app(os.environ["DATABASE_URL"])
    app.config.update(WTF_CSRF_ENABLED=False, SESSION_COOKIE_SECURE=False)
    with app.app_context():
        asked = filters()
        events = db.session.scalar(select(func.count()).select_from(CaseEvent))
        engine = db.engine.dialect.name
        db.session.remove()
    client = app.test_client()
    signed_in = client.post("/login", data={"username": ADMIN_LOGIN, "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302, "the demo administrator could not sign in"
    print(f"== the audit log on {engine}, {events:,} case events, median of {runs} requests")
    ms, html = timed(client, "/admin/audit/", None, runs)
    print(f"{'first page':<30} {ms:7.1f} ms  {rows(html)} rows")
    ms, html = timed(client, fifty_pages_deep(client), None, runs)
    print(f"{'50 pages deep':<30} {ms:7.1f} ms  {rows(html)} rows")
    for label, query in asked:
        ms, html = timed(client, "/admin/audit/", query, runs)
        print(f"{label:<30} {ms:7.1f} ms  {rows(html)} rows")


if __name__ == "__main__":
    main()

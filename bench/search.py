"""The case list's search (issue 19), timed in the app on a generated database:

    DATABASE_URL=sqlite:////path/to/bench.sqlite3 .venv/bin/python -m bench.search [--runs 7]

Signs in as the demo centre's staff and asks for GET /cases/?q=… through the whole app (the
search's statements, the capped count, the page's rendering), one request at a time in this
process, for texts of every kind taken from the database: a case's sequence number, its year and
number, its whole number typed without brackets, a mobile, a resident ID and a busy company's
credit code, a common and a rare surname, a given name (two characters), a whole name and a word
of many companies' names. Prints the median of `--runs` requests after one to warm up, with the
unfiltered first page of the list for comparison, and how many cases each search found (up to
the cap). Nothing is written to the database but the sign-in.
"""

import argparse
import os
import re
import statistics
import time

from sqlalchemy import func, select

from bench.fixtures import bench_app, demo_centre
from mediation.cases.models import Case, Party
from mediation.demo.data import DEMO_PASSWORD, STAFF_LOGIN
from mediation.extensions import db

COUNT = re.compile(r'id="search-count"[^>]*>\s*(.*?)\s*</p>', re.S)


def searches() -> list[tuple[str, str]]:
    """(what it is, the text typed) for each kind of search, from the demo centre's data."""
    centre = demo_centre()
    number, year, seq = db.session.execute(
        select(Case.number, Case.year, Case.seq)
        .where(Case.centre_id == centre.id)
        .order_by(Case.id.desc())
        .limit(1)
    ).one()
    persons = select(Party).where(Party.kind == "person")
    person = db.session.scalar(
        persons.where(Party.phone.is_not(None), Party.id_number.is_not(None))
    )
    initials = (
        select(func.substr(Party.name, 1, 1).label("initial"), func.count().label("parties"))
        .where(Party.kind == "person")
        .group_by("initial")
        .subquery()
    )
    common = db.session.scalar(select(initials.c.initial).order_by(initials.c.parties.desc()))
    rare = db.session.scalar(select(initials.c.initial).order_by(initials.c.parties))
    given = db.session.scalar(
        persons.where(func.length(Party.name) == 3).with_only_columns(Party.name)
    )
    busy_company = (
        select(Party.credit_code, func.count().label("parties"))
        .where(Party.credit_code.is_not(None))
        .group_by(Party.credit_code)
        .order_by(func.count().desc())
        .limit(1)
    )
    credit_code = db.session.execute(busy_company).first()[0]
    typed_number = number.replace("〔", " ").replace("〕", " ")
    return [
        ("sequence number", str(seq)),
        ("year and number", f"{year} {seq}"),
        ("whole number, no brackets", typed_number),
        ("mobile", person.phone),
        ("resident ID", person.id_number),
        ("credit code of a busy company", credit_code),
        ("common surname", common),
        ("rare surname", rare),
        ("given name (2 characters)", given[1:]),
        ("whole name (3 characters)", given),
        ("word of many companies", "物业服务"),
    ]


def timed(client, query: dict, runs: int) -> tuple[float, str]:
    client.get("/cases/", query_string=query)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get("/cases/", query_string=query)
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    count = COUNT.search(response.get_data(as_text=True))
    return statistics.median(seconds) * 1000, count.group(1) if count else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="requests timed per search")
    runs = parser.parse_args().runs
    app = bench_app(os.environ["DATABASE_URL"])
    app.config.update(WTF_CSRF_ENABLED=False, SESSION_COOKIE_SECURE=False)
    with app.app_context():
        typed = searches()
        db.session.remove()
    client = app.test_client()
    signed_in = client.post("/login", data={"username": STAFF_LOGIN, "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302, "the demo staff could not sign in"
    engine = make_engine_name(app)
    print(f"== the case list's search on {engine}, median of {runs} requests")
    baseline, _count = timed(client, {}, runs)
    print(f"{'list, first page, no search':<34} {'':<24} {baseline:7.1f} ms")
    for label, q in typed:
        ms, count = timed(client, {"q": q}, runs)
        print(f"{label:<34} {q:<24} {ms:7.1f} ms  {count}")


def make_engine_name(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


if __name__ == "__main__":
    main()

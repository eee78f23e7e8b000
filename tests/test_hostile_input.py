"""No input makes a server error: every query parameter a page reads and every field of every
form on the pages, fed hostile values (dates and ids out of range, overlong text, NUL, bytes
that are not UTF-8), answers with a page, a 400 or the form's message, never a 5xx."""

import io
import json
from contextlib import contextmanager
from datetime import date
from html.parser import HTMLParser
from urllib.parse import quote_from_bytes, urlsplit

import pytest
from werkzeug.datastructures import ImmutableMultiDict

from mediation import clock
from mediation.api.clients import add_client
from mediation.applications import decisions, evidence
from mediation.applications.models import SubmittedFile
from mediation.auth.accounts import user_by_username
from mediation.cases import workflow as wf
from mediation.cases.actions import ACTION_FORMS
from mediation.directory import admin as directory
from mediation.directory.models import Centre
from mediation.documents import dossier
from mediation.extensions import db as _db
from mediation.integrity.models import Certificate
from mediation.jobs.models import BackgroundJob, JobFile
from mediation.ledger.models import LedgerImport
from mediation.notify.models import OutboxMessage
from tests.case_factory import build_case, centre_for
from tests.conftest import PASSWORD
from tests.test_case_pages import INTAKE
from tests.test_documents import PNG

# Values for every query parameter (as bytes: some are not UTF-8).
HOSTILE = [
    b"",
    b"-1",
    b"2147483648",
    b"9" * 25,
    b"0001-01-01",
    b"9999-12-31",
    b"0001-01",
    b"2026-01-01T00:00:00+00:00_" + b"9" * 23,
    b"9999-12-31T23:59:59-23:59_1",
    b"x" * 20_000,
    b"a\x00b",
    b"\xff\xfe",
    b"' OR 1=1 --",
]
# The same, fewer, for every field of every form (there are many more fields than parameters).
HOSTILE_FIELDS = [
    b"",
    b"-1",
    b"2147483648",
    b"9" * 25,
    b"0001-01-01",
    b"9999-12-31",
    b"x" * 20_000,
    b"a\x00b",
    b"\xff\xfe",
]
# What no sweep posts: signing out would end the sweep.
NOT_POSTED = {"/logout"}
# Buttons that only add a row to the form and save nothing: the sweep presses the others.
ADDS_A_ROW = {"add_party", "add_obligation"}
# Forms whose empty fields would stop every post at the first check: filled in validly, so
# that each hostile value is the one thing wrong and reaches the database (the intake form
# without its one-time token: every post is a new registration).
VALID = {"/cases/new": {**INTAKE, "submission": ""}}
# The online application, filled in validly (its centre is the world's, set by the sweep).
APPLICATION = {
    "applicant-kind": "person",
    "applicant-name": "张三",
    "applicant-id_number": "11010519491231002X",
    "applicant-phone": "13812345678",
    "respondents-0-kind": "person",
    "respondents-0-name": "李四",
    "category": "family",
    "summary": "纠纷",
    "claims": "请求",
}


class _ReadKeys(ImmutableMultiDict):
    """Query and form data that notes every name a view asks for."""

    names: set[str] = set()

    def __getitem__(self, key):
        self.names.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):
        self.names.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self.names.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self.names.add(key)
        return super().__contains__(key)


@contextmanager
def noting_names_read(app):
    class NotingRequest(app.request_class):
        parameter_storage_class = _ReadKeys

    plain, app.request_class = app.request_class, NotingRequest
    try:
        yield
    finally:
        app.request_class = plain


class _Forms(HTMLParser):
    """The forms of a page: action, method and each field's name and current value."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": attrs.get("action") or "",
                    "method": (attrs.get("method") or "get").lower(),
                    "fields": {},
                }
            )
        elif not self.forms or "name" not in attrs:
            return
        elif tag == "input" and attrs.get("type") not in ("submit", "file", "button"):
            checkable = attrs.get("type") in ("checkbox", "radio")
            if not checkable or "checked" in attrs:
                self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""
            else:
                self.forms[-1]["fields"].setdefault(attrs["name"], "")
        elif tag == "button" and attrs["name"] not in ADDS_A_ROW:
            self.forms[-1]["fields"].setdefault(attrs["name"], attrs.get("value") or "")
        elif tag in ("select", "textarea"):
            self._select = attrs["name"] if tag == "select" else None
            self.forms[-1]["fields"].setdefault(attrs["name"], "")
        if tag == "option" and self._select and self.forms:
            fields = self.forms[-1]["fields"]
            if "selected" in attrs or not fields.get(self._select):
                fields[self._select] = attrs.get("value", "")


def forms_of(page: str) -> list[dict]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def encoded(fields: dict[str, bytes | str]) -> bytes:
    return b"&".join(
        quote_from_bytes(name.encode()).encode()
        + b"="
        + quote_from_bytes(value if isinstance(value, bytes) else value.encode()).encode()
        for name, value in fields.items()
    )


class Sweep:
    """Requests that must not answer 5xx; what did is collected, not raised at once."""

    def __init__(self, client):
        self.client = client
        self.errors: list[str] = []

    def check(self, label: str, send):
        try:
            response = send()
        except Exception as error:  # the test client propagates the view's exception
            first_line = str(error).splitlines()[0][:160]
            self.errors.append(f"{label}: {type(error).__name__}: {first_line}")
            return None

        response.get_data()  # a file's body is read and its file closed
        response.close()
        if response.status_code >= 500:
            self.errors.append(f"{label}: HTTP {response.status_code}")
        return response

    def get(self, path: str, query: bytes = b""):
        send = lambda: self.client.get(path, query_string=query.decode("ascii"))  # noqa: E731
        return self.check(f"GET {path}?{query[:80]!r}", send)

    def post(self, path: str, body: bytes, label: str):
        return self.check(
            f"POST {path} {label}",
            lambda: self.client.post(
                path, data=body, content_type="application/x-www-form-urlencoded"
            ),
        )

    def query_parameters(self, app, path: str) -> list[dict]:
        """Each parameter the page reads, and each field of its GET forms, fed every value;
        returns the page's POST forms."""
        _ReadKeys.names = set()
        with noting_names_read(app):
            response = self.get(path)
        if response is None or response.status_code != 200 or response.mimetype != "text/html":
            return []
        page = response.get_data(as_text=True)
        forms = forms_of(page)
        names = set(_ReadKeys.names)
        for form in forms:
            if form["method"] == "get":
                names.update(form["fields"])
        for name in sorted(names):
            for value in HOSTILE:
                self.get(path, encoded({name: value}))
        return [form for form in forms if form["method"] == "post"]

    def form_fields(self, path: str, form: dict) -> None:
        target = urlsplit(form["action"]).path or path
        if target in NOT_POSTED:
            return
        fields = {**form["fields"], **VALID.get(target, {})}
        self.post(target, encoded(fields), "as shown")
        for name in fields:
            if name == "csrf_token":
                continue
            for value in HOSTILE_FIELDS:
                body = encoded({**fields, name: value})
                self.post(target, body, f"{name}={value[:20]!r}")


@pytest.fixture
def world(app, tmp_path):
    """A centre with a case in each state, a certificate, a file in the dossier, a routing
    rule, a calendar day, a ledger import and a notice: something for every page to show.
    Gives every route's URLs (`paths_of`) and a party's way into the portal. Made in an app
    context of its own, gone before the requests (they would share its `g`)."""
    app.config["DOSSIER_FOLDER"] = str(tmp_path / "dossier")
    with app.app_context():
        made = made_world(app)
    yield made
    app.config["DOSSIER_FOLDER"] = None


def made_world(app):
    cases = {state: build_case(state) for state in ("registered", "assigned", "mediating")}
    cases["agreed"] = build_case("agreed")
    cases["fulfilled"] = build_case("fulfilled")
    cases["transferred"] = build_case("transferred", transfer_reason="party_request")
    staff = user_by_username("staff-330106")
    centre_for("330105")  # somewhere to move a case to: the move's form is shown and swept
    case = cases["agreed"]
    attachment = dossier.add_file(case, io.BytesIO(PNG), "证据.png", "evidence", staff)
    centre = case.centre
    application, submission = applied_and_submitted(centre, cases["mediating"])
    rule = directory.add_routing_rule(centre.id, "labour", "", case.organization_id, 1)
    directory.add_calendar_day(centre.id, date(2026, 10, 8), "holiday", "国庆")
    ledger = LedgerImport(centre_id=centre.id, state="done", started_at=clock.now())
    _db.session.add(ledger)
    api_client, _token = add_client("法院系统", centre, ["cases:read"])
    job = BackgroundJob(kind="audit_export", state="done", user_id=staff.id, created_at=clock.now())
    _db.session.add(job)
    _db.session.flush()
    _db.session.add(JobFile(job_id=job.id, filename="audit.csv", mimetype="text/csv", data=b"x"))
    _db.session.commit()
    ids = {
        "case_id": case.id,
        "party_id": case.parties[0].id,
        "session_id": case.sessions[0].id,
        "obligation_id": case.agreement.obligations[0].id,
        "attachment_id": attachment.id,
        "certificate_id": _db.session.scalar(_db.select(Certificate.id)),
        "centre_id": centre.id,
        "organization_id": case.organization_id,
        "mediator_id": case.mediator_id,
        "rule_id": rule.id,
        "message_id": _db.session.scalar(_db.select(OutboxMessage.id)),
        "user_id": staff.id,
        "day": "2026-10-08",
        "import_id": ledger.id,
        "application_id": application.id,
        "file_id": _db.session.scalar(
            _db.select(SubmittedFile.id).filter_by(application_id=application.id)
        ),
        "submission_id": submission.id,
        "client_id": api_client.id,
        "number": case.number,
        "month": "2026-11",
        "job_id": job.id,
    }
    # The obligor, who may see the certificate page of the portal too.
    party = (case.number, case.access_codes[case.parties[1].id])
    paths = paths_of(app, ids, cases, wf.Actor.for_user(staff))
    _db.session.commit()  # outside a request a transaction takes SQLite's write lock
    _db.session.remove()
    return paths, party


def applied_and_submitted(centre, case):
    """A pending online application with a file, and a file a party sent to `case`."""
    parties = [
        wf.PartyData("applicant", "person", "张三", "11010519491231002X", None, "13812345678"),
        wf.PartyData("respondent", "person", "李四"),
    ]
    data = decisions.ApplicationData(centre, parties, "family", "", "纠纷", "请求")
    upload = [(io.BytesIO(PNG), "证据.png")]
    application = decisions.submit_application(data, upload, "cli", "world").application
    submission = evidence.submit_evidence(case, case.parties[0], io.BytesIO(PNG + b"1"), "补.png")
    return application, submission


def paths_of(app, ids, cases, staff) -> dict[str, list[str]]:
    """Every route's URLs with the world's ids; an action's form on a case whose state
    allows it. A route whose URL cannot be made is left out (the first test finds it)."""
    paths: dict[str, list[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        if "action" in rule.arguments:
            paths[rule.endpoint] = [
                f"/cases/{case_for(cases, action, staff).id}/act/{action}"
                for action in ACTION_FORMS
            ]
            continue
        values = {name: ids[name] for name in rule.arguments if name in ids}
        if rule.endpoint in ("documents.transfer_letter", "documents.handed_over"):
            values["case_id"] = cases["transferred"].id
        if "submission_id" in rule.arguments:
            values["case_id"] = cases["mediating"].id
        if rule.arguments - values.keys():
            continue
        paths[rule.endpoint] = [rule.build(values)[1]]
    return paths


def case_for(cases, action, staff):
    allowing = (case for case in cases.values() if action in wf.allowed_actions(case, staff))
    return next(allowing, cases["registered"])


def test_every_route_is_swept(app, world):
    paths, _party = world
    unswept = {rule.endpoint for rule in app.url_map.iter_rules()} - paths.keys() - {"static"}
    assert unswept == set()


def sign_in(client, username):
    client.post_form("/login", {"username": username, "password": PASSWORD})


@pytest.mark.parametrize("username", ["admin-global", "staff-330106", "mediator-330106"])
def test_no_parameter_or_field_makes_a_server_error(app, client, make_user, world, username):
    paths, _party = world
    if username == "admin-global":
        make_user("admin", None, username=username)
    sign_in(client, username)
    sweep = Sweep(client)
    posted = set()
    for endpoint, urls in sorted(paths.items()):
        for path in urls:
            if endpoint.startswith("portal.") or path in NOT_POSTED:
                continue
            for form in sweep.query_parameters(app, path):
                key = (form["action"], tuple(sorted(form["fields"])))
                if key not in posted:
                    posted.add(key)
                    sweep.form_fields(path, form)
    assert not sweep.errors, "\n".join(sweep.errors)


def test_no_portal_parameter_or_field_makes_a_server_error(app, client, world):
    _paths, (number, code) = world
    sweep = Sweep(client)
    with app.app_context():
        centre_id = _db.session.scalar(_db.select(Centre.id))
    VALID["/apply"] = {**APPLICATION, "centre": str(centre_id), "submission": ""}
    for path in ("/status", "/verify", "/honour", "/apply", "/apply/status"):
        for form in sweep.query_parameters(app, path):
            sweep.form_fields(path, form)
    signed_in = client.post_form("/status", {"case_number": number, "access_code": code})
    assert signed_in.headers["Location"] == "/status/case"
    for path in (
        "/status/case",
        "/status/court",
        "/status/certificate",
        "/status/rating",
        "/status/evidence",
    ):
        for form in sweep.query_parameters(app, path):
            sweep.form_fields(path, form)
    assert not sweep.errors, "\n".join(sweep.errors)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("ledger.csv", b"\xff\xfe\x00r\x00e\x00f\x00\n\x00"),
        ("ledger.csv", b"ref,registered_on\n\x00\x00,2026-01-01\n"),
        ("ledger.xlsx", b"PK\x03\x04" + b"\x00" * 200),
        ("ledger.xlsx", PNG),
        ("empty.csv", b""),
    ],
)
def test_no_ledger_file_makes_a_server_error(app, client, login, name, content):
    login("admin")
    sweep = Sweep(client)
    upload = {"file": (io.BytesIO(content), name), "dry_run": "y"}
    response = sweep.check(f"upload {name}", lambda: client.post_form("/admin/ledger/", upload))
    assert not sweep.errors, "\n".join(sweep.errors)
    assert response.status_code in (200, 302, 400)


def test_a_header_cell_past_the_csv_limit_is_a_plain_message(client, login):
    login("admin")
    content = b"ref," + b"x" * 140_000 + b"\r\n1,2\r\n"
    upload = {"file": (io.BytesIO(content), "ledger.csv"), "dry_run": "y"}
    page = client.post_form("/admin/ledger/", upload).get_data(as_text=True)
    assert "文件第 1 行无法按 CSV 读取" in page


# Values for the API's JSON fields (JSON cannot carry bytes that are not UTF-8: those go as
# whole bodies below).
HOSTILE_JSON = [
    "",
    "-1",
    -1,
    2147483648,
    10**25,
    1e308,
    "0001-01-01",
    "9999-12-31",
    "9999-12-31T23:59:59-23:59",
    "x" * 20_000,
    "a\x00b",
    None,
    [],
    {},
    True,
]
HOSTILE_BODIES = [b"", b"\xff\xfe", b"{", b"null", b"[]", b"[" * 5_000 + b"]" * 5_000, b"1e99999"]


def test_no_api_parameter_or_body_makes_a_server_error(app, client, make_api_client):
    """The integration API, called with a valid token, fed the same hostile values in its
    query, its paths, its headers and every field of its bodies: a problem, never a 5xx."""
    from tests.test_api import REFERRAL

    _id, headers = make_api_client()
    with app.app_context():  # gone before the requests (they would share its session)
        number = build_case("transferred", transfer_reason="party_request").number
        _db.session.commit()
        _db.session.remove()
    sweep = Sweep(client)

    def get(path, query=b""):
        label = f"GET {path[:60]}?{query[:60]!r}"
        send = lambda: client.get(path, query_string=query.decode("ascii"), headers=headers)  # noqa: E731
        sweep.check(label, send)

    def post(path, label, body: bytes, key="k"):
        all_headers = {**headers, "Idempotency-Key": key, "Content-Type": "application/json"}
        send = lambda: client.post(path, data=body, headers=all_headers)  # noqa: E731
        sweep.check(f"POST {path[:60]} {label}", send)

    for name in ("updated_since", "cursor", "limit"):
        for value in HOSTILE:
            get("/api/v1/cases", encoded({name: value}))
    for value in HOSTILE:
        if value:
            get("/api/v1/cases/" + quote_from_bytes(value))
            get("/api/v1/stats/" + quote_from_bytes(value))
    feedback = f"/api/v1/cases/{quote_from_bytes(number.encode())}/court-feedback"
    for path, body in (
        ("/api/v1/cases", REFERRAL),
        (feedback, {"filing_number": "（2026）浙01民初1号"}),
    ):
        fields = [*body, "confirmed_on", "confirmation_court", "unknown"]
        for raw in HOSTILE_BODIES:
            post(path, f"body={raw[:20]!r}", raw)
        for name in fields:
            for n, value in enumerate(HOSTILE_JSON):
                changed = json.dumps({**body, name: value}).encode()
                post(path, f"{name}={str(value)[:20]!r}", changed, key=f"{name}-{n}")
        if path == "/api/v1/cases":
            for name in REFERRAL["parties"][0]:
                for n, value in enumerate(HOSTILE_JSON):
                    party = {**REFERRAL["parties"][0], name: value}
                    changed = {**body, "parties": [party, REFERRAL["parties"][1]]}
                    post(path, f"parties.{name}", json.dumps(changed).encode(), f"p{name}{n}")
            for key in ("x" * 20_000, "a\tb", "é"):
                post(path, f"key={key[:20]!r}", json.dumps(body).encode(), key=key)
    assert not sweep.errors, "\n".join(sweep.errors)


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2026-02-30"])
def test_a_date_filter_that_is_no_date_is_said_beside_its_field(client, login, value):
    """The issue's crafted dates: the list answers, keeps the value as typed and says
    beside the field that it is not filtered by it."""
    login("staff")
    for name, field_id in (("registered_to", "f-to"), ("registered_from", "f-from")):
        response = client.get("/cases/", query_string={name: value})
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'id="{field_id}-error">不是1900年至2999年之间的日期，未按此筛选。' in page
        assert f'value="{value}"' in page


def test_a_statistics_month_that_is_no_month_is_said_beside_its_field(client, login):
    login("admin")
    response = client.get("/admin/stats/", query_string={"month": "0001-01"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="month-error">不是1900年至2999年之间的月份，所示为本月数据。' in page
    assert 'value="0001-01"' in page
    assert "month-error" not in client.get("/admin/stats/?month=2026-11").get_data(as_text=True)

"""The API's endpoints. Each is validated by SpecTree against the pydantic models of
schemas.py, and the OpenAPI document is generated from the same decorators, so the
document cannot drift from what the handlers accept."""

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, render_template, request
from flask import Response as FlaskResponse
from spectree import Response, SpecTree
from spectree.models import SecurityScheme, SecuritySchemeData
from sqlalchemy import case as sql_case
from sqlalchemy import literal, update

from mediation import clock
from mediation.api import schemas
from mediation.api.clients import client_with_token
from mediation.api.models import ApiClient, IdempotencyKey
from mediation.api.problems import ApiProblem, field_errors
from mediation.api.queries import START, Position, case_json, case_numbered, changes
from mediation.audit.log import client_address, record
from mediation.auth.throttle import Throttle
from mediation.cases.models import Case
from mediation.cases.workflow import (
    Actor,
    IntakeData,
    PartyData,
    WorkflowError,
    confirm_agreement,
    record_court_filing,
    register_case,
)
from mediation.database import UTCDateTime
from mediation.extensions import db
from mediation.stats.queries import parse_month
from mediation.stats.snapshots import published_stats
from mediation.web.language import gettext as _

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _refuse_invalid(req, resp, error, instance, model_adapter) -> None:
    """SpecTree's hook before a view: a request that its models refuse is a 422 problem."""
    if error is not None:
        raise ApiProblem(
            422,
            _("The request has invalid fields."),
            kind="invalid",
            errors=field_errors(error),
        )


spec = SpecTree(
    "flask",
    mode="strict",
    annotations=False,
    page_templates={},
    title="Mediation centre integration API (诉调对接)",
    version="1.0",
    description="For courts, 12345 hotlines and grid systems: referrals, case status, "
    "a feed of changes, court feedback and monthly statistics.",
    security_schemes=[
        SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer"))
    ],
    security={"bearer": []},
    before=_refuse_invalid,
    validation_error_model=schemas.Problem,
    # Components named as the models are (their names are unique in schemas.py).
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
)

PROBLEM = schemas.Problem
REFUSALS = {"HTTP_401": PROBLEM, "HTTP_403": PROBLEM, "HTTP_429": PROBLEM}


# --- who calls ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    id: int
    name: str
    centre_id: int


RATE_WINDOW = timedelta(minutes=1)


def _seconds_to_wait(client: ApiClient) -> int:
    """0 while the client may call; else the seconds until its window of a minute ends."""
    start = client.window_started_at
    if start is None or client.window_calls < current_app.config["API_RATE_LIMIT"]:
        return 0
    left = (start + RATE_WINDOW - clock.now()).total_seconds()
    return math.ceil(left) if left > 0 else 0


def api_call(scope: str):
    """Bearer authentication (401), the scope (403) and the client's rate (429), before the
    request is validated; the client is `g.api_client`."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            g.api_caller = None
            g.api_client = client = _client_of_request()
            # Plain values for the audit after the view: its rollback expires the client.
            g.api_caller = Caller(client.id, client.name, client.centre_id)
            if scope not in client.scope_list:
                raise ApiProblem(
                    403, _("This token lacks the scope %(scope)s.", scope=scope), kind="scope"
                )
            wait = _seconds_to_wait(client)
            if wait:
                raise ApiProblem(
                    429,
                    _("Too many requests: try again in %(seconds)d seconds.", seconds=wait),
                    headers={"Retry-After": str(wait)},
                )
            return view(*args, **kwargs)

        # The reference tells each endpoint's scope.
        wrapped.__doc__ = f"{view.__doc__.rstrip()}\n\n    Scope: {scope}.\n"
        return wrapped

    return decorator


def _client_of_request() -> ApiClient:
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    client = client_with_token(token.strip()) if scheme.lower() == "bearer" else None
    if client is None:
        _refuse(bool(token.strip()))
    return client


def refusals() -> Throttle:
    """Calls without a valid token per client address (API_MAX_FAILURES_PER_CLIENT in
    API_LOCK_MINUTES). A valid token is never refused for them: a neighbour behind the same
    address could otherwise stop an integration."""
    config = current_app.config
    return Throttle(
        "api-client",
        config["API_MAX_FAILURES_PER_CLIENT"],
        timedelta(minutes=config["API_LOCK_MINUTES"]),
    )


def _refuse(token_given: bool) -> None:
    """A call without a valid token: audited and counted (401), or, past the address's limit,
    refused unaudited (429), so that a flood of bad tokens cannot flood the audit log."""
    address, throttle = client_address(), refusals()
    wait = throttle.retry_after(address)
    if wait:
        raise ApiProblem(
            429,
            _(
                "Too many calls without a valid token: try again in %(seconds)d seconds.",
                seconds=wait,
            ),
            headers={"Retry-After": str(wait)},
        )
    # The reads end first: on SQLite a reading transaction that others wrote past cannot write.
    db.session.rollback()
    throttle.hit(address)
    record("api.refused", target=request.path[:128], method=request.method, token=token_given)
    db.session.commit()
    raise ApiProblem(
        401,
        _("Give a valid token as Authorization: Bearer TOKEN."),
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


@bp.after_request
def _audit_call(response):
    """Every call of a known client is audited and counted for its rate, in a transaction of
    its own after the view's (whose reads end first, so SQLite takes the write lock anew)."""
    client = g.get("api_caller")
    if client is None:
        return response
    db.session.rollback()
    now = clock.now()
    counted = {}
    if response.status_code != 429:
        # One statement, so that calls at the same time are all counted.
        current = ApiClient.window_started_at > now - RATE_WINDOW
        counted = {
            "window_calls": sql_case((current, ApiClient.window_calls + 1), else_=1),
            "window_started_at": sql_case(
                (current, ApiClient.window_started_at), else_=literal(now, UTCDateTime())
            ),
        }
    db.session.execute(
        update(ApiClient)
        .where(ApiClient.id == client.id)
        .values(last_used_at=now, **counted)
        .execution_options(synchronize_session=False)
    )
    record(
        "api.call",
        target=request.path[:128],
        centre_id=client.centre_id,
        api_client=client.name,
        method=request.method,
        status=response.status_code,
    )
    db.session.commit()
    return response


def _answer(model, data: dict, status: int = 200) -> FlaskResponse:
    """JSON of a response model (dates in ISO 8601, not Flask's HTTP dates)."""
    body = model.model_validate(data).model_dump_json()
    return FlaskResponse(body, status=status, mimetype="application/json")


def _json_body():
    """The validated JSON body; a body sent as a form is not one (SpecTree validates JSON)."""
    body = request.context.json
    if body is None:
        raise ApiProblem(
            422,
            _("Send the body as JSON (Content-Type: application/json)."),
            kind="invalid",
            errors=[{"field": "body", "message": _("Not JSON.")}],
        )
    return body


def _actor() -> Actor:
    client = g.api_client
    return Actor.api_client(client.name, client.centre_id)


def _case_or_404(number: str) -> Case:
    case = case_numbered(g.api_client.centre_id, number)
    if case is None:
        raise ApiProblem(404, _("There is no case with this number at your centre."))
    return case


def _workflow_problem(error: WorkflowError) -> ApiProblem:
    """A move the workflow refuses: a field it names is bad input (422), else the case's
    state does not allow it (409)."""
    if error.field:
        return ApiProblem(
            422,
            str(error),
            kind="invalid",
            errors=[{"field": error.field, "message": str(error)}],
        )
    return ApiProblem(409, str(error), kind="state")


# --- endpoints ------------------------------------------------------------------------------


@bp.post("/cases")
@api_call("cases:write")
@spec.validate(
    json=schemas.Referral,
    headers=schemas.IdempotencyHeaders,
    resp=Response(HTTP_201=schemas.CaseOut, HTTP_200=schemas.CaseOut, HTTP_409=PROBLEM, **REFUSALS),
    tags=["cases"],
    operation_id="registerReferral",
)
def register_referral():
    """Register a referral

    A court's pre-litigation referral, a 12345 hotline or grid report, registered through
    the workflow with the checks of intake. The Idempotency-Key makes a retry safe: the same
    key and body give the case made first (200), the same key with another body is a 409.
    """
    referral: schemas.Referral = _json_body()
    key = request.context.headers.idempotency_key
    client = g.api_client
    body_hash = _body_hash(referral)
    made = _case_of_key(client.id, key, body_hash)
    if made is not None:
        return _answer(schemas.CaseOut, case_json(made))
    try:
        registration = register_case(
            client.centre,
            _intake_data(referral),
            _actor(),
            intake_token=_intake_token(client.id, key),
        )
    except WorkflowError as error:
        db.session.rollback()
        raise _workflow_problem(error) from None
    if registration.is_repeat:
        # A request with this key committed its case while this one waited for the number.
        db.session.rollback()
        made = _case_of_key(client.id, key, body_hash)
        return _answer(schemas.CaseOut, case_json(made))
    db.session.add(
        IdempotencyKey(
            client_id=client.id, key=key, body_hash=body_hash, case_id=registration.case.id
        )
    )
    db.session.commit()
    case = case_numbered(client.centre_id, registration.case.number)
    return _answer(schemas.CaseOut, case_json(case), 201)


def _body_hash(referral: schemas.Referral) -> str:
    canonical = json.dumps(referral.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _intake_token(client_id: int, key: str) -> str:
    # The registration's own guard against a second case (cases.intake_token, 32 characters),
    # taken while the centre's number counter is locked: one case however many requests race.
    return hashlib.sha256(f"api:{client_id}:{key}".encode()).hexdigest()[:32]


def _case_of_key(client_id: int, key: str, body_hash: str) -> Case | None:
    """The case made with this key before, or None; a 409 when it came with another body."""
    stored = db.session.get(IdempotencyKey, (client_id, key))
    if stored is None:
        return None
    if stored.body_hash != body_hash:
        raise ApiProblem(
            409,
            _("This Idempotency-Key was used with another request body."),
            kind="idempotency",
        )
    case = db.session.get(Case, stored.case_id)
    return case_numbered(case.centre_id, case.number)


def _intake_data(referral: schemas.Referral) -> IntakeData:
    return IntakeData(
        channel_code=referral.channel,
        category_code=referral.category,
        parties=[
            PartyData(
                role=party.role,
                kind=party.kind,
                name=party.name.strip(),
                id_number=(party.id_number or "").strip().upper() or None,
                credit_code=(party.credit_code or "").strip().upper() or None,
                phone=(party.phone or "").strip() or None,
                address=party.address.strip(),
            )
            for party in referral.parties
        ],
        amount=referral.amount,
        summary=referral.summary.strip(),
        claims=referral.claims.strip(),
        street=referral.street.strip(),
        address=referral.address.strip(),
        people_involved=referral.people_involved,
        is_extreme=referral.is_extreme,
    )


@bp.get("/cases/<number>")
@api_call("cases:read")
@spec.validate(
    resp=Response(HTTP_200=schemas.CaseOut, HTTP_404=PROBLEM, **REFUSALS),
    tags=["cases"],
    operation_id="getCase",
    path_parameter_descriptions={"number": "The case number, typed as the portal accepts it"},
)
def get_case(number: str):
    """A case

    Its state, dates, organisation and mediator, outcome, transfer, agreement and
    obligations; ID numbers and phones masked. The number may be typed with any brackets or
    none, with spaces or full-width characters, as on the portal.
    """
    return _answer(schemas.CaseOut, case_json(_case_or_404(number)))


@bp.get("/cases")
@api_call("cases:read")
@spec.validate(
    query=schemas.FeedQuery,
    resp=Response(HTTP_200=schemas.Feed, **REFUSALS),
    tags=["cases"],
    operation_id="listChanges",
)
def list_changes():
    """Changes of cases, for synchronisation

    Every change of the centre's cases (each workflow event: registration, routing, sessions,
    agreement, transfer…) in the order it was committed, oldest first. Follow next_cursor
    until a page comes back empty, then poll with the last cursor: no change is missed and
    none is shown twice, also while cases are being changed.
    """
    query: schemas.FeedQuery = request.context.query
    try:
        after = Position.parse(query.cursor or START)
    except ValueError:
        raise ApiProblem(
            422,
            _("This cursor was not given by this feed."),
            kind="invalid",
            errors=[{"field": "cursor", "message": _("Not a cursor of this feed.")}],
        ) from None
    rows, position = changes(g.api_client.centre_id, after, query.updated_since, query.limit)
    feed = {
        "changes": [
            {
                "action": row.action,
                "at": row.at,
                "from_state": row.from_state,
                "to_state": row.to_state,
                "number": row.number,
                "state": row.state,
                "outcome": row.outcome,
            }
            for row in rows
        ],
        "next_cursor": str(position),
    }
    return _answer(schemas.Feed, feed)


@bp.post("/cases/<number>/court-feedback")
@api_call("cases:write")
@spec.validate(
    json=schemas.CourtFeedback,
    resp=Response(HTTP_200=schemas.CaseOut, HTTP_404=PROBLEM, HTTP_409=PROBLEM, **REFUSALS),
    tags=["cases"],
    operation_id="recordCourtFeedback",
    path_parameter_descriptions={"number": "The case number, typed as the portal accepts it"},
)
def court_feedback(number: str):
    """Record the court's feedback

    The court's filing number of a transferred case, and/or the judicial confirmation
    (司法确认) of an agreement: court, ruling number and date. Refused (409) in a state that
    does not allow it; nothing is written unless all of it is.
    """
    feedback: schemas.CourtFeedback = _json_body()
    _check_feedback(feedback)
    case = _case_or_404(number)
    try:
        if feedback.filing_number:
            record_court_filing(case, feedback.filing_number, _actor())
        if feedback.confirmation_ruling:
            confirm_agreement(
                case,
                feedback.confirmation_court,
                feedback.confirmation_ruling,
                feedback.confirmed_on,
                _actor(),
            )
    except WorkflowError as error:
        db.session.rollback()
        raise _workflow_problem(error) from None
    db.session.commit()
    return _answer(schemas.CaseOut, case_json(case_numbered(case.centre_id, case.number)))


def _check_feedback(feedback: schemas.CourtFeedback) -> None:
    confirmation = {
        "confirmation_court": feedback.confirmation_court,
        "confirmation_ruling": feedback.confirmation_ruling,
        "confirmed_on": feedback.confirmed_on,
    }
    given = [name for name, value in confirmation.items() if value]
    missing = [name for name in confirmation if name not in given]
    errors = []
    if given and missing:
        message = _("A judicial confirmation needs the court, the ruling number and the date.")
        errors = [{"field": name, "message": message} for name in missing]
    elif not given and not feedback.filing_number:
        message = _("Give a filing number or a judicial confirmation.")
        errors = [{"field": "filing_number", "message": message}]
    if errors:
        raise ApiProblem(422, errors[0]["message"], kind="invalid", errors=errors)


@bp.get("/stats/<month>")
@api_call("stats:read")
@spec.validate(
    resp=Response(HTTP_200=schemas.MonthStats, HTTP_404=PROBLEM, **REFUSALS),
    tags=["statistics"],
    operation_id="getMonthStats",
    path_parameter_descriptions={"month": "The month, YYYY-MM"},
)
def month_stats(month: str):
    """Monthly statistics

    SPEC section 4 for the client's centre, the same figures as `flask stats export
    --format json` (a snapshotted month from its snapshot).
    """
    try:
        parse_month(month)
    except ValueError:
        raise ApiProblem(404, _("Give the month as YYYY-MM.")) from None
    return _answer(schemas.MonthStats, published_stats(month, g.api_client.centre))


# --- the document and its reference -------------------------------------------------------


def openapi_document() -> dict:
    """The generated document, with problem responses typed as application/problem+json."""
    document = json.loads(json.dumps(spec.spec, default=str))
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                content = answer.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    answer["content"] = {"application/problem+json": content["application/json"]}
    return document


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi_document())


@bp.get("/docs")
def docs():
    """The reference, rendered on the server from the document: no script, no CDN."""
    return render_template("api/docs.html", document=openapi_document())

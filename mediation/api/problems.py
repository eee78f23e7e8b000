"""Errors of the API as RFC 9457 problem details (application/problem+json), never a page."""

from flask import Response, json, request
from werkzeug.http import HTTP_STATUS_CODES

from mediation.web.language import gettext as _

PROBLEM_TYPE = "application/problem+json"
API_PREFIX = "/api/"
# Each problem's type is a section of the reference at /api/v1/docs.
TYPE_BASE = "/api/v1/docs#problem-"


class ApiProblem(Exception):
    """A refusal with its HTTP status; `kind` names the section of the reference that
    explains it, `errors` are the field errors of a 422."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: list[dict] | None = None,
        headers: dict | None = None,
    ):
        super().__init__(detail)
        self.status, self.detail, self.kind = status, detail, kind
        self.errors, self.headers = errors, headers or {}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    kind: str | None = None,
    errors: list[dict] | None = None,
    headers: dict | None = None,
) -> Response:
    body = {
        "type": TYPE_BASE + kind if kind else "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or _default_detail(status),
    }
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_TYPE)
    response.headers.update(headers or {})
    return response


def from_problem(problem: ApiProblem) -> Response:
    return problem_response(
        problem.status,
        problem.detail,
        kind=problem.kind,
        errors=problem.errors,
        headers=problem.headers,
    )


def _default_detail(status: int) -> str:
    details = {
        400: _("The request could not be understood."),
        401: _("Give a valid token as Authorization: Bearer TOKEN."),
        403: _("The token may not do this."),
        404: _("There is no such resource, or it is not visible to this client."),
        405: _("This resource cannot be used with this method."),
        409: _("The request conflicts with what was saved already."),
        413: _("What you sent is too large."),
        429: _("Too many requests: wait before trying again."),
        500: _("Something went wrong. The error has been logged."),
        503: _("The database cannot be reached or cannot save now. Try again in a minute."),
    }
    return details.get(status, HTTP_STATUS_CODES.get(status, "Error"))


def field_errors(validation_error) -> list[dict]:
    """A pydantic ValidationError's errors as [{"field": "parties.0.phone", "message": …}]."""
    return [
        {
            "field": ".".join(str(part) for part in error["loc"]) or "body",
            "message": error["msg"],
        }
        for error in validation_error.errors(include_url=False, include_input=False)
    ]

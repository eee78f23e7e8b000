"""Error pages: a plain message in the user's language, never a stack trace or SQL."""

from contextlib import suppress

from flask import Flask, current_app, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import (
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
    SQLAlchemyError,
)
from werkzeug.exceptions import HTTPException, InternalServerError

from mediation.api.problems import ApiProblem, from_problem, is_api_request, problem_response
from mediation.extensions import db
from mediation.web.language import html_lang, locale_name
from mediation.web.language import lazy_gettext as _l

ERROR_TEXTS = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Please go back and try again."),
    ),
    403: (_l("Not allowed"), _l("Your account may not open this page.")),
    404: (_l("Not found"), _l("There is no such page, or it is not visible to you.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    409: (
        _l("Saved already"),
        _l(
            "This was saved already, perhaps by a second click, or the record changed "
            "meanwhile. Nothing was saved twice: go back and reload the page to see it."
        ),
    ),
    413: (_l("Too large"), _l("What you sent is too large.")),
    429: (_l("Too many attempts"), _l("Please wait a while before trying again.")),
    500: (_l("Something went wrong"), _l("The error has been logged. Please try again later.")),
    503: (
        _l("Temporarily unavailable"),
        _l("The database cannot be reached or cannot save now. Please try again in a minute."),
    ),
}

CSRF_TEXT = _l(
    "The form had expired or came from another site. Please reload the page and submit it again."
)


def _render(status: int, detail: str | None = None):
    if is_api_request():
        # The API answers with problem details, never a page (its own texts: no custom one).
        return problem_response(status if status in ERROR_TEXTS else 500)
    title, text = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    return render_template(
        "errors/error.html", status=status, title=title, text=text, detail=detail
    ), status


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(ApiProblem)
    def _api_problem(problem: ApiProblem):
        return from_problem(problem)

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return _render(400, CSRF_TEXT)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if is_api_request():
            headers = {k: v for k, v in error.get_headers() if k != "Content-Type"}
            return problem_response(error.code or 500, headers=headers)
        if error.code not in ERROR_TEXTS:
            return error
        # Only the messages we wrote ourselves (a throttle's wait time) are shown.
        custom = error.code == 429 and error.description != type(error).description
        body, status = _render(error.code, error.description if custom else None)
        retry = [(name, value) for name, value in error.get_headers() if name == "Retry-After"]
        return body, status, retry

    @app.errorhandler(InternalServerError)
    def _internal(error):
        db.session.rollback()
        return _render(500)

    @app.errorhandler(IntegrityError)
    def _conflict(error):
        # A race that a form's own check could not see (two posts at once): the constraint
        # kept the data right, and the user is told so.
        current_app.logger.warning("refused by a database constraint: %s", error.orig)
        db.session.rollback()
        return _render(409)

    # Gone, locked past the wait, or refusing writes (PostgreSQL's read-only transaction is
    # an InternalError).
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(InternalError)
    def _database_unavailable(error):
        current_app.logger.error("the database is unavailable: %s", error.orig)
        if is_api_request():
            with suppress(SQLAlchemyError):
                db.session.rollback()
            return problem_response(503, headers={"Retry-After": "60"})
        return _unavailable_page(), 503, {"Retry-After": "60"}


def _unavailable_page() -> str:
    """Rendered without the context processors: they read the signed-in user and the
    unread notices from the database that has just failed."""
    with suppress(SQLAlchemyError):  # the connection is gone; the pool replaces it
        db.session.rollback()
    title, text = ERROR_TEXTS[503]
    template = current_app.jinja_env.get_template("errors/unavailable.html")
    return template.render(html_lang=html_lang(locale_name()), title=title, text=text)

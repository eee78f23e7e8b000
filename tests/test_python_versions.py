"""The suite runs on every supported Python (3.11 to 3.13) with warnings as errors; the one
upstream deprecation let through (Flask-Login's datetime.utcnow(), pyproject.toml) is let
through from Flask-Login only."""

import warnings

import pytest

# The message Python 3.12 and later give for datetime.utcnow().
UTCNOW = (
    "datetime.datetime.utcnow() is deprecated and scheduled for removal in a future version. "
    "Use timezone-aware objects to represent datetimes in UTC: datetime.datetime.now(datetime.UTC)."
)


def _warn_from(module: str, message: str) -> None:
    warnings.warn_explicit(message, DeprecationWarning, f"{module}.py", 1, module=module)


def test_a_deprecation_fails_the_suite():
    with pytest.raises(DeprecationWarning):
        _warn_from("mediation.cases.workflow", "an old way of doing it")


def test_utcnow_is_let_through_from_flask_login_only():
    _warn_from("flask_login.login_manager", UTCNOW)  # let through: nothing raised
    with pytest.raises(DeprecationWarning, match="utcnow"):
        _warn_from("mediation.auth.accounts", UTCNOW)
    with pytest.raises(DeprecationWarning, match="another"):
        _warn_from("flask_login.login_manager", "another deprecation of Flask-Login")

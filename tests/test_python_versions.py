"""The suite runs on every supported Python (3.11 to 3.13) with warnings as errors; the one
upstream deprecation let through (Flask-Login's datetime.utcnow(), pyproject.toml) is let
through from Flask-Login only."""

import sys
import warnings
from datetime import datetime

import pytest


def test_a_deprecation_fails_the_suite():
    with pytest.raises(DeprecationWarning):
        warnings.warn("an old way of doing it", DeprecationWarning, stacklevel=1)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="datetime.utcnow() warns from Python 3.12")
def test_utcnow_is_let_through_from_flask_login_only():
    with pytest.raises(DeprecationWarning, match="utcnow"):
        datetime.utcnow()  # noqa: DTZ003 - the deprecation under test

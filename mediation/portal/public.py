"""Public pages: verify an integrity certificate; the honour list."""

from mediation.portal.blueprint import bp  # noqa: F401

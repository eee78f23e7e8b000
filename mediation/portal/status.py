"""The party portal: look up a case with its number and a personal access code."""

from mediation.portal.blueprint import bp  # noqa: F401

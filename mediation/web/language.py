"""The user's language: a remembered choice, else Chinese."""

from functools import lru_cache

from babel import Locale
from babel.dates import get_date_format, parse_pattern
from flask import current_app, g, has_request_context, request
from flask_babel import Domain, format_date, get_locale, refresh

LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    choice = request.cookies.get(LANGUAGE_COOKIE)
    if choice in current_app.config["LANGUAGES"]:
        return choice
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale) -> str:
    """The BCP 47 tag for <html lang>: zh_Hans_CN → zh-Hans-CN."""
    return str(locale).replace("_", "-")


def show_times_in(zone: str) -> None:
    """Show this request's times in `zone`: a page about one centre's case or certificate
    (the party portal, the certificate check) uses that centre's zone."""
    g.page_timezone = zone
    refresh()  # forget a zone already chosen for this request


def select_timezone() -> str:
    """Times are shown in the zone the page chose (show_times_in), else the signed-in user's
    centre's zone, else the configured one."""
    from flask_login import current_user

    if has_request_context() and g.get("page_timezone"):
        return g.page_timezone
    if has_request_context() and current_user.is_authenticated and current_user.centre:
        return current_user.centre.timezone
    return current_app.config["TIMEZONE"]


class RequestDomain(Domain):
    """Flask-Babel's message domain, holding on to the request's translations: a page asks
    for them a hundred times, and finding them cost more than the translating."""

    def get_translations(self):
        if not g:
            return super().get_translations()
        locale = get_locale()
        held = g.get("_translations")
        if held is None or held[0] is not locale:
            held = g._translations = (locale, super().get_translations())
        return held[1]


WIDTHS = ("short", "medium", "long", "full")


@lru_cache(maxsize=32)
def _date_pattern(locale: str, width: str):
    babel_locale = Locale.parse(locale)
    return babel_locale, parse_pattern(get_date_format(width, babel_locale))


def dateformat(value, format="medium"):
    """Flask-Babel's `dateformat` filter for dates, with the locale's pattern parsed once
    (a list shows two dates a row). Datetimes still go through Flask-Babel (time zones)."""
    if value is None or format not in WIDTHS or hasattr(value, "hour"):
        return format_date(value, format)
    locale, pattern = _date_pattern(str(get_locale()), format)
    return pattern.apply(value, locale)

"""The user's language (a remembered choice, else Chinese), the texts in it, and the time zone
pages show."""

from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from decimal import Decimal

import flask_babel
from babel import Locale, dates, numbers
from babel.numbers import NumberPattern
from flask import current_app, g, has_app_context, has_request_context, request
from flask_babel import LazyString, get_locale, get_timezone, get_translations
from jinja2 import pass_context
from markupsafe import Markup

LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    choice = request.cookies.get(LANGUAGE_COOKIE)
    if choice in current_app.config["LANGUAGES"]:
        return choice
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def locale_name() -> str:
    """The request's locale as text: zh_Hans_CN, en."""
    return str(get_locale())


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


# --- texts, dates and numbers --------------------------------------------------------------
# Flask-Babel finds the translations and the locale again for every text it translates and
# every date or number it formats (five look-ups of its context and the locale's name); a
# form's labels and a page's dates are dozens a page. These find them once per context (a
# request, a job) and again when its language changes: inside and after `force_locale`, and
# after `refresh`.

_TRANSLATIONS = "language_translations"
_LOCALE = "language_locale"
_TIMEZONE = "language_timezone"


def translations():
    """The translations of the context's language (none outside the app)."""
    return _found_once(_TRANSLATIONS, get_translations)


def locale() -> Locale | None:
    """The context's locale (None outside the app)."""
    return _found_once(_LOCALE, get_locale)


def timezone():
    """The zone the context's times are shown in."""
    return _found_once(_TIMEZONE, get_timezone)


def _found_once(name: str, find):
    """`find()`, kept on the context (a request, a job) under `name` until `_forget_language`."""
    if not has_app_context():
        return find()
    found = g.get(name)
    if found is None:
        found = find()
        setattr(g, name, found)
    return found


def gettext(string: str, /, **variables) -> str:
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, /, **variables) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, /, **variables) -> LazyString:
    """A text translated into the language of the context it is shown in."""
    return LazyString(gettext, string, **variables)


@contextmanager
def force_locale(locale: str):
    """Flask-Babel's `force_locale`, with this module's texts in that language inside it and
    back in the context's own after it."""
    with flask_babel.force_locale(locale):
        _forget_language()
        try:
            yield
        finally:
            _forget_language()


def refresh() -> None:
    """Flask-Babel's `refresh`: the language and zone chosen again (a test's requests share
    one app context)."""
    flask_babel.refresh()
    _forget_language()


def _forget_language() -> None:
    if has_app_context():
        g.pop(_TRANSLATIONS, None)
        g.pop(_LOCALE, None)
        g.pop(_TIMEZONE, None)


def format_date(value: date | datetime, format: str = "medium") -> str:
    """A date in the context's language; a moment's date in the page's time zone."""
    if isinstance(value, datetime):
        value = _in_page_zone(value)
    return dates.format_date(value, format, locale=locale())


def format_datetime(value: datetime, format: str = "medium") -> str:
    """A moment in the context's language and the page's time zone."""
    return dates.format_datetime(value, format, tzinfo=timezone(), locale=locale())


def format_time(value: datetime | time, format: str = "medium") -> str:
    """A moment's time of day in the context's language and the page's time zone."""
    return dates.format_time(value, format, tzinfo=timezone(), locale=locale())


def to_the_minute(value: datetime) -> str:
    """A moment as the case pages show times: its date as they show dates ("medium"), then
    hours and minutes ("short": "medium" adds seconds), in the page's time zone; one pattern
    for the two, so the moment is converted and formatted once."""
    found = locale()
    pattern = f"{found.date_formats['medium'].pattern} {found.time_formats['short'].pattern}"
    return dates.format_datetime(value, pattern, tzinfo=timezone(), locale=found)


def _in_page_zone(value: datetime) -> datetime:
    """A stored moment (naive ones are UTC) in the page's time zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(timezone())


def format_decimal(value: Decimal | int | float, format: str | NumberPattern | None = None) -> str:
    return numbers.format_decimal(value, format=format, locale=locale())


def register_filters(app) -> None:
    """The templates' date filters (Flask-Babel's names) with the locale found once."""
    app.jinja_env.filters.update(
        dateformat=format_date, datetimeformat=format_datetime, timeformat=format_time
    )


def page_gettext() -> dict:
    """The templates' gettext and ngettext for one page, from its language's translations.
    As Jinja's newstyle gettext: in an autoescaped template the text is markup and its values
    are escaped into it."""
    found = translations()

    @pass_context
    def gettext(context, string: str, /, **variables):
        text = found.ugettext(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        # Without a "%" the formatting gives the text back as it is: most texts of a page.
        return text % variables if "%" in text else text

    @pass_context
    def ngettext(context, singular: str, plural: str, num: int, /, **variables):
        variables.setdefault("num", num)
        text = found.ungettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return {"gettext": gettext, "_": gettext, "ngettext": ngettext}

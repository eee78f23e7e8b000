"""The user's language: a remembered choice, else Chinese."""

from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from types import MappingProxyType

from babel import Locale
from babel.dates import get_date_format, get_datetime_format, get_time_format, parse_pattern
from flask import Flask, current_app, g, has_request_context, request
from flask.globals import _cv_app
from flask_babel import (
    Domain,
    force_locale,
    format_date,
    format_datetime,
    get_locale,
    get_timezone,
    refresh,
)
from jinja2 import Environment
from jinja2.ext import Extension
from jinja2.lexer import Token
from markupsafe import Markup

LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    # Not cookies.get(): on a missing key it raises (and catches) a BadRequestKeyError.
    if LANGUAGE_COOKIE in request.cookies:
        choice = request.cookies[LANGUAGE_COOKIE]
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


def _babel_state():
    """Flask-Babel's per-request state (the chosen locale), read from the app context
    directly: `get_locale()` goes through `g` three times, and a page asks a hundred times."""
    context = _cv_app.get(None)
    return None if context is None else context.g.__dict__.get("_flask_babel")


def current_locale():
    """The request's locale (flask_babel.get_locale, with a shortcut once it is chosen)."""
    locale = getattr(_babel_state(), "babel_locale", None)
    return locale if locale is not None else get_locale()


def _to_user_timezone(value: datetime) -> datetime:
    """flask_babel.to_user_timezone, with the request's zone read once it is chosen: a
    timeline converts a time per event, and Flask-Babel looked the zone up through `g` for
    each."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    zone = getattr(_babel_state(), "babel_tzinfo", None) or get_timezone()
    # astimezone() already lands on the zone's offset at that instant (pytz's fromutc), so
    # Flask-Babel's normalize() after it changes nothing.
    return value.astimezone(zone)


def locale_name() -> str:
    """The request's locale as text (zh_Hans_CN), made once per request: Babel spells a
    Locale out again each time, and a list asks for every label it shows."""
    state = _babel_state()
    locale = getattr(state, "babel_locale", None)
    if locale is None:
        return str(get_locale())
    held = state.__dict__.get("locale_name")
    if held is None or held[0] is not locale:
        held = state.locale_name = (locale, str(locale))
    return held[1]


class RequestDomain(Domain):
    """Flask-Babel's message domain, holding on to the request's translations: a page asks
    for them a hundred times, and finding them cost more than the translating."""

    def get_translations(self):
        state = _babel_state()
        locale = getattr(state, "babel_locale", None)
        if locale is None:
            # No request, or its locale not chosen yet (or forgotten by refresh()).
            return super().get_translations()
        held = state.__dict__.get("translations")
        if held is None or held[0] is not locale:
            held = state.translations = (locale, super().get_translations())
        return held[1]


def install_template_gettext(app: Flask, domain: RequestDomain) -> None:
    """The templates' _(), ngettext and pgettext ask the domain directly (Flask-Babel's own
    find the domain and the locale again on every call).

    _() and gettext are plain functions: Jinja's own pass the context through two more calls
    per string, and a page says fifty strings. Like Jinja's newstyle gettext for the HTML
    templates (all of ours autoescape), the text is markup and its %(name)s values are
    escaped into it."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n),
    )

    def gettext(string: str, /, **variables) -> Markup:
        text = Markup(domain.get_translations().ugettext(string))
        # Formatting costs five times the rest: only a text with a % in it needs it.
        return text % variables if "%" in text else text

    app.jinja_env.globals.update(_=gettext, gettext=gettext)


class FoldedTranslations(Extension):
    """Compiles `_("text")` said without values into the text's translation, in the language
    of the environment it compiles for (`language_environment`): a page says fifty such
    texts, and each was looked up again on every render. Shown as it is, the translation is
    markup, as the templates' `_()` gives it; joined to other text with ~ it becomes text,
    escaped with the rest (Jinja joins constants when it compiles; no translation of ours
    holds markup)."""

    def filter_stream(self, stream):
        translate = getattr(self.environment, "translate", None)
        tokens = list(stream)
        return tokens if translate is None else _folded(tokens, translate)


def _folded(tokens: list[Token], translate):
    index = 0
    while index < len(tokens):
        token = tokens[index]
        call = [t.type for t in tokens[index + 1 : index + 4]]
        text = None
        if (
            token.type == "name"
            and token.value == "_"
            and call == ["lparen", "string", "rparen"]
            and (index == 0 or tokens[index - 1].type != "dot")
        ):
            text = _fixed_text(translate(tokens[index + 2].value))
        if text is not None:
            line = token.lineno
            yield Token(line, "lparen", "(")
            yield Token(line, "string", str(text))
            yield Token(line, "pipe", "|")
            yield Token(line, "name", "safe")
            yield Token(line, "rparen", ")")
            index += 4
        else:
            yield token
            index += 1


def _fixed_text(translation: str) -> Markup | None:
    """The translation as gettext() gives it ("%%" a percent sign), or None when it does not
    format without values: left to run, it fails where it is shown, not the template."""
    text = Markup(translation)
    if "%" not in text:
        return text
    try:
        return text % {}
    except (KeyError, ValueError, TypeError):
        return None


def language_environment(base: Environment, domain: Domain) -> Environment:
    """The templates' environment for the request's language: the app's own, sharing its
    globals and filters, with its own compiled templates, their fixed texts translated
    (FoldedTranslations). Made on a language's first page."""
    environments = base.__dict__.setdefault("by_language", {})
    locale = locale_name()
    environment = environments.get(locale)
    if environment is None:
        with force_locale(locale):
            translations = domain.get_translations()
        environment = base.overlay(cache_size=-1, extensions=[FoldedTranslations])
        environment.translate = translations.ugettext
        environments[locale] = environment
    return environment


_TRANSLATED: dict[tuple[int, str], tuple[dict, Mapping]] = {}


def translated(vocabulary: dict) -> Mapping:
    """A fixed vocabulary's lazy labels as text in the request's language, translated once
    per language and process (read-only: every request shares it): a list shows a label or
    two per row, and each lazy label looked its translation up again."""
    locale = locale_name()
    key = (id(vocabulary), locale)
    held = _TRANSLATED.get(key)
    if held is None or held[0] is not vocabulary:
        labels = {code: str(label) for code, label in vocabulary.items()}
        held = _TRANSLATED[key] = (vocabulary, MappingProxyType(labels))
    return held[1]


WIDTHS = ("short", "medium", "long", "full")


@lru_cache(maxsize=32)
def _date_pattern(locale: str, width: str):
    babel_locale = Locale.parse(locale)
    return babel_locale, parse_pattern(get_date_format(width, babel_locale))


def dateformat(value, format="medium"):
    """Flask-Babel's `dateformat` filter, each date formatted once per language and width (a
    list shows two dates a row, and Babel took longer over one than the rest of the row). A
    datetime shows its date in the request's time zone, as Flask-Babel shows it."""
    if format in WIDTHS:
        if type(value) is datetime:
            value = _to_user_timezone(value).date()
        if type(value) is date:
            return _formatted_date(locale_name(), format, value)
    return format_date(value, format)


@lru_cache(maxsize=8192)
def _formatted_date(locale: str, width: str, value: date) -> str:
    babel_locale, pattern = _date_pattern(locale, width)
    return pattern.apply(value, babel_locale)


@lru_cache(maxsize=32)
def _datetime_patterns(locale: str, width: str):
    babel_locale = Locale.parse(locale)
    return (
        babel_locale,
        get_datetime_format(width, babel_locale).replace("'", ""),
        parse_pattern(get_time_format(width, babel_locale)),
    )


def datetimeformat(value, format="medium"):
    """Flask-Babel's `datetimeformat` filter (in the request's time zone), with the locale's
    patterns parsed once: a case's timeline shows a time on every event, and Babel parsed
    three patterns for each."""
    if value is None or format not in WIDTHS:
        return format_datetime(value, format)
    local = _to_user_timezone(value)
    name = locale_name()
    locale, combined, time_pattern = _datetime_patterns(name, format)
    time = time_pattern.apply(local.timetz(), locale, reference_date=local.date())
    return combined.replace("{0}", time).replace("{1}", _formatted_date(name, format, local.date()))

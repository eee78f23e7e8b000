"""The user's language (a remembered choice, else Chinese) and the time zone pages show."""

from flask import current_app, g, has_request_context, request
from flask_babel import get_locale, get_translations, refresh
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


def page_gettext() -> dict:
    """The templates' gettext and ngettext for one page, from its language's translations
    found once (Flask-Babel's find them again for every text). As Jinja's newstyle gettext:
    in an autoescaped template the text is markup and its values are escaped into it."""
    translations = get_translations()

    @pass_context
    def gettext(context, string: str, /, **variables):
        text = translations.ugettext(string)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(context, singular: str, plural: str, num: int, /, **variables):
        variables.setdefault("num", num)
        text = translations.ungettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return {"gettext": gettext, "_": gettext, "ngettext": ngettext}

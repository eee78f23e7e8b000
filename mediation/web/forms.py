"""The base of every form: Flask-WTF's, with WTForms' own messages ("This field is
required.") from a catalogue loaded once per language; Flask-WTF reads it from disk again on
every request that builds a form."""

import time
from functools import lru_cache

from babel import support
from flask import current_app, g, session
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF, generate_csrf
from wtforms.i18n import messages_path

from mediation.web.language import locale_name


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _ReusedTokenCSRF(_FlaskFormCSRF):
    """Flask-WTF's form CSRF, its token from csrf_token() below (unless the form signs with
    a secret or field of its own)."""

    def generate_csrf_token(self, csrf_token_field):
        if (self.meta.csrf_secret, self.meta.csrf_field_name) != _csrf_settings():
            return super().generate_csrf_token(csrf_token_field)
        return csrf_token()


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        csrf_class = _ReusedTokenCSRF

        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_translations(locale_name())


# (secret key, session's raw token) → (minute, signed token), for csrf_token() below.
_SIGNED_TOKENS: dict[tuple[str, str], tuple[int, str]] = {}
_SIGNED_TOKENS_KEPT = 4096


def csrf_token() -> str:
    """Flask-WTF's generate_csrf, with the token signed for a session reused for the rest of
    the minute: every page carries one (the language switch, signing out), and signing it
    cost more than a row of a list. A reused token is at most a minute older than a new
    one, against hours of validity (WTF_CSRF_TIME_LIMIT); it belongs to the same session."""
    secret, field = _csrf_settings()
    signed = g.get(field)
    if signed is None:
        minute = _minute()
        held = _SIGNED_TOKENS.get((secret, session.get(field)))
        if held is not None and held[0] == minute:
            signed = held[1]
            setattr(g, field, signed)  # where Flask-WTF's forms look for it
        else:
            signed = generate_csrf()  # a new session's raw token too
            if len(_SIGNED_TOKENS) >= _SIGNED_TOKENS_KEPT:
                _SIGNED_TOKENS.clear()
            _SIGNED_TOKENS[(secret, session[field])] = (minute, signed)
    return signed


def _csrf_settings() -> tuple[str, str]:
    """The secret and the field generate_csrf() signs with, read as Flask-WTF reads them."""
    config = current_app.config
    return (
        config.get("WTF_CSRF_SECRET_KEY", current_app.secret_key),
        config.get("WTF_CSRF_FIELD_NAME", "csrf_token"),
    )


def _minute() -> int:
    return int(time.time() // 60)

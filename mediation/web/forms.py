"""The base of every form: Flask-WTF's, with WTForms' own messages ("This field is
required.") from a catalogue loaded once per language; Flask-WTF reads it from disk again on
every request that builds a form."""

from functools import lru_cache

from babel import support
from flask import current_app
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path

from mediation.web.language import locale_name


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_translations(locale_name())

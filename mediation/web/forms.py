"""The base of every form: Flask-WTF's, with WTForms' own messages ("This field is
required.") from a catalogue loaded once per language; Flask-WTF reads it from disk again on
every request that builds a form."""

from collections.abc import Iterable, Mapping
from functools import lru_cache

from babel import support
from flask import Flask, current_app
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
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


def options(choices: Mapping | Iterable[tuple], selected=None) -> Markup:
    """The <option>s of a plain select (a list's filter): `choices` maps values to labels, or
    is (value, label) pairs; the one whose value reads as `selected` is marked. One call for
    a select: the template's loop over sixty options cost a tenth of the case list."""
    chosen = None if selected is None else str(selected)
    pairs = choices.items() if isinstance(choices, Mapping) else choices
    return Markup(
        "".join(
            f'<option value="{escape(value)}"{" selected" if str(value) == chosen else ""}>'
            f"{escape(label)}</option>"
            for value, label in pairs
        )
    )


def register_form_filters(app: Flask) -> None:
    app.jinja_env.filters["options"] = options

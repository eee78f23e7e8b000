"""The base of every form."""

from flask_wtf import FlaskForm


class Form(FlaskForm):
    """Flask-WTF's form: its CSRF token is the templates' csrf_token(), and WTForms' own
    messages ("This field is required.") come in the reader's language."""


class TokenInTemplateForm(Form):
    """A form whose template writes the CSRF token itself (`csrf_token()`). CSRFProtect checks
    the token of every POST before the view runs, so the form needs no CSRF field of its own
    (built, filled and checked again on every request of the party's busiest forms)."""

    class Meta:
        csrf = False

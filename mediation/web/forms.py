"""The base of every form."""

from flask_wtf import FlaskForm


class Form(FlaskForm):
    """Flask-WTF's form: its CSRF token is the templates' csrf_token(), and WTForms' own
    messages ("This field is required.") come in the reader's language."""

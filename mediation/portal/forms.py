"""The party portal's forms. They check the shape of the input; the rules live in lookup.py
and the workflow."""

from wtforms import DateField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from mediation.web.forms import Form, TokenInTemplateForm
from mediation.web.language import lazy_gettext as _l

STARS = {
    "5": _l("Very satisfied"),
    "4": _l("Satisfied"),
    "3": _l("Neither satisfied nor dissatisfied"),
    "2": _l("Dissatisfied"),
    "1": _l("Very dissatisfied"),
}


class LookupForm(TokenInTemplateForm):
    case_number = StringField(
        _l("Case number"),
        validators=[DataRequired(_l("Enter the case number.")), Length(max=60)],
        description=_l(
            "As on your acceptance notice, e.g. %(example)s. Brackets may be typed any way or "
            "left out, spaces too.",
            example="西湖调〔2026〕42号",
        ),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    access_code = StringField(
        _l("Access code"),
        validators=[DataRequired(_l("Enter your access code.")), Length(max=20)],
        description=_l("The 8 characters on your acceptance notice."),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "class": "access-code-input",
        },
    )


class CourtForm(Form):
    note = TextAreaField(
        _l("Anything the centre should know (optional)"),
        validators=[Optional(), Length(max=500)],
        render_kw={"rows": 3},
    )


class PerformanceForm(Form):
    performed_on = DateField(
        _l("Date performed"),
        validators=[InputRequired(_l("Enter the date the obligation was performed."))],
    )


class RatingForm(Form):
    stars = RadioField(
        _l("How satisfied are you with the mediation service?"),
        choices=[SelectChoice(value, label) for value, label in STARS.items()],
        validators=[InputRequired(_l("Choose how satisfied you are."))],
    )
    comment = TextAreaField(
        _l("Comments (optional)"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 3}
    )

"""Forms of the integrity pages: a profile search, a revocation, the public certificate check.
They check the shape of the input; the rules live in records.py."""

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from mediation.cases.identity import is_valid_credit_code, is_valid_resident_id, normalise_id
from mediation.web.forms import Form
from mediation.web.language import lazy_gettext as _l


class ProfileSearchForm(Form):
    q = StringField(
        _l("Resident ID number or unified social credit code"),
        validators=[DataRequired(_l("Enter an ID number or a credit code.")), Length(max=30)],
        description=_l("The full 18 characters; the search is exact."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )

    def validate_q(self, field) -> None:
        value = normalise_id(field.data or "")
        if not (is_valid_resident_id(value) or is_valid_credit_code(value)):
            raise ValidationError(
                _l("This is neither a valid resident ID number nor a valid credit code.")
            )


class RevokeForm(Form):
    reason = TextAreaField(
        _l("Reason for the revocation"),
        validators=[DataRequired(_l("Give the reason for the revocation.")), Length(max=500)],
        render_kw={"rows": 3},
    )


class VerifyForm(Form):
    number = StringField(
        _l("Certificate number"),
        validators=[DataRequired(_l("Enter the certificate number.")), Length(max=60)],
        description=_l(
            "As printed on the certificate, e.g. %(example)s.", example="330106-2026-000042"
        ),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    code = StringField(
        _l("Verification code"),
        validators=[DataRequired(_l("Enter the verification code.")), Length(max=20)],
        description=_l("The 8 characters printed beside the number."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from mediation.directory.admin import HOLIDAY, WORKDAY
from mediation.directory.terms import CATEGORIES, ORGANIZATION_KINDS
from mediation.web.forms import Form
from mediation.web.language import lazy_gettext as _l


class CentreForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    abbreviation = StringField(
        _l("Abbreviation (used in case numbers)"), validators=[DataRequired(), Length(max=20)]
    )
    timezone = StringField(_l("Time zone"), default="Asia/Shanghai", validators=[DataRequired()])
    phone = StringField(
        _l("Telephone for parties"),
        validators=[
            Optional(),
            Length(max=30),
            Regexp(r"^[0-9+() -]+$", message=_l("A telephone number has digits and hyphens.")),
        ],
    )


class NewCentreForm(CentreForm):
    code = StringField(
        _l("Region code"),
        validators=[
            DataRequired(),
            Regexp(r"^\d{6}$", message=_l("The centre code must be a 6-digit region code.")),
        ],
    )


# --- the directory of a centre ----------------------------------------------------------------
# The forms check the shape of the input; the bounds and the rules are in directory/admin.py.

KIND_CHOICES = [SelectChoice(code, label) for code, label in ORGANIZATION_KINDS.items()]
CATEGORY_CHOICES = [SelectChoice(code, label) for code, label in CATEGORIES.items()]
PHONE = r"^(1\d{10}|0\d{2,3}-?\d{7,8})$"


class OrganizationForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    phone = StringField(
        _l("Telephone"),
        validators=[
            Optional(),
            Length(max=30),
            Regexp(r"^[0-9+() -]+$", message=_l("A telephone number has digits and hyphens.")),
        ],
    )
    address = StringField(_l("Address"), validators=[Length(max=200)])
    is_active = BooleanField(_l("Active (cases may be routed to it)"), default=True)


class MediatorForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=50)])
    # The choices are the centre's organisations and free logins; filled in by the view.
    organization = SelectField(_l("Mediation organisation"), coerce=int, choices=[])
    specialties = SelectMultipleField(
        _l("Specialties"),
        choices=CATEGORY_CHOICES,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    phone = StringField(
        _l("Telephone"),
        validators=[
            Optional(),
            Regexp(
                PHONE,
                message=_l(
                    "Enter an 11-digit mobile number or a landline number such as 0571-87654321."
                ),
            ),
        ],
    )
    max_caseload = IntegerField(_l("Maximum caseload"), default=20, validators=[InputRequired()])
    user = SelectField(_l("Login"), choices=[])
    is_active = BooleanField(_l("Active (may be assigned cases)"), default=True)


class MediationPeriodsForm(Form):
    """One period in days per dispute category; the fields are named by the category codes."""


for _code, _label in CATEGORIES.items():
    setattr(MediationPeriodsForm, _code, IntegerField(_label, validators=[InputRequired()]))


class RoutingRuleForm(Form):
    category = SelectField(_l("Dispute category"), choices=CATEGORY_CHOICES)
    street = StringField(_l("Street or town"), validators=[Length(max=50)])
    organization = SelectField(_l("Mediation organisation"), coerce=int, choices=[])
    rank = IntegerField(_l("Order of preference"), default=1, validators=[InputRequired()])


class CalendarDayForm(Form):
    day = DateField(_l("Date (the first, for several days)"), validators=[InputRequired()])
    until = DateField(_l("Last day (for several days)"), validators=[Optional()])
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice(HOLIDAY, _l("Public holiday (a weekday off)")),
            SelectChoice(WORKDAY, _l("Adjusted working day (a weekend day on)")),
        ],
    )
    note = StringField(_l("Note"), validators=[Length(max=50)])


class CalendarImportForm(Form):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a file to upload."))],
        description=_l(
            "Columns 日期 (date), 类型 (kind: 节假日 or 调休上班) and 备注 (note); "
            "UTF-8 or GB18030."
        ),
    )


class SettingsForm(Form):
    triage_days = IntegerField(_l("Working days to route a case"), validators=[InputRequired()])
    triage_days_high_risk = IntegerField(
        _l("Working days to route a high or critical risk case"), validators=[InputRequired()]
    )
    warning_days = IntegerField(
        _l("Days before the mediation deadline to warn"), validators=[InputRequired()]
    )
    extensions_allowed = BooleanField(_l("The mediation period may be extended"))
    extension_max_days = IntegerField(
        _l("Days all extensions of a case may add at most"), validators=[InputRequired()]
    )
    incentive_measures = TextAreaField(_l("Incentive measures"), render_kw={"rows": 4})

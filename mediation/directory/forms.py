from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Regexp


class CentreForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    abbreviation = StringField(
        _l("Abbreviation (used in case numbers)"), validators=[DataRequired(), Length(max=20)]
    )
    timezone = StringField(_l("Time zone"), default="Asia/Shanghai", validators=[DataRequired()])


class NewCentreForm(CentreForm):
    code = StringField(
        _l("Region code"),
        validators=[
            DataRequired(),
            Regexp(r"^\d{6}$", message=_l("The centre code must be a 6-digit region code.")),
        ],
    )

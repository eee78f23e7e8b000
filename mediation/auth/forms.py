from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from mediation.auth.accounts import MIN_PASSWORD_LENGTH
from mediation.auth.models import ROLE_LABELS, Role
from mediation.web.forms import Form
from mediation.web.language import lazy_gettext as _l

# A centre's own roles; an administrator of every centre may also make a regional
# administrator (SPEC 10), who reads the cases of several centres.
ROLE_CHOICES = [
    SelectChoice(role.value, label)
    for role, label in ROLE_LABELS.items()
    if role != Role.REGIONAL_ADMIN
]
REGIONAL_CHOICE = SelectChoice(Role.REGIONAL_ADMIN.value, ROLE_LABELS[Role.REGIONAL_ADMIN])


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Keep me signed in on this computer"))


class NewPasswordMixin:
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)],
    )
    password_confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class UserEditForm(Form):
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    # Choices are the centres the current admin may assign; filled in by the view.
    centre = SelectField(_l("Centre"), choices=[], coerce=str)
    is_active = BooleanField(_l("Active (may sign in)"), default=True)


class UserCreateForm(NewPasswordMixin, UserEditForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    # Checked with the role (accounts.add_user): only a regional administrator has one.
    region = StringField(_l("Region"))


class PasswordResetForm(NewPasswordMixin, Form):
    pass


class PasswordChangeForm(NewPasswordMixin, Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])

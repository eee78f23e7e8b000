"""Forms of online applications and party evidence. They check the shape of the input with
the intake's own party form (its checksums); the rules live in decisions.py and evidence.py."""

import secrets

from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from mediation.applications.decisions import DECLINE_LABELS, MOST_FILES, ApplicationData
from mediation.cases.forms import Needed, PartyForm, choices
from mediation.cases.workflow import PartyData
from mediation.directory.terms import CATEGORIES
from mediation.web.forms import Form, TokenInTemplateForm
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l

FILE_HELP = _l("Up to 5 files: PDF, JPEG, PNG, DOCX or XLSX, each up to 20 MB.")


def _whole_number(value) -> int | None:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


class ApplicantForm(PartyForm):
    """The applicant: as at intake, with its ID number or credit code and a mobile required."""

    role = HiddenField("", default="applicant")
    name = StringField(_l("Name"), validators=[Needed(), Length(max=100)])
    # Without Optional(), which would end the checks of an empty field before the ones below.
    id_number = StringField(_l("Resident ID number"), validators=[Length(max=18)])
    credit_code = StringField(_l("Unified social credit code"), validators=[Length(max=18)])
    phone = StringField(_l("Mobile"), validators=[Needed(), Length(max=11)])

    def validate_name(self, field):
        if not (field.data or "").strip():
            raise ValidationError(_l("Give your name."))

    def validate_phone(self, field):
        if not (field.data or "").strip():
            raise ValidationError(
                _l("Give a mobile number: the centre tells you its answer by SMS.")
            )
        super().validate_phone(field)

    def validate_id_number(self, field):
        if self.kind.data == "person" and not (field.data or "").strip():
            raise ValidationError(_l("Give your resident ID number."))
        super().validate_id_number(field)

    def validate_credit_code(self, field):
        if self.kind.data == "organization" and not (field.data or "").strip():
            raise ValidationError(_l("Give the organisation's unified social credit code."))
        super().validate_credit_code(field)

    def cleaned(self) -> dict:
        return {"role": "applicant", **self.identity()}


class RespondentForm(PartyForm):
    role = HiddenField("", default="respondent")

    def cleaned(self) -> dict:
        return {"role": "respondent", **self.identity()}


class ApplyForm(TokenInTemplateForm):
    # Every field has a label: one without has WTForms load its own catalogue to translate
    # its name, on every request.
    submission = HiddenField("")
    centre = SelectField(
        _l("Mediation centre"), validators=[Needed()], coerce=lambda value: _whole_number(value)
    )
    applicant = FormField(ApplicantForm, _l("You (the applicant)"))
    respondents = FieldList(
        FormField(RespondentForm, _l("Respondent")),
        _l("Respondents"),
        min_entries=1,
        max_entries=10,
    )
    add_respondent = SubmitField(_l("Add another respondent"))
    category = SelectField(
        _l("Dispute category"),
        validators=[Needed()],
        choices=choices(CATEGORIES, blank=_l("— choose —")),
    )
    street = StringField(_l("Street or town"), validators=[Optional(), Length(max=50)])
    summary = TextAreaField(
        _l("What happened"),
        validators=[DataRequired(_l("Describe the dispute.")), Length(max=5000)],
    )
    claims = TextAreaField(
        _l("What you ask for"),
        validators=[DataRequired(_l("Say what you ask for.")), Length(max=5000)],
    )
    files = MultipleFileField(_l("Evidence files"), description=FILE_HELP)

    def offer_centres(self, centres) -> None:
        self.centre.choices = [SelectChoice(c.id, c.name) for c in centres]
        if len(centres) > 1:
            self.centre.choices.insert(0, SelectChoice("", _l("— choose —")))

    @staticmethod
    def new_token() -> str:
        """The one-time token of a blank form: a form sent twice registers one application."""
        return secrets.token_urlsafe(16)

    @property
    def token(self) -> str:
        return (self.submission.data or "")[:32] or secrets.token_urlsafe(16)

    def validate_centre(self, field):
        if field.data is None:
            raise ValidationError(_l("Choose the centre."))

    def validate_category(self, field):
        if field.data not in CATEGORIES:
            raise ValidationError(_l("Choose the kind of dispute."))

    def validate_respondents(self, field):
        if all(entry.form.is_blank() for entry in field.entries):
            raise ValidationError(_l("Name at least one respondent."))

    def validate_files(self, field):
        if len(self.uploads) > MOST_FILES:
            raise ValidationError(_("Choose at most %(n)d files.", n=MOST_FILES))

    def add_another_respondent(self) -> bool:
        """Whether "Add another respondent" was pressed (a round trip, not a submission)."""
        if not self.add_respondent.data:
            return False
        if len(self.respondents.entries) < self.respondents.max_entries:
            self.respondents.append_entry()
        return True

    @property
    def uploads(self) -> list:
        return [f for f in (self.files.data or []) if getattr(f, "filename", "")]

    def application_data(self, centre) -> ApplicationData:
        respondents = [e.form for e in self.respondents.entries if not e.form.is_blank()]
        parties = [self.applicant.form, *respondents]
        return ApplicationData(
            centre=centre,
            parties=[PartyData(**form.cleaned()) for form in parties],
            category_code=self.category.data,
            street=(self.street.data or "").strip(),
            summary=self.summary.data.strip(),
            claims=self.claims.data.strip(),
        )


class ApplicationLookupForm(TokenInTemplateForm):
    number = StringField(
        _l("Application number"),
        validators=[DataRequired(_l("Enter the application number.")), Length(max=60)],
        description=_l("As shown when you applied, e.g. WS20261207000012."),
    )
    code = StringField(
        _l("Application code"),
        validators=[DataRequired(_l("Enter your application code.")), Length(max=20)],
        description=_l("The 8 characters shown when you applied."),
    )


class AcceptForm(Form):
    """A button: the CSRF token is all it carries."""


class DeclineForm(Form):
    reason = SelectField(
        _l("Reason"),
        choices=choices(DECLINE_LABELS, blank=_l("— choose —")),
        validators=[DataRequired(_l("Choose why the application is declined."))],
    )
    note = TextAreaField(
        _l("Note for the applicant"),
        validators=[DataRequired(_l("Write a note for the applicant.")), Length(max=2000)],
    )


class EvidenceForm(Form):
    file = FileField(
        _l("File"),
        validators=[FileRequired(_l("Choose a file to add."))],
        description=_l("PDF, JPEG, PNG, DOCX or XLSX, up to 20 MB."),
    )


class RejectForm(Form):
    reason = StringField(
        _l("Why it is not taken"),
        validators=[
            DataRequired(_l("Say why the file is not taken, for the party.")),
            Length(max=500),
        ],
    )

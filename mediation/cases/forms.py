"""Forms for intake and for each workflow action. They check the shape of the input; the
rules live in workflow.py."""

import secrets
from decimal import Decimal

from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    Field,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from mediation.cases.identity import (
    is_valid_credit_code,
    is_valid_mobile,
    is_valid_resident_id,
    normalise_id,
)
from mediation.cases.states import PARTY_KINDS, PARTY_ROLES, RISK_LEVELS, TRANSFER_REASONS
from mediation.cases.workflow import IntakeData, PartyData, StaleCase, is_in_yuan
from mediation.directory.terms import CATEGORIES, CHANNELS
from mediation.web.forms import Form
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l
from mediation.web.params import MAX_ID, record_id

# What Numeric(14, 2) holds.
MAX_AMOUNT = Decimal("999999999999.99")


class AtMostTwoDecimals:
    """Yuan and fen: 12.34, not 12.345 (SPEC 3.1)."""

    def __call__(self, form, field):
        if field.data is not None and field.data.is_finite() and not is_in_yuan(field.data):
            raise ValidationError(_l("Give the amount in yuan with at most two decimals."))


class Needed:
    """Marks a field the rules need (the workflow checks it, sometimes only in some cases),
    for the form to show, without the browser's own `required`."""

    field_flags = {"needed": True}

    def __call__(self, form, field):
        pass


def money_field(label) -> DecimalField:
    return DecimalField(
        label,
        places=2,
        validators=[
            Optional(),
            NumberRange(min=Decimal("0"), max=MAX_AMOUNT),
            AtMostTwoDecimals(),
        ],
    )


def choices(labels: dict, blank=None) -> list[SelectChoice]:
    options = [SelectChoice(code, label) for code, label in labels.items()]
    return ([SelectChoice("", blank)] if blank is not None else []) + options


class PartyForm(PlainForm):
    """One applicant or respondent. A sub-form: the intake form carries the CSRF token."""

    # A person has a 姓名, an organisation a 名称: the label follows the kind (static/js).
    NAME_LABELS = {"person": _l("Full name"), "organization": _l("Organisation name")}

    role = SelectField(_l("Role in the case"), choices=choices(PARTY_ROLES))
    kind = SelectField(_l("Kind"), choices=choices(PARTY_KINDS))
    name = StringField(_l("Name"), validators=[Needed(), Length(max=100)])
    id_number = StringField(_l("Resident ID number"), validators=[Optional(), Length(max=18)])
    credit_code = StringField(
        _l("Unified social credit code"), validators=[Optional(), Length(max=18)]
    )
    phone = StringField(_l("Mobile"), validators=[Optional(), Length(max=11)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])

    def name_label(self):
        return self.NAME_LABELS.get(self.kind.data, self.NAME_LABELS["person"])

    def is_blank(self) -> bool:
        return not any(
            (f.data or "").strip()
            for f in (self.name, self.id_number, self.credit_code, self.phone, self.address)
        )

    def validate_name(self, field):
        if not self.is_blank() and not (field.data or "").strip():
            raise ValidationError(_l("Give the party's name."))

    def validate_id_number(self, field):
        if field.data:
            if self.kind.data != "person":
                raise ValidationError(_l("Only a natural person has a resident ID number."))
            if not is_valid_resident_id(field.data):
                raise ValidationError(
                    _l("This is not a valid resident ID number (18 characters, checksum).")
                )

    def validate_credit_code(self, field):
        if field.data:
            if self.kind.data != "organization":
                raise ValidationError(_l("Only an organisation has a credit code."))
            if not is_valid_credit_code(field.data):
                raise ValidationError(
                    _l("This is not a valid unified social credit code (18 characters, checksum).")
                )

    def validate_phone(self, field):
        if field.data and not is_valid_mobile(field.data):
            raise ValidationError(_l("A mobile number has 11 digits and starts with 1."))

    def cleaned(self) -> dict:
        return {"role": self.role.data, **self.identity()}

    def identity(self) -> dict:
        """Who the party is, as entered (IDs normalised)."""
        return {
            "kind": self.kind.data,
            "name": self.name.data.strip(),
            "id_number": normalise_id(self.id_number.data or "") or None,
            "credit_code": normalise_id(self.credit_code.data or "") or None,
            "phone": (self.phone.data or "").strip() or None,
            "address": (self.address.data or "").strip(),
        }


class DisputeForm(Form):
    """The dispute's facts, as registered and as corrected."""

    channel = SelectField(_l("Channel"), choices=choices(CHANNELS))
    category = SelectField(_l("Dispute category"), choices=choices(CATEGORIES))
    street = StringField(_l("Street or town"), validators=[Optional(), Length(max=50)])
    address = StringField(_l("Location"), validators=[Optional(), Length(max=200)])
    amount = money_field(_l("Amount in dispute (yuan)"))
    people_involved = IntegerField(
        _l("People involved"),
        default=1,
        validators=[
            InputRequired(_l("Give the number of people involved.")),
            NumberRange(min=1, max=1_000_000),
        ],
    )
    risk_level = SelectField(_l("Risk level"), choices=choices(RISK_LEVELS), default="low")
    is_extreme = BooleanField(_l("Extreme tendency"))
    summary = TextAreaField(
        _l("Summary of the dispute"),
        validators=[DataRequired(_l("Write a summary of the dispute.")), Length(max=5000)],
    )
    claims = TextAreaField(_l("Claims"), validators=[Optional(), Length(max=5000)])

    def facts(self) -> dict:
        """The dispute's facts as entered, for IntakeData (its risk, if the form has it)."""
        facts = {
            "channel_code": self.channel.data,
            "category_code": self.category.data,
            "amount": self.amount.data,
            "summary": self.summary.data.strip(),
            "claims": (self.claims.data or "").strip(),
            "street": (self.street.data or "").strip(),
            "address": (self.address.data or "").strip(),
            "people_involved": self.people_involved.data,
        }
        if self.risk_level:
            facts |= {"risk_level": self.risk_level.data, "is_extreme": self.is_extreme.data}
        return facts


class IntakeForm(DisputeForm):
    # One-time token of this form: resubmitting it finds the case already registered.
    submission = HiddenField()
    parties = FieldList(FormField(PartyForm), min_entries=2, max_entries=20)
    add_party = SubmitField(_l("Add a party"))

    def validate_parties(self, field):
        filled = [entry.form for entry in field.entries if not entry.form.is_blank()]
        roles = {form.role.data for form in filled}
        if not {"applicant", "respondent"} <= roles:
            raise ValidationError(_l("A case needs at least one applicant and one respondent."))

    def start(self) -> None:
        """A new form: its one-time token, an applicant and a respondent to fill in."""
        self.submission.data = secrets.token_urlsafe(16)
        self.parties.entries[0].form.role.data = "applicant"
        self.parties.entries[1].form.role.data = "respondent"

    @property
    def token(self) -> str | None:
        return (self.submission.data or "")[:32] or None

    def add_another_party(self) -> bool:
        """Whether "Add a party" was pressed (a round trip, not a submission): then a row is
        added, or the form says why not."""
        if not self.add_party.data:
            return False
        if len(self.parties.entries) < self.parties.max_entries:
            self.parties.append_entry()
            self.parties.entries[-1].form.role.data = "respondent"
        else:
            self.form_errors.append(
                _("A case has at most %(n)d parties.", n=self.parties.max_entries)
            )
        return True

    def intake_data(self) -> IntakeData:
        parties = [
            PartyData(**entry.form.cleaned())
            for entry in self.parties.entries
            if not entry.form.is_blank()
        ]
        return IntakeData(parties=parties, **self.facts())


COURT_REQUIRED = DataRequired(_l("Name the court the case goes to."))


class VersionedForm(Form):
    """Every action form carries the version of the case the user saw."""

    version = HiddenField()

    @property
    def expected_version(self) -> int | None:
        value = self.version.data or ""
        return int(value) if value.isdigit() and len(value) < 12 else None

    def add_another_row(self) -> bool:
        """Whether a button adding a row was pressed (a round trip, not a submission)."""
        return False


class PartyCorrectionForm(PartyForm):
    """One party of the case as corrected: its role stays, its name is always needed."""

    role = None
    party_id = HiddenField()
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the party's name.")), Length(max=100)],
    )

    def party_data(self, role: str) -> PartyData:
        return PartyData(role=role, **self.identity())


class CorrectionForm(DisputeForm, VersionedForm):
    """The edit form of SPEC 3.9: the dispute and its parties, IDs and phones in full."""

    parties = FieldList(FormField(PartyCorrectionForm), max_entries=20)

    def correction(self, case) -> IntakeData:
        """What the case should read; a form made for other parties is a stale one."""
        entries = [entry.form for entry in self.parties.entries]
        if [entry.party_id.data for entry in entries] != [str(p.id) for p in case.parties]:
            raise StaleCase()
        parties = [
            entry.party_data(party.role) for entry, party in zip(entries, case.parties, strict=True)
        ]
        # After the conclusion the form has no risk: it stays as it is.
        risk = {"risk_level": case.risk_level, "is_extreme": case.is_extreme}
        return IntakeData(parties=parties, **(risk | self.facts()))


class CompleteTransferForm(VersionedForm):
    court = StringField(_l("Court"), validators=[COURT_REQUIRED, Length(max=100)])
    undisputed_facts = TextAreaField(
        _l("Record of undisputed facts"),
        validators=[Optional(), Length(max=20000)],
        render_kw={"rows": 6},
    )


class RouteForm(VersionedForm):
    mediator = SelectField(
        _l("Mediator (and so the organisation)"),
        choices=[],
        coerce=str,
        description=_l("★ marks the organisations the routing rules name for this dispute."),
    )


class DivertForm(VersionedForm):
    reason = SelectField(
        _l("Reason"),
        choices=[
            SelectChoice(code, TRANSFER_REASONS[code])
            for code in ("unsuitable", "respondent_refused")
        ],
    )
    court = StringField(_l("Court"), validators=[COURT_REQUIRED, Length(max=100)])
    note = TextAreaField(_l("Note for the court"), validators=[Optional(), Length(max=5000)])


class ReassignForm(VersionedForm):
    mediator = SelectField(_l("New mediator"), choices=[], coerce=str)
    reason = StringField(
        _l("Reason for the change"),
        validators=[DataRequired(_l("Give the reason for the change.")), Length(max=500)],
    )


# Attendance and minutes are the record of a session held; one still to come needs neither.
ONCE_HELD = _l("Needed once the session has been held; not for a session still to come.")


class SessionForm(VersionedForm):
    held_at = DateTimeLocalField(
        _l("Date and time"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(_l("Give the date and time of the session."))],
    )
    place = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    is_online = BooleanField(_l("Held online"))
    attendance = TextAreaField(
        _l("Attendance"), validators=[Needed(), Length(max=2000)], description=ONCE_HELD
    )
    minutes = TextAreaField(
        _l("Minutes"), validators=[Needed(), Length(max=20000)], description=ONCE_HELD
    )


class ExtendForm(VersionedForm):
    days = IntegerField(
        _l("Days to add"),
        validators=[InputRequired(_l("Give the number of days.")), NumberRange(min=1)],
    )
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
    # One entry per party, in the case's order: how that party's consent was given.
    consents = FieldList(StringField(validators=[Optional(), Length(max=200)]))


class ObligationForm(PlainForm):
    obligor = SelectField(_l("Obligor"), choices=[], coerce=str)
    obligee = SelectField(_l("Obligee"), choices=[], coerce=str)
    description = StringField(_l("What is owed"), validators=[Optional(), Length(max=500)])
    amount = money_field(_l("Amount (yuan)"))
    due_on = DateField(_l("Due date"), validators=[Optional()])

    def is_blank(self) -> bool:
        return not (self.description.data or "").strip() and self.amount.data is None

    def validate_due_on(self, field):
        if not self.is_blank() and field.data is None:
            raise ValidationError(_l("Give the due date."))

    def validate_description(self, field):
        if not self.is_blank() and not (field.data or "").strip():
            raise ValidationError(_l("Say what is owed."))


class AgreeForm(VersionedForm):
    signed_on = DateField(
        _l("Signed on"), validators=[DataRequired(_l("Give the date the agreement was signed."))]
    )
    terms = TextAreaField(
        _l("Terms of the agreement"),
        validators=[DataRequired(_l("Write down the terms of the agreement.")), Length(max=20000)],
    )
    obligations = FieldList(FormField(ObligationForm), min_entries=1, max_entries=20)
    add_obligation = SubmitField(_l("Add an obligation"))

    def add_another_row(self) -> bool:
        if not self.add_obligation.data:
            return False
        if len(self.obligations.entries) < self.obligations.max_entries:
            first = self.obligations.entries[0].form
            added = self.obligations.append_entry().form
            added.obligor.choices, added.obligee.choices = (
                first.obligor.choices,
                first.obligee.choices,
            )
            added.obligor.data, added.obligee.data = self.usual_obligation
        else:
            self.form_errors.append(
                _("An agreement has at most %(n)d obligations.", n=self.obligations.max_entries)
            )
        return True


class FailForm(VersionedForm):
    court = StringField(_l("Court"), validators=[COURT_REQUIRED, Length(max=100)])
    undisputed_facts = TextAreaField(
        _l("Record of undisputed facts"),
        validators=[
            DataRequired(_l("Record the undisputed facts for the court.")),
            Length(max=20000),
        ],
    )
    documents = TextAreaField(
        _l("Documents handed to the court"), validators=[Optional(), Length(max=5000)]
    )


class RequestLitigationForm(VersionedForm):
    party = SelectField(_l("Party asking to go to court"), choices=[], coerce=str)
    court = StringField(_l("Court"), validators=[Optional(), Length(max=100)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)])


class WithdrawForm(VersionedForm):
    reason = TextAreaField(
        _l("The applicant's reason"),
        validators=[
            DataRequired(_l("Give the applicant's reason for withdrawing.")),
            Length(max=2000),
        ],
    )


class MoveForm(VersionedForm):
    centre = SelectField(
        _l("Centre to move the case to"),
        choices=[],
        coerce=str,
        validators=[DataRequired(_l("Choose another centre to move the case to."))],
        description=_l(
            "The case gets a number of that centre and waits for triage there; its old number "
            "still finds it, and the parties' access codes stay."
        ),
    )
    reason = TextAreaField(
        _l("Reason for the move"),
        validators=[DataRequired(_l("Give the reason for the move.")), Length(max=2000)],
    )


class ConfirmForm(VersionedForm):
    court = StringField(
        _l("Court"),
        validators=[DataRequired(_l("Name the court that confirmed it.")), Length(max=100)],
    )
    ruling = StringField(
        _l("Ruling number"),
        validators=[DataRequired(_l("Give the ruling number.")), Length(max=100)],
    )
    confirmed_on = DateField(
        _l("Confirmed on"), validators=[DataRequired(_l("Give the date of the confirmation."))]
    )


class FulfilForm(VersionedForm):
    obligation = SelectField(_l("Obligation"), choices=[], coerce=str)
    performed_on = DateField(
        _l("Performed on"), validators=[DataRequired(_l("Give the date it was performed."))]
    )
    is_voluntary = RadioField(
        _l("How was it performed?"),
        choices=[
            SelectChoice("yes", _l("Voluntarily, of the obligor's own accord")),
            SelectChoice("no", _l("Only after reminders or pressure")),
        ],
        default="yes",
        validators=[DataRequired()],
    )


class EnforceForm(VersionedForm):
    court = StringField(_l("Court"), validators=[COURT_REQUIRED, Length(max=100)])
    note = TextAreaField(_l("Note for the court"), validators=[Optional(), Length(max=5000)])


class FollowUpForm(VersionedForm):
    satisfied = RadioField(
        _l("Was the party satisfied?"),
        choices=[SelectChoice("yes", _l("Satisfied")), SelectChoice("no", _l("Not satisfied"))],
        validators=[DataRequired(_l("Say whether the party was satisfied."))],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class FilingForm(VersionedForm):
    filing_number = StringField(
        _l("Court filing number"),
        validators=[DataRequired(_l("Give the court's filing number.")), Length(max=100)],
    )


class AccessCodeForm(VersionedForm):
    party = SelectField(_l("Party"), choices=[], coerce=str)


class CaseIdsField(Field):
    """The ids of the cases ticked in a list (checkboxes of one name), at most `most`."""

    def __init__(self, label=None, validators=None, most: int = 500, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.most = most

    def process_formdata(self, valuelist):
        if len(valuelist) > self.most:
            raise ValueError(_l("Select at most %(n)d cases.", n=self.most))
        try:
            self.data = sorted({record_id(value) for value in valuelist})
        except ValueError:
            raise ValueError(_l("Choose cases from the list.")) from None

    def _value(self):
        return ""


class BulkActionForm(Form):
    """The case list's form for the ticked cases: route or reassign them, or export them."""

    action = SelectField(
        _l("Action"), choices=[SelectChoice(name) for name in ("route", "reassign", "export")]
    )
    case_id = CaseIdsField(_l("Cases"), default=list)
    organization = IntegerField(
        _l("Organisation"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)]
    )
    mediator = IntegerField(_l("Mediator"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    reason = StringField(_l("Reason (for a change of mediator)"), validators=[Length(max=200)])

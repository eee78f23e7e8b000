"""A party's preferences, set by staff on the case: the honour-list consent and SMS opt-out."""

from flask import abort, flash, redirect, render_template, url_for
from wtforms import BooleanField, StringField
from wtforms.validators import Length

from mediation.audit.log import record
from mediation.auth.access import role_required
from mediation.auth.models import Role
from mediation.cases.access import case_or_404
from mediation.cases.blueprint import bp
from mediation.cases.models import Party
from mediation.extensions import db
from mediation.integrity.records import honour_certificates_of, refresh_honour
from mediation.web.forms import Form
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l

NOTE_LENGTH = 200


class PartyPreferencesForm(Form):
    honour_consent = BooleanField(
        _l("Agrees to appear on the public honour list (name masked)"),
        description=_l(
            "Only for natural persons: organisations holding a valid certificate are listed "
            "by name."
        ),
    )
    sms_opt_out = BooleanField(_l("Does not want text messages"))
    note = StringField(
        _l("How the consent was given"),
        validators=[Length(max=NOTE_LENGTH)],
        description=_l(
            "Needed when the honour-list consent changes, e.g. “signed consent form at the "
            "agreement session” or “by telephone on 3 March”."
        ),
    )


class PreferencesError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def set_preferences(party: Party, honour_consent: bool, sms_opt_out: bool, note: str) -> dict:
    """Set the party's preferences and audit what changed (with the note on how the consent
    was given; the signed-in user is recorded as who took it). Returns the changes."""
    note = (note or "").strip()
    changes = {
        name: [getattr(party, name), value]
        for name, value in (("honour_consent", honour_consent), ("sms_opt_out", sms_opt_out))
        if getattr(party, name) != value
    }
    if "honour_consent" in changes and not note:
        raise PreferencesError(
            "note", _("Say how the party gave or withdrew the honour-list consent.")
        )
    if not changes:
        return changes
    party.honour_consent, party.sms_opt_out = honour_consent, sms_opt_out
    record(
        "party.preferences",
        target=f"{party.case.number} #{party.id}",
        centre_id=party.case.centre_id,
        party=party.id,
        note=note,
        **changes,
    )
    db.session.flush()
    if "honour_consent" in changes:
        refresh_honour(honour_certificates_of(party.id))
    return changes


@bp.route("/<id:case_id>/parties/<id:party_id>/preferences", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.STAFF)
def party_preferences(case_id: int, party_id: int):
    case = case_or_404(case_id)
    party = next((p for p in case.parties if p.id == party_id), None)
    if party is None:
        abort(404)
    form = PartyPreferencesForm(obj=party)
    if form.validate_on_submit():
        try:
            changes = set_preferences(
                party, form.honour_consent.data, form.sms_opt_out.data, form.note.data
            )
        except PreferencesError as error:
            db.session.rollback()
            form[error.field].errors.append(str(error))
        else:
            db.session.commit()
            if changes:
                flash(_("The preferences of %(name)s are saved.", name=party.name), "success")
            return redirect(url_for("cases.detail", case_id=case.id))
    return render_template("cases/party_preferences.html", case=case, party=party, form=form)

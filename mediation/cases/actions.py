"""Each workflow action's form: how its choices are filled and how it calls the workflow.

The case page's action view looks an action up here, so every action reads the same way:
prepare the form for this case, validate, perform one workflow call.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import request
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from mediation.cases import forms
from mediation.cases import workflow as wf
from mediation.cases.models import Case
from mediation.cases.states import PARTY_ROLES
from mediation.cases.triage import mediator_workloads, suggested_organizations
from mediation.directory.models import Centre, Mediator
from mediation.directory.settings import settings_for
from mediation.extensions import db
from mediation.integrity.models import Obligation
from mediation.web.language import format_date
from mediation.web.language import gettext as _


@dataclass(frozen=True)
class ActionForm:
    form_class: type
    perform: Callable  # (case, form, actor) -> anything; raises WorkflowError
    prepare: Callable | None = None  # (case, form) -> None: fills choices
    fill: Callable | None = None  # (case, form) -> None: a new form shows what is recorded
    # Actions that issue an access code show it once instead of redirecting.
    shows_code: bool = False
    # (case, result) -> the message after it is saved; else "Saved: <the action>".
    saved: Callable | None = None

    def form_for(self, case: Case):
        """The action's form for this case, with its choices; a new form carries the
        version of the case the user sees."""
        form = self.form_class()
        if request.method == "GET":
            form.version.data = str(case.version)
            if self.fill:
                self.fill(case, form)
        if self.prepare:
            self.prepare(case, form)
        return form


def current_actor() -> wf.Actor:
    """The signed-in user, acting."""
    return wf.Actor.for_user(current_user)


def _local_to_utc(moment: datetime, case: Case) -> datetime:
    return moment.replace(tzinfo=ZoneInfo(case.centre.timezone))


def _party_choices(case: Case) -> list[SelectChoice]:
    return [SelectChoice(str(p.id), f"{p.name}（{_role_label(p.role)}）") for p in case.parties]


def _role_label(role: str) -> str:
    return str(PARTY_ROLES[role])


def _mediator_label(suggestion) -> str:
    m = suggestion.mediator
    rate = suggestion.success_rate
    parts = [
        m.name,
        m.organization.name,
        _("open %(open)d/%(max)d", open=suggestion.open_cases, max=m.max_caseload),
    ]
    if rate is not None:
        parts.append(_("success %(rate)d%%", rate=round(rate * 100)))
    if suggestion.is_specialist:
        parts.append(_("specialist"))
    return " · ".join(parts)


def _prepare_route(case: Case, form) -> None:
    """Mediators of the organisations the routing rules suggest come first (★); choosing a
    mediator chooses their organisation, so the form cannot pair the two wrongly."""
    suggested = suggested_organizations(case.centre_id, case.category_code, case.street)
    rank = {organization.id: index for index, organization in enumerate(suggested)}
    workloads = mediator_workloads(case.centre_id, case.category_code)
    workloads = [s for s in workloads if s.mediator.organization.is_active]
    workloads.sort(key=lambda s: rank.get(s.mediator.organization_id, len(rank)))
    form.mediator.choices = [
        SelectChoice(
            str(s.mediator.id),
            ("★ " if s.mediator.organization_id in rank else "") + _mediator_label(s),
        )
        for s in workloads
    ]


def _perform_route(case: Case, form, actor):
    mediator = _centre_object(Mediator, form.mediator.data, case, "mediator")
    return wf.route_case(
        case, mediator.organization, mediator, actor, expected_version=form.expected_version
    )


def _prepare_reassign(case: Case, form) -> None:
    form.mediator.choices = [
        SelectChoice(str(s.mediator.id), _mediator_label(s))
        for s in mediator_workloads(case.centre_id, case.category_code)
        if s.mediator.id != case.mediator_id
    ]


def _perform_reassign(case: Case, form, actor):
    mediator = _centre_object(Mediator, form.mediator.data, case, "mediator")
    return wf.reassign_case(
        case, mediator, form.reason.data, actor, expected_version=form.expected_version
    )


def _centre_object(model, raw_id: str, case: Case, field: str):
    obj = db.session.get(model, int(raw_id)) if raw_id and raw_id.isdigit() else None
    if obj is None or obj.centre_id != case.centre_id:
        raise wf.WorkflowError(_("Choose one of the listed options."), field)
    return obj


def _perform_divert(case, form, actor):
    return wf.divert_case(
        case,
        form.reason.data,
        form.court.data,
        actor,
        note=form.note.data or "",
        expected_version=form.expected_version,
    )


def _prepare_session(case: Case, form) -> None:
    form.held_at.description = _(
        "Not before %(date)s, the day the case was registered.",
        date=format_date(case.registered_on, "long"),
    )


def _perform_session(case, form, actor):
    return wf.record_session(
        case,
        _local_to_utc(form.held_at.data, case),
        actor,
        place=form.place.data or "",
        is_online=form.is_online.data,
        attendance=form.attendance.data or "",
        minutes=form.minutes.data or "",
        expected_version=form.expected_version,
    )


def _prepare_extend(case: Case, form) -> None:
    settings = settings_for(case.centre_id)
    left = max(settings.extension_max_days - case.extension_days, 0)
    form.days.description = _("At most %(n)d more days.", n=left)
    while len(form.consents.entries) < len(case.parties):
        form.consents.append_entry()
    for entry, party in zip(form.consents.entries, case.parties, strict=False):
        entry.label.text = _("Consent of %(name)s (how it was given)", name=party.name)


def _perform_extend(case, form, actor):
    consents = {
        party.id: entry.data or ""
        for party, entry in zip(case.parties, form.consents.entries, strict=False)
    }
    return wf.extend_deadline(
        case,
        form.days.data,
        consents,
        actor,
        reason=form.reason.data or "",
        expected_version=form.expected_version,
    )


def _prepare_agree(case: Case, form) -> None:
    """A new obligation reads as the usual one: the first respondent owes the first
    applicant."""
    party_choices = _party_choices(case)
    form.usual_obligation = (str(case.respondents[0].id), str(case.applicants[0].id))
    for entry in form.obligations.entries:
        entry.form.obligor.choices = party_choices
        entry.form.obligee.choices = party_choices
        if entry.form.obligor.data is None and entry.form.obligee.data is None:
            entry.form.obligor.data, entry.form.obligee.data = form.usual_obligation


def _perform_agree(case, form, actor):
    obligations = [
        wf.ObligationData(
            obligor_id=int(entry.form.obligor.data),
            obligee_id=int(entry.form.obligee.data),
            description=entry.form.description.data or "",
            due_on=entry.form.due_on.data,
            amount=entry.form.amount.data,
        )
        for entry in form.obligations.entries
        if not entry.form.is_blank()
    ]
    return wf.agree_case(
        case,
        form.signed_on.data,
        form.terms.data,
        obligations,
        actor,
        expected_version=form.expected_version,
    )


def _perform_fail(case, form, actor):
    return wf.fail_case(
        case,
        form.court.data,
        form.undisputed_facts.data,
        actor,
        documents=form.documents.data or "",
        expected_version=form.expected_version,
    )


def _prepare_parties(case: Case, form) -> None:
    form.party.choices = _party_choices(case)


def _perform_request(case, form, actor):
    party = next((p for p in case.parties if str(p.id) == form.party.data), None)
    if party is None:
        raise wf.WorkflowError(_("Choose one of the listed options."), "party")
    return wf.request_litigation(
        case,
        actor,
        court=form.court.data or "",
        note=form.note.data or "",
        expected_version=form.expected_version,
        on_behalf_of=party,
    )


def _perform_withdraw(case, form, actor):
    return wf.withdraw_case(case, form.reason.data, actor, expected_version=form.expected_version)


def _perform_confirm(case, form, actor):
    return wf.confirm_agreement(
        case,
        form.court.data,
        form.ruling.data,
        form.confirmed_on.data,
        actor,
        expected_version=form.expected_version,
    )


def _prepare_fulfil(case: Case, form) -> None:
    obligations = case.agreement.obligations if case.agreement else []
    form.obligation.choices = [
        SelectChoice(str(o.id), f"{o.obligor.name} → {o.obligee.name}：{o.description}")
        for o in obligations
        if o.fulfilled_on is None
    ]


def _perform_fulfil(case, form, actor):
    obligation = db.session.get(Obligation, int(form.obligation.data or 0))
    if obligation is None:
        raise wf.WorkflowError(_("Choose one of the listed options."), "obligation")
    return wf.fulfil_obligation(
        case,
        obligation,
        form.performed_on.data,
        actor,
        expected_version=form.expected_version,
        is_voluntary=form.is_voluntary.data == "yes",
    )


def _perform_enforce(case, form, actor):
    return wf.enforce_agreement(
        case,
        form.court.data,
        actor,
        note=form.note.data or "",
        expected_version=form.expected_version,
    )


def _perform_follow_up(case, form, actor):
    return wf.record_follow_up(
        case,
        form.satisfied.data == "yes",
        form.note.data or "",
        actor,
        expected_version=form.expected_version,
    )


def _perform_filing(case, form, actor):
    return wf.record_court_filing(
        case, form.filing_number.data, actor, expected_version=form.expected_version
    )


def _prepare_move(case: Case, form) -> None:
    """Every other centre of the deployment, by code."""
    form.centre.choices = [SelectChoice("", _("Choose a centre"))] + [
        SelectChoice(str(centre.id), f"{centre.name}（{centre.code}）")
        for centre in db.session.scalars(
            select(Centre).where(Centre.id != case.centre_id).order_by(Centre.code)
        )
    ]


def _perform_move(case, form, actor):
    raw = form.centre.data or ""
    centre = db.session.get(Centre, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if centre is None or centre.id == case.centre_id:
        raise wf.WorkflowError(_("Choose another centre to move the case to."), "centre")
    return wf.move_case(
        case, centre, form.reason.data, actor, expected_version=form.expected_version
    )


def _moved_message(case: Case, event) -> str:
    return _(
        "Moved to %(centre)s, where it is now case %(number)s (formerly %(former)s).",
        centre=case.centre.name,
        number=case.number,
        former=event.details["former_number"],
    )


def _fill_correct(case: Case, form) -> None:
    """The edit form shows what is recorded, IDs and phones in full (SPEC 3.9)."""
    form.process(
        data={
            "channel": case.channel_code,
            "category": case.category_code,
            "street": case.street,
            "address": case.address,
            "amount": case.amount,
            "people_involved": case.people_involved,
            "risk_level": case.risk_level,
            "is_extreme": case.is_extreme,
            "summary": case.summary,
            "claims": case.claims,
            "version": str(case.version),
            "parties": [
                {
                    "party_id": str(party.id),
                    "kind": party.kind,
                    "name": party.name,
                    "id_number": party.id_number,
                    "credit_code": party.credit_code,
                    "phone": party.phone,
                    "address": party.address,
                }
                for party in case.parties
            ],
        }
    )


def _prepare_correct(case: Case, form) -> None:
    """After the conclusion the risk stays as it was: the form does not offer it."""
    if case.concluded_at is not None:
        del form.risk_level
        del form.is_extreme


def _perform_correct(case, form, actor):
    return wf.correct_case(
        case, form.correction(case), actor, expected_version=form.expected_version
    )


def _fill_transfer(case: Case, form) -> None:
    form.court.data = case.transfer.court
    form.undisputed_facts.data = case.transfer.undisputed_facts


def _perform_complete_transfer(case, form, actor):
    return wf.complete_transfer(
        case,
        form.court.data,
        form.undisputed_facts.data or "",
        actor,
        expected_version=form.expected_version,
    )


def _perform_new_code(case, form, actor):
    party = next((p for p in case.parties if str(p.id) == form.party.data), None)
    if party is None:
        raise wf.WorkflowError(_("Choose one of the listed options."), "party")
    # The version makes a refreshed form a refusal, not a second new code.
    return party, wf.regenerate_access_code(
        case, party, actor, expected_version=form.expected_version
    )


ACTION_FORMS: dict[str, ActionForm] = {
    "route": ActionForm(forms.RouteForm, _perform_route, _prepare_route),
    "divert": ActionForm(forms.DivertForm, _perform_divert),
    "reassign": ActionForm(forms.ReassignForm, _perform_reassign, _prepare_reassign),
    "record_session": ActionForm(forms.SessionForm, _perform_session, _prepare_session),
    "extend": ActionForm(forms.ExtendForm, _perform_extend, _prepare_extend),
    "agree": ActionForm(forms.AgreeForm, _perform_agree, _prepare_agree),
    "fail": ActionForm(forms.FailForm, _perform_fail),
    "request_litigation": ActionForm(
        forms.RequestLitigationForm, _perform_request, _prepare_parties
    ),
    "withdraw": ActionForm(forms.WithdrawForm, _perform_withdraw),
    "confirm": ActionForm(forms.ConfirmForm, _perform_confirm),
    "fulfil": ActionForm(forms.FulfilForm, _perform_fulfil, _prepare_fulfil),
    "enforce": ActionForm(forms.EnforceForm, _perform_enforce),
    "follow_up": ActionForm(forms.FollowUpForm, _perform_follow_up),
    "record_filing": ActionForm(forms.FilingForm, _perform_filing),
    "new_access_code": ActionForm(
        forms.AccessCodeForm, _perform_new_code, _prepare_parties, shows_code=True
    ),
    "correct": ActionForm(
        forms.CorrectionForm, _perform_correct, _prepare_correct, fill=_fill_correct
    ),
    "complete_transfer": ActionForm(
        forms.CompleteTransferForm, _perform_complete_transfer, fill=_fill_transfer
    ),
    "move": ActionForm(forms.MoveForm, _perform_move, _prepare_move, saved=_moved_message),
}

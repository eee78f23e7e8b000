"""Intake, the case page and the form of every workflow action."""

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import FieldList

from mediation.auth.access import role_required
from mediation.auth.models import Role
from mediation.cases import workflow as wf
from mediation.cases.access import case_or_404, current_actor
from mediation.cases.actions import ACTION_FORMS
from mediation.cases.blueprint import bp
from mediation.cases.forms import IntakeForm
from mediation.cases.models import Case
from mediation.cases.page import case_page_or_404
from mediation.database import begin_writing, commit_keeping_loaded, reads_first_view
from mediation.directory.calendar import local_today
from mediation.directory.models import Centre
from mediation.directory.settings import warning_days
from mediation.extensions import db
from mediation.web.params import record_id

ALL_ROLES = (Role.ADMIN, Role.STAFF, Role.MEDIATOR)


def _intake_centre() -> Centre:
    """Staff register for their own centre; a global admin picks one (?centre=ID)."""
    if current_user.centre_id is not None:
        return current_user.centre
    centre_id = request.values.get("centre", type=record_id)
    centre = db.session.get(Centre, centre_id) if centre_id else None
    if centre is None:
        centre = db.session.scalar(select(Centre).order_by(Centre.code).limit(1))
    if centre is None:
        abort(404)
    return centre


# Built once, like the case page's statements: every registration asks.
_CASE_BY_INTAKE_TOKEN = select(Case).where(Case.intake_token == bindparam("token"))


def _intake_page(form: IntakeForm, centre: Centre):
    all_centres = (
        db.session.scalars(select(Centre).order_by(Centre.code)).all()
        if current_user.is_global_admin
        else []
    )
    return render_template("cases/register.html", form=form, centre=centre, all_centres=all_centres)


def _intake_data(form: IntakeForm) -> wf.IntakeData:
    return wf.IntakeData(
        channel_code=form.channel.data,
        category_code=form.category.data,
        parties=[
            wf.PartyData(**entry.form.cleaned())
            for entry in form.parties.entries
            if not entry.form.is_blank()
        ],
        amount=form.amount.data,
        summary=form.summary.data.strip(),
        claims=(form.claims.data or "").strip(),
        street=(form.street.data or "").strip(),
        address=(form.address.data or "").strip(),
        people_involved=form.people_involved.data,
        risk_level=form.risk_level.data,
        is_extreme=form.is_extreme.data,
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.STAFF)
@reads_first_view
def register():
    centre = _intake_centre()
    form = IntakeForm()
    if request.method == "GET":
        form.submission.data = secrets.token_urlsafe(16)
        form.parties.entries[0].form.role.data = "applicant"
        form.parties.entries[1].form.role.data = "respondent"
    if form.add_party.data:
        # Adding a row is a round trip, not a submission: nothing is validated or saved.
        if len(form.parties.entries) < form.parties.max_entries:
            form.parties.append_entry()
            form.parties.entries[-1].form.role.data = "respondent"
        else:
            form.form_errors.append(
                _("A case has at most %(n)d parties.", n=form.parties.max_entries)
            )
        return _intake_page(form, centre)
    if form.validate_on_submit():
        token = (form.submission.data or "")[:32] or None
        try:
            # Everything that only reads comes before the write lock (see reads_first_view).
            plan = wf.plan_registration(centre, _intake_data(form), current_actor())
            begin_writing()
            already = token and db.session.scalar(_CASE_BY_INTAKE_TOKEN, {"token": token})
            if already and current_user.may_see_centre(already.centre_id):
                db.session.rollback()
                flash(
                    _(
                        "This form was submitted already: the case is %(number)s. The access "
                        "codes were shown then; replace a party's code if it was not printed.",
                        number=already.number,
                    ),
                    "warning",
                )
                return redirect(url_for("cases.detail", case_id=already.id))
            registration = wf.write_registration(plan, intake_token=token)
        except wf.WorkflowError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            commit_keeping_loaded()  # the page shows the case as just written
            # The codes exist only in this response: they are stored hashed.
            return render_template(
                "cases/registered.html",
                case=registration.case,
                codes=registration.access_codes,
                parties=registration.case.parties,
            )
    return _intake_page(form, centre)


@bp.get("/<id:case_id>")
@role_required(*ALL_ROLES)
def detail(case_id: int):
    page = case_page_or_404(case_id)
    case = page.case
    return render_template(
        "cases/detail.html",
        case=case,
        handling=page.handling,
        events=page.events,
        sessions=page.sessions,
        actions=wf.allowed_actions(case, current_actor()),
        moves=wf.MOVES,
        today=local_today(case.centre),
        warning_days=warning_days(case.centre_id),
    )


@bp.route("/<id:case_id>/act/<action>", methods=["GET", "POST"])
@role_required(*ALL_ROLES)
def act(case_id: int, action: str):
    spec = ACTION_FORMS.get(action)
    if spec is None:
        abort(404)
    case = case_or_404(case_id, Case.agreement)
    actor = current_actor()
    if action not in wf.allowed_actions(case, actor):
        flash(
            _("“%(action)s” is not possible for this case now.", action=wf.MOVES[action].verb),
            "warning",
        )
        return redirect(url_for("cases.detail", case_id=case.id))
    form = spec.form_class()
    if request.method == "GET":
        form.version.data = str(case.version)
    if spec.prepare:
        spec.prepare(case, form)
    if getattr(form, "add_obligation", None) is not None and form.add_obligation.data:
        if len(form.obligations.entries) < form.obligations.max_entries:
            form.obligations.append_entry()
            spec.prepare(case, form)
        else:
            form.form_errors.append(
                _("An agreement has at most %(n)d obligations.", n=form.obligations.max_entries)
            )
        return render_template(
            "cases/act.html", case=case, form=form, action=action, moves=wf.MOVES
        )
    if form.validate_on_submit():
        try:
            result = spec.perform(case, form, actor)
            db.session.flush()
        except (wf.WorkflowError, StaleDataError) as error:
            db.session.rollback()
            _show_refusal(form, error)
            if isinstance(error, StaleDataError | wf.StaleCase):
                # Saving again means saving over what they have now seen.
                form.version.data = str(case.version)
        else:
            db.session.commit()
            if spec.shows_code:
                party, code = result
                return render_template(
                    "cases/registered.html", case=case, codes={party.id: code}, parties=[party]
                )
            flash(_("Saved: %(action)s.", action=wf.MOVES[action].verb), "success")
            return redirect(url_for("cases.detail", case_id=case.id))
    return render_template("cases/act.html", case=case, form=form, action=action, moves=wf.MOVES)


def _show_refusal(form, error: Exception) -> None:
    if isinstance(error, StaleDataError):
        error = wf.StaleCase()
    field = getattr(error, "field", None)
    if field and field in form and not isinstance(form[field], FieldList):
        form[field].errors = [*form[field].errors, str(error)]
    else:
        form.form_errors.append(str(error))

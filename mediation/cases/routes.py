"""Intake, the case page and the form of every workflow action."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import FieldList

from mediation.applications.evidence import pending_of_case
from mediation.audit.log import record_reading
from mediation.auth.access import role_required
from mediation.auth.models import Role
from mediation.cases import workflow as wf
from mediation.cases.access import case_or_404, may_see
from mediation.cases.actions import ACTION_FORMS, current_actor
from mediation.cases.blueprint import bp
from mediation.cases.forms import IntakeForm
from mediation.cases.models import Case
from mediation.cases.numbering import former_numbers_of
from mediation.cases.page import case_page_or_404
from mediation.cases.timeline import changed_meanwhile
from mediation.database import commit_keeping_loaded, reads_first_view
from mediation.directory.calendar import local_today
from mediation.directory.models import Centre
from mediation.directory.settings import warning_days
from mediation.documents.dossier import KIND_LABELS
from mediation.extensions import db
from mediation.web.language import gettext as _
from mediation.web.params import record_id

ALL_ROLES = (Role.ADMIN, Role.STAFF, Role.MEDIATOR)
# A regional administrator reads the case page too (SPEC 10), and acts on nothing.
READ_ROLES = (*ALL_ROLES, Role.REGIONAL_ADMIN)


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


def _intake_page(form: IntakeForm, centre: Centre):
    all_centres = (
        db.session.scalars(select(Centre).order_by(Centre.code)).all()
        if current_user.is_global_admin
        else []
    )
    return render_template("cases/register.html", form=form, centre=centre, all_centres=all_centres)


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.STAFF)
@reads_first_view
def register():
    centre = _intake_centre()
    form = IntakeForm()
    if request.method == "GET":
        form.start()
    if form.add_another_party() or not form.validate_on_submit():
        return _intake_page(form, centre)
    try:
        registration = wf.register_case(
            centre, form.intake_data(), current_actor(), intake_token=form.token
        )
    except wf.WorkflowError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return _intake_page(form, centre)
    case = registration.case
    if registration.is_repeat:
        db.session.rollback()
        flash(
            _(
                "This form was submitted already: the case is %(number)s. The access "
                "codes were shown then; replace a party's code if it was not printed.",
                number=case.number,
            ),
            "warning",
        )
        return redirect(url_for("cases.detail", case_id=case.id))
    commit_keeping_loaded()  # the page shows the case as just written
    # The codes exist only in this response: they are stored hashed.
    return render_template(
        "cases/registered.html", case=case, codes=registration.access_codes, parties=case.parties
    )


@bp.get("/<id:case_id>")
@role_required(*READ_ROLES)
def detail(case_id: int):
    page = case_page_or_404(case_id)
    html = render_template(
        "cases/detail.html",
        case=page.case,
        handling=page.handling,
        events=page.events,
        sessions=page.sessions,
        integrity_records=page.integrity_records,
        dossier=page.dossier,
        dossier_kinds=KIND_LABELS,
        submissions=pending_of_case(case_id)
        if page.dossier and page.handling.has_submissions
        else [],
        actions=wf.allowed_actions(page.case, current_actor()),
        moves=wf.MOVES,
        today=local_today(page.centre),
        warning_days=warning_days(page.case.centre_id),
        former_numbers=former_numbers_of(case_id)
        if any(event.action == "move" for event in page.events)
        else [],
    )
    if record_reading("case.view", page.case):
        db.session.commit()
    return html


def _submissions(page) -> list:
    """Files parties submitted from the portal, for those who decide on them (those who may
    use the dossier); not looked for when there are none."""
    return pending_of_case(page.case.id) if page.dossier and page.handling.has_submissions else []


@bp.route("/<id:case_id>/act/<action>", methods=["GET", "POST"])
@role_required(*ALL_ROLES)
def act(case_id: int, action: str):
    spec = ACTION_FORMS.get(action)
    if spec is None:
        abort(404)
    case = case_or_404(case_id, Case.agreement)
    actor = current_actor()
    if not wf.MOVES[action].roles & actor.roles:
        abort(403)  # e.g. a mediator and the edit form: never theirs, in no state
    if action not in wf.allowed_actions(case, actor):
        return _not_possible_now(case, spec, action)
    form = spec.form_for(case)
    if form.add_another_row() or not form.validate_on_submit():
        return _action_page(case, form, action)
    try:
        result = spec.perform(case, form, actor)
        db.session.flush()
    except (wf.WorkflowError, StaleDataError) as error:
        db.session.rollback()
        _show_refusal(form, error, case)
        return _action_page(case, form, action)
    message = spec.saved(case, result) if spec.saved else None
    # A case moved to another centre is no longer this user's to open: back to their list.
    stays = may_see(current_user, case.centre_id, case.mediator_user_id)
    db.session.commit()
    if spec.shows_code:
        party, code = result
        return render_template(
            "cases/registered.html", case=case, codes={party.id: code}, parties=[party]
        )
    flash(message or _("Saved: %(action)s.", action=wf.MOVES[action].verb), "success")
    if not stays:
        return redirect(url_for("cases.index"))
    return redirect(url_for("cases.detail", case_id=case.id))


def _not_possible_now(case: Case, spec, action: str):
    """An action the case no longer allows: a form opened is not shown; a form saved is
    shown again as typed, with what happened to the case meanwhile."""
    if request.method == "GET":
        verb = wf.MOVES[action].verb
        flash(_("“%(action)s” is not possible for this case now.", action=verb), "warning")
        return redirect(url_for("cases.detail", case_id=case.id))
    form = spec.form_for(case)
    form.form_errors.append(changed_meanwhile(case, action))
    return _action_page(case, form, action, refused=True)


def _action_page(case: Case, form, action: str, refused: bool = False):
    return render_template(
        "cases/act.html", case=case, form=form, action=action, moves=wf.MOVES, refused=refused
    )


def _show_refusal(form, error: Exception, case: Case) -> None:
    """The refusal beside its field (or above the form); after a stale save, the form is
    made to save over what the user has now seen."""
    if isinstance(error, StaleDataError):
        error = wf.StaleCase()
    if isinstance(error, wf.StaleCase):
        form.version.data = str(case.version)
    field = getattr(error, "field", None)
    if field and field in form and not isinstance(form[field], FieldList):
        form[field].errors = [*form[field].errors, str(error)]
    else:
        form.form_errors.append(str(error))

"""Online applications: the applicant's pages (no account), the staff's decision, and the
evidence a party adds from the portal with the staff's decision on it."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import Row, select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests

from mediation.applications import decisions, evidence, queries
from mediation.applications.forms import (
    AcceptForm,
    ApplicationLookupForm,
    ApplyForm,
    DeclineForm,
    EvidenceForm,
    RejectForm,
)
from mediation.applications.models import Application, SubmittedFile
from mediation.audit.log import client_address
from mediation.auth.access import require_centre, role_required
from mediation.auth.models import Role
from mediation.auth.throttle import minutes_to_wait
from mediation.cases import workflow as wf
from mediation.cases.access import case_or_404
from mediation.cases.models import Case
from mediation.cases.queries import centres_for
from mediation.database import commit_keeping_loaded, read, reads_first, reads_first_view
from mediation.directory.calendar import local_today
from mediation.directory.models import Centre
from mediation.directory.terms import CATEGORIES
from mediation.documents import dossier, storage
from mediation.extensions import db
from mediation.portal.lookup import LookupThrottled, SessionParty
from mediation.portal.status import party_required
from mediation.web.errors import ERROR_TEXTS
from mediation.web.language import gettext as _
from mediation.web.language import locale_name
from mediation.web.params import record_id, upload_limit

bp = Blueprint("applications", __name__)

STAFF_ROLES = (Role.ADMIN, Role.STAFF)
# Five files of up to 20 MB each, and the form's text.
APPLY_MAX_BYTES = 5 * 20 * 1024 * 1024 + 1024 * 1024


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    title, _text = ERROR_TEXTS[413]
    page = render_template(
        "errors/error.html", status=413, title=title, text="", detail=storage.too_large_message()
    )
    return page, 413


def _too_many(message: str, wait_seconds: int) -> TooManyRequests:
    return TooManyRequests(message, retry_after=wait_seconds)


# --- the applicant -------------------------------------------------------------------------


def _centres() -> list[Row]:
    """The deployment's centres to choose from: their ids and names, in code order."""
    return read(_CENTRES).all()


_CENTRES = select(Centre.id, Centre.name).order_by(Centre.code)


@bp.route("/apply", methods=["GET", "POST"])
@upload_limit(APPLY_MAX_BYTES)
@reads_first_view
def apply():
    centres = _centres()
    if request.method != "POST":
        return _apply_page(blank_sections(centres), ApplyForm.new_token())
    form = ApplyForm()
    form.offer_centres(centres)
    if form.add_another_respondent():
        pass
    elif form.validate_on_submit():
        centre = db.session.get(Centre, form.centre.data)  # one of the choices
        uploads = [(f.stream, f.filename) for f in form.uploads]
        try:
            submitted = decisions.submit_application(
                form.application_data(centre), uploads, client_address(), form.token
            )
        except decisions.ApplicationThrottled as refusal:
            db.session.rollback()
            raise _too_many(
                _(
                    "Too many applications from this phone number or this device today. "
                    "Please try again in %(n)d minutes, or call the centre.",
                    n=minutes_to_wait(refusal.wait_seconds),
                ),
                refusal.wait_seconds,
            ) from None
        except decisions.ApplicationError as error:
            db.session.rollback()
            form[error.field or "files"].errors = [*form[error.field or "files"].errors, str(error)]
        else:
            commit_keeping_loaded()  # the page shows what was just written
            # The code exists only in this response: it is stored hashed.
            return render_template(
                "applications/applied.html",
                application=submitted.application,
                code=submitted.code,
                centre=centre,
            )
    if form.uploads and (form.errors or form.add_respondent.data):
        # A browser cannot be given chosen files back: say so beside the field.
        form.files.errors = [
            *form.files.errors,
            _(
                "Choose your files again: %(names)s.",
                names="、".join(storage.clean_filename(f.filename) for f in form.uploads),
            ),
        ]
    return _apply_page(_sections(form), form.submission.data or "", form)


def _apply_page(sections: Markup, submission: str, form: ApplyForm | None = None):
    return render_template(
        "applications/apply.html", sections=sections, submission=submission, form=form
    )


def _sections(form: ApplyForm) -> Markup:
    return Markup(render_template("applications/_apply_sections.html", form=form))


# Languages × lists of centres: an old list is dropped with the rest when the limit is reached.
BLANK_SECTIONS_KEPT = 16


def blank_sections(centres: list[Row]) -> Markup:
    """The blank form's sections, the same for every applicant until one posts the form: kept
    by language and the centres offered, all they depend on (README, Performance). Rendered
    anew each time while templates reload (development)."""
    kept = current_app.extensions.setdefault("blank_application_sections", {})
    key = (locale_name(), tuple(tuple(centre) for centre in centres))
    sections = kept.get(key)
    if sections is None:
        form = ApplyForm(formdata=None)
        form.offer_centres(centres)
        sections = _sections(form)
        if current_app.jinja_env.auto_reload:
            return sections
        if len(kept) >= BLANK_SECTIONS_KEPT:
            kept.clear()
        kept[key] = sections
    return sections


@bp.route("/apply/status", methods=["GET", "POST"])
def status():
    form = ApplicationLookupForm()
    application = None
    if form.validate_on_submit():
        reads_first()
        try:
            application = decisions.look_up_application(
                form.number.data, form.code.data, client_address()
            )
        except LookupThrottled as refusal:
            raise _too_many(
                _(
                    "Too many failed look-ups. For your security, please try again in "
                    "%(n)d minutes.",
                    n=minutes_to_wait(refusal.wait_seconds),
                ),
                refusal.wait_seconds,
            ) from None
        if application is None:
            db.session.commit()  # the failure, counted
            form.form_errors.append(
                _(
                    "No application matches this number and code. Check both against what "
                    "was shown when you applied and try again."
                )
            )
    return render_template(
        "applications/status.html",
        form=form,
        application=application,
        reasons=decisions.DECLINE_LABELS,
    )


def _case_of(application: Application | None) -> Case | None:
    if application is None or application.case_id is None:
        return None
    return db.session.get(Case, application.case_id)


# --- the centre's decision -----------------------------------------------------------------


def _application_or_404(application_id: int) -> Application:
    """The application if the user's centre received it (another centre's: 404)."""
    application = db.session.get(Application, application_id)
    if application is None:
        abort(404)
    require_centre(application.centre_id)
    return application


def _application_page(application: Application, decline_form=None, error=None):
    return render_template(
        "applications/detail.html",
        application=application,
        centre=db.session.get(Centre, application.centre_id),
        files=decisions.files_of(application),
        case=_case_of(application),
        accept_form=AcceptForm(),
        decline_form=decline_form or DeclineForm(formdata=None),
        error=error,
        categories=CATEGORIES,
        reasons=decisions.DECLINE_LABELS,
    )


@bp.get("/applications/")
@role_required(*STAFF_ROLES)
def index():
    """The centre's pending applications, a page at a time (a global administrator picks the
    centre, as on the dashboard)."""
    centres = centres_for(current_user)
    chosen = request.args.get("centre", type=record_id)
    centre = next((c for c in centres if c.id == chosen), centres[0] if centres else None)
    after = queries.parse_after(request.args.get("after"))
    rows, following = queries.pending_page(centre.id, after) if centre else ([], None)
    return render_template(
        "applications/index.html",
        centre=centre,
        centres=centres if current_user.is_global_admin else [],
        rows=rows,
        following=following,
        today=local_today(centre) if centre else None,
        categories=CATEGORIES,
    )


@bp.get("/applications/<id:application_id>")
@role_required(*STAFF_ROLES)
def detail(application_id: int):
    return _application_page(_application_or_404(application_id))


@bp.post("/applications/<id:application_id>/accept")
@role_required(*STAFF_ROLES)
def accept(application_id: int):
    application = _application_or_404(application_id)
    if not AcceptForm().validate_on_submit():
        return _application_page(application, error=_("The form expired; please try again."))
    try:
        registration = decisions.accept_application(application, current_user)
    except (wf.WorkflowError, decisions.ApplicationError, StaleDataError) as error:
        db.session.rollback()
        return _application_page(_application_or_404(application_id), error=str(error))
    case = registration.case
    commit_keeping_loaded()
    # The respondents' codes exist only in this response: they are stored hashed.
    return render_template(
        "applications/accepted.html",
        application=application,
        case=case,
        codes=registration.access_codes,
        parties=case.parties,
    )


@bp.post("/applications/<id:application_id>/decline")
@role_required(*STAFF_ROLES)
def decline(application_id: int):
    application = _application_or_404(application_id)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            decisions.decline_application(
                application, form.reason.data, form.note.data, current_user
            )
        except decisions.ApplicationError as error:
            db.session.rollback()
            application = _application_or_404(application_id)
            if error.field in ("reason", "note"):
                form[error.field].errors = [*form[error.field].errors, str(error)]
            else:
                return _application_page(application, form, error=str(error))
        else:
            db.session.commit()
            flash(
                _(
                    "Application %(number)s declined; the applicant is told by SMS.",
                    number=application.number,
                ),
                "success",
            )
            return redirect(url_for("cases.dashboard"))
    return _application_page(application, form)


@bp.get("/applications/<id:application_id>/files/<id:file_id>")
@role_required(*STAFF_ROLES)
def application_file(application_id: int, file_id: int):
    application = _application_or_404(application_id)
    submitted = db.session.get(SubmittedFile, file_id)
    if submitted is None or submitted.application_id != application.id:
        abort(404)
    return _send(submitted)


def _send(submitted: SubmittedFile):
    path = storage.path_for(submitted.sha256)
    if not path.is_file():
        current_app.logger.error("submitted file %s missing (%s)", path, submitted.id)
        abort(404)
    content_type = storage.sniff(path) or "application/octet-stream"
    return send_file(
        path,
        mimetype=content_type,
        as_attachment=True,
        download_name=storage.download_name(submitted.filename, content_type),
        max_age=0,
    )


# --- evidence from the portal --------------------------------------------------------------


@bp.route("/status/evidence", methods=["GET", "POST"])
@reads_first_view
@party_required
def party_evidence(party: SessionParty):
    case = db.session.get(Case, party.case_id)
    form = EvidenceForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            evidence.submit_evidence(case, party, upload.stream, upload.filename)
        except (evidence.EvidenceError, storage.UploadRefused) as error:
            db.session.rollback()
            form.file.errors = [*form.file.errors, str(error)]
        else:
            db.session.commit()
            flash(
                _(
                    "Thank you: the file is sent. The centre will look at it and take it into "
                    "your case's file."
                ),
                "success",
            )
            return redirect(url_for("applications.party_evidence"))
    return render_template(
        "applications/party_evidence.html",
        party=party,
        case=case,
        form=form,
        submissions=evidence.submitted_by(party),
        left=max(0, evidence.daily_limit() - evidence.uploads_today(party)),
        closed=case.concluded_at is not None,
    )


def _dossier_case(case_id: int) -> Case:
    """The case if the user may use its dossier: staff of its centre or its mediator (404
    another centre's case, 403 a case not theirs)."""
    case = case_or_404(case_id)
    if not dossier.may_use_dossier(case, current_user):
        abort(403)
    return case


def _submission_or_404(case: Case, submission_id: int) -> SubmittedFile:
    submitted = evidence.submission_of(case, submission_id)
    if submitted is None:
        abort(404)
    return submitted


@bp.get("/cases/<id:case_id>/submitted/<id:submission_id>")
@role_required(Role.ADMIN, Role.STAFF, Role.MEDIATOR)
def submitted_file(case_id: int, submission_id: int):
    case = _dossier_case(case_id)
    return _send(_submission_or_404(case, submission_id))


@bp.post("/cases/<id:case_id>/submitted/<id:submission_id>/accept")
@role_required(Role.ADMIN, Role.STAFF, Role.MEDIATOR)
def accept_submission(case_id: int, submission_id: int):
    case = _dossier_case(case_id)
    submitted = _submission_or_404(case, submission_id)
    if AcceptForm().validate_on_submit():
        try:
            evidence.accept_submission(case, submitted, current_user)
        except evidence.EvidenceError as error:
            db.session.rollback()
            flash(str(error), "warning")
        else:
            db.session.commit()
            flash(_("Added to the dossier: %(name)s.", name=submitted.filename), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor="submitted"))


@bp.post("/cases/<id:case_id>/submitted/<id:submission_id>/reject")
@role_required(Role.ADMIN, Role.STAFF, Role.MEDIATOR)
def reject_submission(case_id: int, submission_id: int):
    case = _dossier_case(case_id)
    submitted = _submission_or_404(case, submission_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            evidence.reject_submission(case, submitted, form.reason.data, current_user)
        except evidence.EvidenceError as error:
            db.session.rollback()
            flash(str(error), "warning")
        else:
            db.session.commit()
            flash(_("Not taken: %(name)s. The party sees why.", name=submitted.filename), "info")
    else:
        flash(_("Say why the file is not taken, for the party."), "warning")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor="submitted"))

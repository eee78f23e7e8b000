"""The dossier of a case and its printable documents."""

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
from werkzeug.exceptions import RequestEntityTooLarge

from mediation.audit.log import record, record_reading
from mediation.auth.access import role_required
from mediation.auth.models import Role, User
from mediation.cases.access import case_or_404, preload_agreement
from mediation.cases.models import Case, MediationSession
from mediation.cases.workflow import MOVES, Actor, allowed_actions
from mediation.directory.calendar import local_today
from mediation.documents import dossier, storage
from mediation.documents.forms import HandedOverForm, SupersedeForm, UploadForm
from mediation.extensions import db
from mediation.web.errors import ERROR_TEXTS
from mediation.web.language import gettext as _
from mediation.web.params import record_id

bp = Blueprint("documents", __name__, url_prefix="/cases")

ALL_ROLES = (Role.ADMIN, Role.STAFF, Role.MEDIATOR)
# Those who may read a case's files and papers: a regional administrator too (SPEC 10).
READ_ROLES = (*ALL_ROLES, Role.REGIONAL_ADMIN)


def _dossier_case(case_id: int, *relationships, to_change: bool = False) -> Case:
    """The case if the current user may see its dossier, or with `to_change` add to it
    (404 other centre, 403 not theirs or only to read)."""
    case = case_or_404(case_id, *relationships)
    allowed = dossier.may_use_dossier if to_change else dossier.may_see_dossier
    if not allowed(case, current_user):
        abort(403)
    return case


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    title, _text = ERROR_TEXTS[413]
    page = render_template(
        "errors/error.html", status=413, title=title, text="", detail=storage.too_large_message()
    )
    return page, 413


@bp.route("/<id:case_id>/dossier", methods=["GET", "POST"])
@role_required(*READ_ROLES)
def dossier_page(case_id: int):
    case = _dossier_case(case_id, to_change=request.method == "POST")
    if not dossier.may_use_dossier(case, current_user):
        page = _dossier_template(case, dossier.dossier_of(case), None)
        if record_reading("case.dossier", case):
            db.session.commit()
        return page
    entries = dossier.dossier_of(case)
    form = UploadForm()
    form.offer_replacements(entries)
    if form.validate_on_submit():
        replaces = dossier.attachment_of(case, form.replaces_id) if form.replaces_id else None
        upload = form.file.data
        try:
            attachment = dossier.add_file(
                case,
                upload.stream,
                upload.filename,
                form.kind.data,
                current_user,
                note=form.note.data or "",
                replaces=replaces,
            )
        except (storage.UploadRefused, dossier.DossierError) as error:
            db.session.rollback()
            field = getattr(error, "field", None) or "file"
            form[field].errors = [*form[field].errors, str(error)]
        else:
            db.session.commit()
            flash(_("Added to the dossier: %(name)s.", name=attachment.filename), "success")
            return redirect(url_for("documents.dossier_page", case_id=case.id))
    return _dossier_template(case, entries, form)


def _dossier_template(case: Case, entries, form: UploadForm | None):
    """The dossier page; without `form` (to read only) no upload or supersede forms."""
    return render_template(
        "documents/dossier_page.html",
        case=case,
        entries=entries,
        form=form,
        supersede_form=SupersedeForm() if form is not None else None,
        kinds=dossier.KIND_LABELS,
    )


@bp.get("/<id:case_id>/dossier/<id:attachment_id>")
@role_required(*READ_ROLES)
def download(case_id: int, attachment_id: int):
    case = _dossier_case(case_id)
    attachment = dossier.attachment_of(case, attachment_id)
    if attachment is None:
        abort(404)
    path = storage.path_for(attachment.sha256)
    if not path.is_file():
        current_app.logger.error("dossier file %s missing for attachment %s", path, attachment.id)
        abort(404)
    details = {"attachment": attachment.id, "filename": attachment.filename}
    if record_reading("dossier.download", case, **details):
        db.session.commit()  # the file is sent once the look is on record
    content_type = attachment.stored_file.content_type
    return send_file(
        path,
        mimetype=content_type,
        as_attachment=True,
        download_name=storage.download_name(attachment.filename, content_type),
        max_age=0,
    )


@bp.post("/<id:case_id>/dossier/<id:attachment_id>/supersede")
@role_required(*ALL_ROLES)
def supersede(case_id: int, attachment_id: int):
    case = _dossier_case(case_id)
    attachment = dossier.attachment_of(case, attachment_id)
    if attachment is None:
        abort(404)
    if SupersedeForm().validate_on_submit():
        try:
            dossier.supersede(case, attachment, current_user)
        except dossier.DossierError as error:
            db.session.rollback()
            flash(str(error), "warning")
        else:
            db.session.commit()
            flash(_("Marked as superseded: %(name)s.", name=attachment.filename), "success")
    return redirect(url_for("documents.dossier_page", case_id=case.id))


@bp.route("/<id:case_id>/transfer/documents", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.STAFF)
def handed_over(case_id: int):
    case = case_or_404(case_id, Case.transfer)
    if case.transfer is None:
        abort(404)
    chosen = dossier.handed_over_ids(case.transfer)
    form = HandedOverForm()
    if request.method == "GET":
        form.attachments.data = chosen
        form.seen.data = ",".join(str(i) for i in chosen)
    form.offer(dossier.dossier_of(case), chosen)
    if form.validate_on_submit():
        try:
            dossier.record_handed_over(case, form.attachments.data or [], form.seen_ids)
        except dossier.DossierError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
            # Saving again means saving over what they have now seen.
            form.seen.data = ",".join(str(i) for i in dossier.handed_over_ids(case.transfer))
        else:
            db.session.commit()
            flash(_("Saved: the files handed to the court."), "success")
            return redirect(url_for("documents.transfer_letter", case_id=case.id))
    return render_template("documents/handed_over.html", case=case, form=form)


# --- printable documents --------------------------------------------------------------------


def _printable(template: str, case: Case, **context):
    return render_template(
        template, case=case, today=local_today(case.centre), kinds=dossier.KIND_LABELS, **context
    )


def _record_full_ids(document: str, case: Case) -> None:
    """Papers for a court carry the parties' full ID numbers, which every other page masks:
    whoever opens one is recorded."""
    record("document.full_ids", target=case.number, centre_id=case.centre_id, document=document)
    db.session.commit()


def _record_reading(document: str, case: Case) -> None:
    if record_reading("document.view", case, document=document):
        db.session.commit()


@bp.get("/<id:case_id>/print/page.css")
@role_required(*READ_ROLES)
def page_css(case_id: int):
    """The running header and footer of the case's printed documents."""
    case = case_or_404(case_id)
    css = render_template("documents/page_css.css", case=case)
    return css, {"Content-Type": "text/css; charset=utf-8"}


@bp.get("/<id:case_id>/print/notice")
@role_required(*READ_ROLES)
def notice(case_id: int):
    """The acceptance notice again, per party, without the access code (stored hashed)."""
    case = case_or_404(case_id)
    party_id = request.args.get("party", type=record_id)
    parties = [p for p in case.parties if party_id is None or p.id == party_id]
    if not parties:
        abort(404)
    page = _printable(
        "documents/notice.html",
        case,
        parties=parties,
        regenerate_label=MOVES["new_access_code"].verb,
    )
    _record_reading("notice", case)
    return page


@bp.get("/<id:case_id>/print/agreement")
@role_required(*READ_ROLES)
def agreement(case_id: int):
    case = case_or_404(case_id, Case.sessions)
    preload_agreement(case)
    if case.agreement is None:
        abort(404)
    page = _printable("documents/agreement.html", case, agreement=case.agreement, full_ids=True)
    _record_full_ids("agreement", case)
    return page


@bp.get("/<id:case_id>/print/transfer")
@role_required(*READ_ROLES)
def transfer_letter(case_id: int):
    case = case_or_404(case_id, Case.transfer)
    if case.transfer is None:
        abort(404)
    page = _printable(
        "documents/transfer_letter.html",
        case,
        full_ids=True,
        transfer=case.transfer,
        handed=dossier.handed_over(case.transfer),
        may_complete="complete_transfer" in allowed_actions(case, Actor.for_user(current_user)),
        moves=MOVES,
    )
    _record_full_ids("transfer_letter", case)
    return page


@bp.get("/<id:case_id>/print/sessions/<id:session_id>")
@role_required(*READ_ROLES)
def session_record(case_id: int, session_id: int):
    case = case_or_404(case_id, Case.sessions)
    session = db.session.get(MediationSession, session_id)
    if session is None or session.case_id != case.id:
        abort(404)
    recorder = db.session.get(User, session.recorded_by_id) if session.recorded_by_id else None
    number = [s.id for s in case.sessions].index(session.id) + 1
    page = _printable(
        "documents/session_record.html", case, session=session, number=number, recorder=recorder
    )
    _record_reading("session_record", case)
    return page

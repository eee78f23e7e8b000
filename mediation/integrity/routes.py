"""Staff pages of integrity records: a party's profile, certificates, revocation."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from mediation import clock
from mediation.audit.log import record as audit
from mediation.auth.access import role_required
from mediation.auth.models import Role
from mediation.cases.identity import mask_id
from mediation.directory.calendar import local_today
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.integrity import records
from mediation.integrity.forms import ProfileSearchForm, RevokeForm
from mediation.integrity.models import Certificate, IntegrityRecord
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l

bp = Blueprint("integrity", __name__, url_prefix="/integrity")

STAFF_ROLES = (Role.ADMIN, Role.STAFF)
STATUS_LABELS = {
    "valid": _l("Valid"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
}
STATUS_BADGES = {"valid": "success", "expired": "secondary", "revoked": "danger"}
KIND_LABELS = {"positive": _l("Performed on time"), "negative": _l("Default (internal)")}


def _status_today(certificate: Certificate) -> str:
    """valid, expired or revoked today, in the issuing centre's time zone."""
    centre = db.session.get(Centre, certificate.centre_id)
    return records.certificate_status(certificate, local_today(centre))


@bp.app_template_filter()
def certificate_status_label(status: str) -> str:
    return str(STATUS_LABELS[status])


@bp.app_template_filter()
def certificate_status_badge(status: str) -> str:
    return STATUS_BADGES[status]


@bp.app_template_filter()
def integrity_kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


@bp.route("/", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def profile():
    """A party's records across cases, found by its full ID number or credit code. The search
    is posted, so that ID numbers stay out of addresses, browser history and server logs."""
    form = ProfileSearchForm()
    if not form.validate_on_submit():
        return render_template("integrity/profile.html", form=form, found=None)
    found = records.profile(form.q.data, current_user)
    audit(
        "integrity.lookup",
        target=mask_id(found.identity_key),
        centre_id=current_user.centre_id,
        found=len(found.records),
    )
    # Rendered before the commit, which would expire the eagerly loaded rows and reload
    # each one as the page reads it.
    page = render_template("integrity/profile.html", form=form, found=found)
    db.session.commit()
    return page


def _certificate_or_404(certificate_id: int) -> Certificate:
    """404 for a certificate of a centre the user may not see: it does not exist for them."""
    certificate = db.session.get(
        Certificate,
        certificate_id,
        options=[selectinload(Certificate.record).selectinload(IntegrityRecord.party)],
    )
    if certificate is None or not current_user.may_see_centre(certificate.centre_id):
        abort(404)
    return certificate


def _certificate_page(certificate: Certificate, form: RevokeForm):
    return render_template(
        "integrity/certificate.html",
        certificate=certificate,
        party=certificate.record.party,
        case=certificate.record.party.case,
        centre=db.session.get(Centre, certificate.centre_id),
        status=_status_today(certificate),
        form=form,
        may_revoke=current_user.role == Role.ADMIN and certificate.revoked_at is None,
    )


@bp.get("/certificates/<id:certificate_id>")
@role_required(*STAFF_ROLES)
def certificate(certificate_id: int):
    return _certificate_page(_certificate_or_404(certificate_id), RevokeForm())


@bp.post("/certificates/<id:certificate_id>/revoke")
@role_required(Role.ADMIN)
def revoke(certificate_id: int):
    certificate = _certificate_or_404(certificate_id)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            records.revoke_certificate(certificate, form.reason.data, current_user, clock.now())
        except records.CertificateError as error:
            db.session.rollback()
            errors = form.reason.errors if error.field == "reason" else form.form_errors
            errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Certificate %(number)s revoked.", number=certificate.number), "success")
            return redirect(url_for("integrity.certificate", certificate_id=certificate.id))
    return _certificate_page(certificate, form)


@bp.get("/certificates/<id:certificate_id>/print")
@role_required(*STAFF_ROLES)
def print_certificate(certificate_id: int):
    certificate = _certificate_or_404(certificate_id)
    return render_template(
        "integrity/print_certificate.html",
        certificate=certificate,
        centre=db.session.get(Centre, certificate.centre_id),
        status=_status_today(certificate),
    )

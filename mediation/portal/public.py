"""Public pages: verify an integrity certificate; the honour list."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import TooManyRequests

from mediation import clock
from mediation.audit.log import client_address
from mediation.auth.throttle import Throttle, minutes_to_wait
from mediation.cases.models import Party
from mediation.directory.calendar import local_date
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.integrity import records
from mediation.integrity.forms import VerifyForm
from mediation.integrity.models import Certificate, IntegrityRecord
from mediation.portal.blueprint import bp
from mediation.web.language import show_times_in
from mediation.web.params import record_id

HONOUR_PAGE_SIZE = 30


def verify_throttle() -> Throttle:
    """Failed checks per client (VERIFY_MAX_FAILURES_PER_CLIENT in VERIFY_LOCK_MINUTES). Not
    per certificate number: numbers are easy to guess, and a limit per number would let anyone
    block the check of someone else's certificate."""
    config = current_app.config
    return Throttle(
        "certificate-check",
        config.get("VERIFY_MAX_FAILURES_PER_CLIENT", 20),
        timedelta(minutes=config.get("VERIFY_LOCK_MINUTES", 15)),
    )


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """Number + verification code → valid, expired or revoked. An unknown number and a wrong
    code get the same answer, and failed checks are throttled per client (HTTP 429)."""
    form = VerifyForm()
    if request.method == "GET":
        form.number.data = request.args.get("number", "")[:60]
    result = None
    if form.validate_on_submit():
        client = client_address()
        throttle = verify_throttle()
        if wait := throttle.retry_after(client):
            raise TooManyRequests(
                _(
                    "Too many failed checks from this device. Try again in %(n)d minutes.",
                    n=minutes_to_wait(wait),
                ),
                retry_after=wait,
            )
        certificate = records.find_certificate(form.number.data, form.code.data)
        if certificate is None:
            throttle.hit(client)
            db.session.commit()
            form.form_errors.append(
                _(
                    "No certificate matches this number and verification code. Check both "
                    "against the printed certificate."
                )
            )
        else:
            result = _verification(certificate)
    return render_template("portal/verify.html", form=form, result=result)


def _verification(certificate: Certificate) -> dict:
    centre = db.session.get(Centre, certificate.centre_id)
    show_times_in(centre.timezone)
    return {
        "status": records.certificate_status(certificate, local_date(clock.now(), centre)),
        "holder": records.public_holder_name(certificate),
        "centre": centre.name,
        "certificate": certificate,
    }


@bp.get("/honour")
def honour():
    """Holders of valid certificates, latest expiry (so newest) first, a page at a time:
    organisations by name, natural persons only with their consent and masked. Keyset
    pagination on (valid_until, id): the validity filter and the order walk the same range of
    ix_certificate_centre_valid (centre_id, valid_until) when a centre is chosen, and a deep
    page never scans expired certificates."""
    centres = db.session.scalars(select(Centre).order_by(Centre.code)).all()
    centre = next((c for c in centres if c.code == request.args.get("centre")), None)
    zone = centre.timezone if centre else current_app.config["TIMEZONE"]
    today = clock.now().astimezone(ZoneInfo(zone)).date()
    query = (
        select(Certificate)
        .join(IntegrityRecord, Certificate.record_id == IntegrityRecord.id)
        .join(Party, IntegrityRecord.party_id == Party.id)
        .where(
            Certificate.revoked_at.is_(None),
            Certificate.valid_until >= today,
            or_(Party.kind == "organization", Party.honour_consent.is_(True)),
        )
        .options(selectinload(Certificate.record).selectinload(IntegrityRecord.party))
        .order_by(Certificate.valid_until.desc(), Certificate.id.desc())
        .limit(HONOUR_PAGE_SIZE + 1)
    )
    if centre is not None:
        query = query.where(Certificate.centre_id == centre.id)
    before = request.args.get("before", type=record_id)
    if before:
        # The cursor is the last certificate shown; its position is (valid_until, id).
        until = db.session.scalar(select(Certificate.valid_until).where(Certificate.id == before))
        if until is not None:
            query = query.where(
                tuple_(Certificate.valid_until, Certificate.id) < tuple_(until, before)
            )
    rows = db.session.scalars(query).all()
    next_before = rows[HONOUR_PAGE_SIZE - 1].id if len(rows) > HONOUR_PAGE_SIZE else None
    names = {c.id: c.name for c in centres}
    return render_template(
        "portal/honour.html",
        entries=[
            {
                "holder": records.public_holder_name(certificate),
                "is_organization": certificate.record.party.kind == "organization",
                "centre": names.get(certificate.centre_id, ""),
                "issued_on": certificate.issued_on,
                "valid_until": certificate.valid_until,
            }
            for certificate in rows[:HONOUR_PAGE_SIZE]
        ],
        centres=centres,
        centre=centre,
        next_before=next_before,
    )

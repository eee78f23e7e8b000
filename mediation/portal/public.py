"""Public pages: verify an integrity certificate; the honour list."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy import case as sql_case
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
from mediation.web.params import page_number

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
    """Holders of valid certificates, each once with how many it holds, the latest validity
    first: organisations by name, natural persons only with their consent and masked. The
    validity filter reads its range of ix_certificate_centre_valid (centre_id, valid_until),
    so expired certificates are never read; grouped rows have no index to seek on, so pages
    are numbered."""
    centres = db.session.scalars(select(Centre).order_by(Centre.code)).all()
    centre = next((c for c in centres if c.code == request.args.get("centre")), None)
    zone = centre.timezone if centre else current_app.config["TIMEZONE"]
    today = clock.now().astimezone(ZoneInfo(zone)).date()
    page = request.args.get("page", 1, type=page_number)
    rows = db.session.execute(
        honour_holders(today, centre.id if centre else None)
        .limit(HONOUR_PAGE_SIZE + 1)
        .offset((page - 1) * HONOUR_PAGE_SIZE)
    ).all()
    names = {c.id: c.name for c in centres}
    return render_template(
        "portal/honour.html",
        entries=[
            {
                "holder": records.public_name(row.kind, row.name),
                "centre": names.get(row.centre_id, ""),
                "certificates": row.certificates,
                "issued_on": row.issued_on,
                "valid_until": row.valid_until,
            }
            for row in rows[:HONOUR_PAGE_SIZE]
        ],
        centres=centres,
        centre=centre,
        page=page,
        has_next=len(rows) > HONOUR_PAGE_SIZE,
    )


def honour_holders(today: date, centre_id: int | None):
    """One row per holder of valid certificates of a centre (all centres: None): its name,
    how many it holds, the latest issue and validity dates; the latest valid first, then the
    latest issued. A holder is its ID number or credit code, else an organisation's name,
    else (a person without an ID number) the party of one case."""
    holder = sql_case(
        (IntegrityRecord.identity_key.is_not(None), IntegrityRecord.identity_key),
        (Party.kind == "organization", Certificate.holder_name),
        else_=cast(Party.id, String),
    )
    valid = (
        select(
            Certificate.id,
            Certificate.centre_id,
            Party.kind,
            holder.label("holder"),
            Certificate.holder_name,
            Certificate.issued_on,
            Certificate.valid_until,
        )
        .join(IntegrityRecord, Certificate.record_id == IntegrityRecord.id)
        .join(Party, IntegrityRecord.party_id == Party.id)
        .where(
            Certificate.revoked_at.is_(None),
            Certificate.valid_until >= today,
            or_(Party.kind == "organization", Party.honour_consent.is_(True)),
        )
    )
    if centre_id is not None:
        valid = valid.where(Certificate.centre_id == centre_id)
    valid = valid.subquery()
    valid_until = func.max(valid.c.valid_until).label("valid_until")
    return (
        select(
            valid.c.centre_id,
            valid.c.kind,
            func.max(valid.c.holder_name).label("name"),
            func.count().label("certificates"),
            func.max(valid.c.issued_on).label("issued_on"),
            valid_until,
        )
        .group_by(valid.c.centre_id, valid.c.kind, valid.c.holder)
        .order_by(valid_until.desc(), func.max(valid.c.id).desc())
    )

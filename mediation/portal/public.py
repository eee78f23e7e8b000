"""Public pages: verify an integrity certificate; the honour list."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from sqlalchemy import func, select, true, tuple_
from sqlalchemy.orm import aliased
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
from mediation.web.language import gettext as _
from mediation.web.language import show_times_in
from mediation.web.params import business_date, record_id

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
    first: organisations by name, natural persons only with their consent and masked. Keyset
    pages: `after` is the (valid_until, id) of the last row shown."""
    centres = db.session.scalars(select(Centre).order_by(Centre.code)).all()
    centre = next((c for c in centres if c.code == request.args.get("centre")), None)
    zone = centre.timezone if centre else current_app.config["TIMEZONE"]
    today = clock.now().astimezone(ZoneInfo(zone)).date()
    after = honour_cursor(request.args.get("after", ""))
    rows = db.session.execute(
        honour_holders(today, centre.id if centre else None, after).limit(HONOUR_PAGE_SIZE + 1)
    ).all()
    names = {c.id: c.name for c in centres}
    shown = rows[:HONOUR_PAGE_SIZE]
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
            for row in shown
        ],
        centres=centres,
        centre=centre,
        is_first=after is None,
        after=f"{shown[-1].valid_until.isoformat()}_{shown[-1].id}"
        if len(rows) > HONOUR_PAGE_SIZE
        else None,
    )


def honour_cursor(text: str) -> tuple[date, int] | None:
    """`2027-03-19_42` → (valid_until, id) of the last row of the page before; None for the
    first page, or for anything that is no such pair."""
    day, _sep, ident = text.partition("_")
    try:
        return business_date(day), record_id(ident)
    except ValueError:
        return None


def honour_holders(today: date, centre_id: int | None, after: tuple[date, int] | None = None):
    """One row per holder of valid listed certificates of a centre (all centres: None), newest
    validity first from after `after`: the holder's latest certificate (its id, name, issue and
    validity dates; records.refresh_honour marks it) and how many valid ones it holds. Read in
    the order of ix_certificate_latest (a centre's: ix_certificate_centre_latest); the count from
    a range of ix_certificate_holder, for the rows shown only."""
    c, same = Certificate, aliased(Certificate)
    held = (
        select(func.count())
        .select_from(same)
        .where(
            same.holder_key == c.holder_key,
            same.centre_id == c.centre_id,
            same.is_listed == true(),  # = (not IS) so that PostgreSQL seeks the index
            same.valid_until >= today,
        )
        .scalar_subquery()
    )
    query = (
        select(
            c.id,
            c.centre_id,
            Party.kind,
            c.holder_name.label("name"),
            held.label("certificates"),
            c.issued_on,
            c.valid_until,
        )
        .join(IntegrityRecord, c.record_id == IntegrityRecord.id)
        .join(Party, IntegrityRecord.party_id == Party.id)
        .where(c.is_latest == true(), c.valid_until >= today)
        .order_by(c.valid_until.desc(), c.id.desc())
    )
    if centre_id is not None:
        query = query.where(c.centre_id == centre_id)
    if after is not None:
        query = query.where(tuple_(c.valid_until, c.id) < tuple_(*after))
    return query

"""Public pages: verify an integrity certificate; the honour list."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, tuple_
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


def _listed(certificate, today: date):
    """A certificate the honour list may show: valid today, and its holder an organisation or
    a person who consented."""
    record, party = aliased(IntegrityRecord), aliased(Party)
    return (
        select(certificate)
        .join(record, certificate.record_id == record.id)
        .join(party, record.party_id == party.id)
        .where(
            certificate.revoked_at.is_(None),
            certificate.valid_until >= today,
            or_(party.kind == "organization", party.honour_consent.is_(True)),
        )
    )


def honour_holders(today: date, centre_id: int | None, after: tuple[date, int] | None = None):
    """One row per holder of listed certificates of a centre (all centres: None), newest
    validity first from after `after`: the holder's latest certificate (the row's id, name,
    issue and validity dates) and how many it holds. The rows are read in the order of an
    index on (valid_until, id); a row whose holder has a later listed certificate is skipped
    (seen through ix_certificate_holder), so a page reads about as many rows as it shows."""
    c, later, same = Certificate, aliased(Certificate), aliased(Certificate)
    same_holder = [later.holder_key == c.holder_key, later.centre_id == c.centre_id]
    has_later = (
        _listed(later, today)
        .where(
            *same_holder,
            or_(
                later.valid_until > c.valid_until,
                and_(later.valid_until == c.valid_until, later.id > c.id),
            ),
        )
        .exists()
    )
    held = (
        _listed(same, today)
        .with_only_columns(func.count())
        .where(same.holder_key == c.holder_key, same.centre_id == c.centre_id)
        .scalar_subquery()
    )
    record, party = IntegrityRecord, Party
    query = (
        select(
            c.id,
            c.centre_id,
            party.kind,
            c.holder_name.label("name"),
            held.label("certificates"),
            c.issued_on,
            c.valid_until,
        )
        .join(record, c.record_id == record.id)
        .join(party, record.party_id == party.id)
        .where(
            c.revoked_at.is_(None),
            c.valid_until >= today,
            or_(party.kind == "organization", party.honour_consent.is_(True)),
            ~has_later,
        )
        .order_by(c.valid_until.desc(), c.id.desc())
    )
    if centre_id is not None:
        query = query.where(c.centre_id == centre_id)
    if after is not None:
        query = query.where(tuple_(c.valid_until, c.id) < tuple_(*after))
    return query

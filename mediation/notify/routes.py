"""In-app notices of the signed-in user, and the outbox as staff see it."""

from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import bindparam, select, update

from mediation import clock
from mediation.audit.log import record
from mediation.auth.access import role_required
from mediation.auth.models import Role, User
from mediation.cases.identity import mask_phone
from mediation.cases.models import Case, Party
from mediation.database import read
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.notify import outbox
from mediation.notify.models import UNREAD_CAP, OutboxMessage, unread_notices
from mediation.web.csv_export import csv_response
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l
from mediation.web.params import record_id

bp = Blueprint("notify", __name__)

PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
# Everyone with a login has notices (a regional administrator gets none, but has the link).
ALL_ROLES = (Role.ADMIN, Role.STAFF, Role.MEDIATOR, Role.REGIONAL_ADMIN)
# The export carries full phone numbers (staff send held SMS by hand from it): administrators
# only, and audited.
EXPORT_ROLES = (Role.ADMIN,)
OUTBOX_STATES = {
    "held": _l("Held"),
    "failed": _l("Failed"),
    "pending": _l("Waiting to be sent"),
    "sent": _l("Sent"),
}
CHANNELS = {
    "in_app": _l("In-app"),
    "sms": _l("SMS"),
    "email": _l("E-mail"),
    "webhook": _l("Webhook"),
}


# For a user not loaded with their count (accounts.load_session_user counts it).
_UNREAD = select(unread_notices(bindparam("user_id")))


def unread_count(user) -> int:
    """The user's unread notices (up to UNREAD_CAP): counted when the user was loaded for
    this request, so the header costs no statement of its own."""
    counted = getattr(user, "unread_notices", None)
    if counted is None:
        counted = read(_UNREAD, {"user_id": user.id}).scalar_one()
    return counted


def register_unread_count(app: Flask) -> None:
    @app.context_processor
    def _unread():
        if not current_user.is_authenticated:
            return {"unread_notices": 0}
        return {"unread_notices": unread_count(current_user), "unread_cap": UNREAD_CAP}


# --- the user's notices --------------------------------------------------------------------


@bp.get("/notices")
@role_required(*ALL_ROLES)
def notices():
    """Newest first, paged by id (keyset)."""
    query = (
        select(OutboxMessage, Case.number)
        .outerjoin(Case, Case.id == OutboxMessage.case_id)
        .where(OutboxMessage.user_id == current_user.id, OutboxMessage.channel == "in_app")
        .order_by(OutboxMessage.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    before = request.args.get("before", type=record_id)
    if before:
        query = query.where(OutboxMessage.id < before)
    rows = db.session.execute(query).tuples().all()
    next_before = rows[PAGE_SIZE - 1][0].id if len(rows) > PAGE_SIZE else None
    return render_template("notify/notices.html", rows=rows[:PAGE_SIZE], next_before=next_before)


@bp.post("/notices/<id:message_id>/read")
@role_required(*ALL_ROLES)
def mark_read(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.user_id != current_user.id:
        abort(404)
    message.read_at = message.read_at or clock.now()
    db.session.commit()
    if message.case_id and request.form.get("open"):
        return redirect(url_for("cases.detail", case_id=message.case_id))
    return redirect(url_for("notify.notices"))


@bp.post("/notices/read")
@role_required(*ALL_ROLES)
def mark_all_read():
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.user_id == current_user.id, OutboxMessage.read_at.is_(None))
        .values(read_at=clock.now())
    )
    db.session.commit()
    flash(_("All notices marked as read."), "success")
    return redirect(url_for("notify.notices"))


# --- the outbox, for staff -------------------------------------------------------------------


def _outbox_centre() -> Centre:
    """Staff see their own centre's outbox; a global admin picks one (?centre=ID)."""
    if current_user.centre_id is not None:
        return current_user.centre
    centre_id = request.args.get("centre", type=record_id)
    centre = db.session.get(Centre, centre_id) if centre_id else None
    centre = centre or db.session.scalar(select(Centre).order_by(Centre.code).limit(1))
    if centre is None:
        abort(404)
    return centre


def _outbox_query(centre: Centre, state: str):
    """Messages of a centre in a state, newest first, on ix_outbox_message_centre_state."""
    return (
        select(OutboxMessage, Case.number, Party.name, User.display_name)
        .outerjoin(Case, Case.id == OutboxMessage.case_id)
        .outerjoin(Party, Party.id == OutboxMessage.party_id)
        .outerjoin(User, User.id == OutboxMessage.user_id)
        .where(OutboxMessage.centre_id == centre.id, OutboxMessage.state == state)
        .order_by(OutboxMessage.id.desc())
    )


def _state_arg() -> str:
    state = request.args.get("state", "held")
    return state if state in OUTBOX_STATES else "held"


@bp.get("/outbox")
@role_required(Role.ADMIN, Role.STAFF)
def outbox_page():
    centre, state = _outbox_centre(), _state_arg()
    query = _outbox_query(centre, state).limit(PAGE_SIZE + 1)
    before = request.args.get("before", type=record_id)
    if before:
        query = query.where(OutboxMessage.id < before)
    rows = db.session.execute(query).tuples().all()
    next_before = rows[PAGE_SIZE - 1][0].id if len(rows) > PAGE_SIZE else None
    all_centres = (
        db.session.scalars(select(Centre).order_by(Centre.code)).all()
        if current_user.is_global_admin
        else []
    )
    return render_template(
        "notify/outbox_page.html",
        rows=rows[:PAGE_SIZE],
        next_before=next_before,
        centre=centre,
        state=state,
        states=OUTBOX_STATES,
        channels=CHANNELS,
        all_centres=all_centres,
        mask_phone=mask_phone,
        may_export=current_user.has_role(*EXPORT_ROLES),
        sendable={name for name, sender in outbox.CHANNEL_SENDERS.items() if sender.configured()},
    )


@bp.get("/outbox/export.csv")
@role_required(*EXPORT_ROLES)
def export_outbox():
    """The messages of one state as CSV (UTF-8 with BOM, for Excel), e.g. the held SMS to
    send through another channel while no gateway is configured. Full phones leave the system
    here, so only administrators export, and each export is audited; staff get 403."""
    centre, state = _outbox_centre(), _state_arg()
    rows = db.session.execute(_outbox_query(centre, state).limit(EXPORT_LIMIT)).tuples().all()
    zone = ZoneInfo(centre.timezone)
    header = [
        _("Number"),
        _("Created (%(zone)s)", zone=centre.timezone),
        _("Delivery channel"),
        _("Case number"),
        _("Recipient"),
        _("Phone or address"),
        _("Text"),
        _("State"),
        _("Attempts"),
        _("Last error"),
    ]
    lines = [header]
    for message, number, party_name, user_name in rows:
        lines.append(
            [
                str(message.id),
                message.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                str(CHANNELS.get(message.channel, message.channel)),
                number or "",
                party_name or user_name or "",
                message.address,
                message.body,
                str(OUTBOX_STATES.get(message.state, message.state)),
                str(message.attempts),
                message.last_error or "",
            ]
        )
    record("outbox.export", target=state, centre_id=centre.id, rows=len(rows))
    db.session.commit()
    filename = f"outbox-{centre.code}-{state}-{clock.now():%Y%m%d-%H%M%S}.csv"
    return csv_response(lines, filename)


@bp.post("/outbox/<id:message_id>/requeue")
@role_required(Role.ADMIN, Role.STAFF)
def requeue(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None or not current_user.may_see_centre(message.centre_id):
        abort(404)
    if message.state not in ("held", "failed"):
        flash(_("Only a held or failed message can be sent again."), "warning")
    elif not outbox.CHANNEL_SENDERS[message.channel].configured():
        flash(_("No gateway is configured for this channel; the message stays held."), "warning")
    else:
        previous = message.state
        outbox.requeue(message, clock.now())
        record("outbox.requeue", target=str(message.id), centre_id=message.centre_id)
        db.session.commit()
        flash(_("The message will be sent again with the next dispatch."), "success")
        return redirect(url_for("notify.outbox_page", state=previous, centre=message.centre_id))
    return redirect(url_for("notify.outbox_page", centre=message.centre_id))

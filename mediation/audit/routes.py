from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select

from mediation.audit.log import ACTIONS
from mediation.audit.models import AuditEntry
from mediation.auth.access import role_required
from mediation.auth.models import Role
from mediation.extensions import db
from mediation.web.params import record_id

bp = Blueprint("audit", __name__, url_prefix="/admin")
PAGE_SIZE = 50


@bp.get("/audit/")
@role_required(Role.ADMIN)
def entries():
    """Newest first, paged by id (keyset) so a long log costs the same on every page."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PAGE_SIZE + 1)
    if not current_user.is_global_admin:
        query = query.where(AuditEntry.centre_id == current_user.centre_id)
    before = request.args.get("before", type=record_id)
    if before:
        query = query.where(AuditEntry.id < before)
    rows = db.session.scalars(query).all()
    next_before = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return render_template(
        "audit/entries.html", rows=rows[:PAGE_SIZE], next_before=next_before, actions=ACTIONS
    )

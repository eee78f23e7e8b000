"""Writing audit entries. The caller commits, so an entry lands with the change it records."""

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from mediation import clock
from mediation.audit.models import AuditEntry
from mediation.extensions import db

# Every action written to the log, with the words the audit page shows for it.
ACTIONS = {
    "login.success": _l("Signed in"),
    "login.failure": _l("Failed sign-in"),
    "login.locked": _l("Sign-in refused: account locked"),
    "logout": _l("Signed out"),
    "user.create": _l("User created"),
    "user.update": _l("User changed"),
    "user.password_reset": _l("Password reset"),
    "user.password_change": _l("Password changed by its user"),
    "centre.create": _l("Centre created"),
    "centre.update": _l("Centre changed"),
    "demo.load": _l("Demo data loaded"),
    "demo.generate": _l("Demo cases generated in bulk"),
    "cases.export": _l("Cases exported"),
    "organization.create": _l("Organisation created"),
    "organization.update": _l("Organisation details changed"),
    "mediator.create": _l("Mediator created"),
    "mediator.update": _l("Mediator details changed"),
    "category.update": _l("Mediation periods changed"),
    "routing.create": _l("Routing rule added"),
    "routing.delete": _l("Routing rule removed"),
    "calendar.create": _l("Calendar day added"),
    "calendar.delete": _l("Calendar day removed"),
    "calendar.import": _l("Calendar imported from a file"),
    "settings.update": _l("Deadline settings changed"),
    "job.run": _l("Scheduled job run by hand"),
    "outbox.export": _l("Outbox messages exported"),
    "outbox.requeue": _l("Outbox message sent again"),
    "dossier.upload": _l("File added to a dossier"),
    "dossier.supersede": _l("Dossier file marked superseded"),
    "transfer.documents": _l("Files handed to the court listed"),
    "document.full_ids": _l("Document with full ID numbers opened for printing"),
    "certificate.revoke": _l("Integrity certificate revoked"),
    "integrity.lookup": _l("Integrity profile looked up"),
    "party.preferences": _l("Party preferences changed"),
    "ledger.import": _l("Ledger imported"),
    "stats.snapshot": _l("Monthly statistics snapshot made"),
}


def client_address() -> str:
    return (request.remote_addr or "") if has_request_context() else "cli"


def record(
    action: str,
    target: str = "",
    centre_id: int | None = None,
    actor=None,
    client: str | None = None,
    **details,
) -> None:
    """An audit entry; `actor` and `client` default to the request's user and address."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    db.session.add(
        AuditEntry(
            at=clock.now(),
            actor_id=actor.id if actor is not None else None,
            actor_name=actor.username if actor is not None else "",
            action=action,
            target=target[:128],
            centre_id=centre_id,
            client=(client or client_address())[:64],
            details=details,
        )
    )

"""Writing audit entries. The caller commits, so an entry lands with the change it records."""

from flask import has_request_context, request
from flask_login import current_user

from mediation import clock
from mediation.audit.models import AuditEntry
from mediation.extensions import db
from mediation.web.language import lazy_gettext as _l

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
    "dossier.accept_submitted": _l("File a party submitted taken into a dossier"),
    "evidence.submit": _l("File submitted by a party from the portal"),
    "evidence.reject": _l("File a party submitted not taken"),
    "application.accept": _l("Online application accepted"),
    "application.decline": _l("Online application declined"),
    "transfer.documents": _l("Files handed to the court listed"),
    "document.full_ids": _l("Document with full ID numbers opened for printing"),
    "certificate.revoke": _l("Integrity certificate revoked"),
    "integrity.lookup": _l("Integrity profile looked up"),
    "party.preferences": _l("Party preferences changed"),
    "ledger.import": _l("Ledger imported"),
    "stats.snapshot": _l("Monthly statistics snapshot made"),
    "audit.export": _l("Audit log exported"),
    "case.view": _l("Case page read by a regional administrator"),
    "case.dossier": _l("Dossier read by a regional administrator"),
    "dossier.download": _l("Dossier file downloaded by a regional administrator"),
    "document.view": _l("Printable document read by a regional administrator"),
    "api.call": _l("Integration API called"),
    "api.refused": _l("Integration API call refused: no valid token"),
    "api_client.create": _l("Integration client added"),
    "api_client.revoke": _l("Integration client revoked"),
    "api_client.webhook": _l("Integration client's webhook changed"),
}

# What an entry's details are called on the audit page; any other key is shown as it is.
DETAIL_LABELS = {
    "created": _l("Cases created"),
    "skipped": _l("Rows skipped"),
    "rows": _l("Rows"),
    "count": _l("Count"),
    "cases": _l("Cases"),
    "status": _l("Outcome"),
    "role": _l("Role"),
    "region": _l("Region"),
    "name": _l("Name"),
    "month": _l("Month"),
    "filename": _l("File"),
    "size": _l("Size (bytes)"),
    "content_type": _l("File type"),
    "kind": _l("Kind"),
    "attachment": _l("File number"),
    "superseded_by": _l("Superseded by"),
    "party": _l("Party"),
    "note": _l("Note"),
    "mediator": _l("Mediator"),
    "max_caseload": _l("Maximum caseload"),
    "is_active": _l("Active"),
    "is_workday": _l("Working day"),
    "workdays": _l("Working days"),
    "holidays": _l("Holidays"),
    "display_name": _l("Full name"),
    "centre": _l("Centre"),
    "abbreviation": _l("Abbreviation"),
    "category": _l("Dispute category"),
    "street": _l("Street or town"),
    "document": _l("Document"),
    "api_client": _l("Integration client"),
    "method": _l("Method"),
    "token": _l("Token given"),
    "scopes": _l("Scopes"),
    "url": _l("Address"),
    # An export's filter (audit.export), under the page's names for its fields.
    "user": _l("User"),
    "filtered_action": _l("Action"),
    "case": _l("Case number"),
    "from": _l("From date"),
    "to": _l("To date"),
}
# Details stored as codes, shown by their names.
DETAIL_VALUES = {
    "document": {
        "agreement": _l("Mediation agreement"),
        "transfer_letter": _l("Transfer letter"),
        "notice": _l("Acceptance notice"),
        "session_record": _l("Mediation record"),
    },
}
HIDDEN_DETAILS = {"sha256"}  # kept for checking, too long to read on a page
LIST_DETAILS = {"cases", "workdays", "holidays"}  # lists; any other pair is [before, after]
YES, NO = _l("Yes"), _l("No")


def entry_details(details: dict) -> list[tuple[str, str]]:
    """The (label, value) pairs of an audit entry's details, in the reader's language."""
    return [
        (str(DETAIL_LABELS.get(key, key)), _detail_value(_named(key, value), key in LIST_DETAILS))
        for key, value in (details or {}).items()
        if key not in HIDDEN_DETAILS
    ]


def _named(key: str, value):
    if key == "filtered_action":
        return filtered_action_label(value)
    return DETAIL_VALUES[key].get(value, value) if key in DETAIL_VALUES else value


def filtered_action_label(value: str) -> str:
    """An action as the log's filter gives it ("event:agree", "audit:login.success")."""
    from mediation.cases.workflow import MOVES  # here: importing the workflow loads this module

    kind, _sep, code = value.partition(":")
    if kind == "event":
        return str(MOVES[code].label) if code in MOVES else value
    return str(ACTIONS.get(code, value))


def _detail_value(value, is_list: bool = False) -> str:
    if isinstance(value, bool):
        return str(YES if value else NO)
    if value is None or value == "":
        return "—"
    if isinstance(value, list) and len(value) == 2 and not is_list:
        # A change is stored as [before, after].
        return f"{_detail_value(value[0])} → {_detail_value(value[1])}"
    if isinstance(value, list):
        return "、".join(_detail_value(item) for item in value)
    return str(value)


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


def record_reading(action: str, case, **details) -> bool:
    """A regional administrator's look at a case's page, papers or files (SPEC 10): they read
    the cases of many centres without working on them, so each look is kept for those
    centres. Others read their own centre's cases unrecorded. Whether an entry was added: the
    caller then commits."""
    if has_request_context() and current_user.is_authenticated and current_user.is_regional_admin:
        record(action, target=case.number, centre_id=case.centre_id, **details)
        return True
    return False

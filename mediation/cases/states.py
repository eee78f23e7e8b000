"""Case states, transfer reasons, risk levels and party roles: codes stored, labels shown."""

import enum

from mediation.web.language import lazy_gettext as _l


class State(enum.StrEnum):
    REGISTERED = "registered"
    ASSIGNED = "assigned"
    MEDIATING = "mediating"
    AGREED = "agreed"
    FULFILLED = "fulfilled"
    DEFAULTED = "defaulted"
    TRANSFERRED = "transferred"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])


STATE_LABELS = {
    State.REGISTERED: _l("Awaiting triage"),
    State.ASSIGNED: _l("Assigned"),
    State.MEDIATING: _l("In mediation"),
    State.AGREED: _l("Agreement being performed"),
    State.FULFILLED: _l("Performed"),
    State.DEFAULTED: _l("Overdue performance"),
    State.TRANSFERRED: _l("Transferred to litigation"),
    State.WITHDRAWN: _l("Withdrawn"),
}

OPEN_STATES = (State.REGISTERED, State.ASSIGNED, State.MEDIATING)
IN_MEDIATION = (State.ASSIGNED, State.MEDIATING)

TRANSFER_REASONS = {
    "unsuitable": _l("Not suitable for mediation"),
    "respondent_refused": _l("Respondent refused mediation"),
    "failed": _l("Mediation failed"),
    "party_request": _l("A party asked to go to court"),
    "deadline_expired": _l("Mediation period expired"),
    "enforcement": _l("Application for enforcement"),
}
# Conclusions that count as mediated for the success and on-time rates (SPEC 4).
MEDIATED_TRANSFER_REASONS = ("failed", "party_request", "deadline_expired")

RISK_LEVELS = {
    "low": _l("Low"),
    "medium": _l("Medium"),
    "high": _l("High"),
    "critical": _l("Critical"),
}
RISK_ORDER = list(RISK_LEVELS)
HIGH_RISKS = ("high", "critical")

PARTY_ROLES = {"applicant": _l("Applicant"), "respondent": _l("Respondent")}
PARTY_KINDS = {"person": _l("Natural person"), "organization": _l("Organisation")}

OUTCOMES = {
    "agreed": _l("Agreement"),
    "transferred": _l("Transfer to litigation"),
    "withdrawn": _l("Withdrawal"),
}

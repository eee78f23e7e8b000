from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    FetchedValue,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation import clock
from mediation.auth.models import User
from mediation.cases.states import State
from mediation.database import UTCDateTime
from mediation.directory.models import Centre, Mediator, Organization
from mediation.extensions import db

Money = Numeric(14, 2)


def _in(column: str, values) -> str:
    return f"{column} in ({', '.join(repr(str(v)) for v in values)})"


# "Received" (SPEC 4 as the README words it): registered at the centre, or moved to it.
STATS_RECEIVED = ("received_on", "category_code", "channel_code", "risk_level", "amount")
STATS_CONCLUDED = (
    "concluded_on",
    "outcome",
    "transfer_reason",
    "category_code",
    "channel_code",
    "concluded_organization_id",
    "concluded_mediator_id",
    "deadline_on",
    "registered_on",
    "received_on",
    "agreed_amount",
)
STATS_ROUTED = ("organization_id", "mediator_id")


class CaseCounter(db.Model):
    """The last case number issued per centre and year; bumped in the registering transaction,
    so numbers are gapless and never issued twice."""

    __tablename__ = "case_counter"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)


def _having(column: str) -> dict:
    """A partial index's condition, on both engines: the rows that have a `column`. A query
    asking for `column = value` reads it (the condition follows from the comparison)."""
    condition = text(f"{column} IS NOT NULL")
    return {"postgresql_where": condition, "sqlite_where": condition}


class Case(db.Model):
    __tablename__ = "dispute_case"
    __table_args__ = (
        UniqueConstraint("centre_id", "number"),
        UniqueConstraint("centre_id", "year", "seq"),
        UniqueConstraint("centre_id", "ledger_ref"),
        CheckConstraint(_in("state", State), name="known_state"),
        CheckConstraint(_in("risk_level", ("low", "medium", "high", "critical")), name="risk"),
        CheckConstraint("amount is null or amount >= 0", name="amount_not_negative"),
        CheckConstraint("people_involved >= 1", name="people_involved"),
        # A concluded case has both its conclusion time and its outcome, or neither.
        CheckConstraint(
            "(concluded_at is null) = (outcome is null) and (concluded_at is null) = "
            "(concluded_on is null)",
            name="conclusion_complete",
        ),
        CheckConstraint(
            "(outcome = 'transferred') = (transfer_reason is not null)", name="transfer_reason"
        ),
        CheckConstraint(
            "state in ('registered', 'withdrawn', 'transferred') or mediator_id is not null",
            name="mediator_when_assigned",
        ),
        # Lists are pages in registration order, narrowed by a filter: each filter has an
        # index that ends in (registered_at, id), so a page is a seek, not a sort.
        Index("ix_case_centre_state_registered", "centre_id", "state", "registered_at", "id"),
        # The month's statistics read their columns from these three indexes alone (the
        # columns after the date), so a month's cases cost no visit to the table.
        Index(
            "ix_case_centre_received",
            "centre_id",
            "received_at",
            "id",
            *STATS_RECEIVED,
        ),
        Index("ix_case_centre_registered", "centre_id", "registered_at", "id"),
        # A global administrator's list spans every centre.
        Index("ix_case_registered", "registered_at", "id"),
        Index("ix_case_mediator_state", "mediator_id", "state", "id"),
        Index("ix_case_mediator_registered", "mediator_id", "registered_at", "id"),
        # Dashboards: one index seek per state (and risk level), merged by the queue's order.
        Index("ix_case_centre_state_risk", "centre_id", "state", "risk_level", "id"),
        Index("ix_case_mediator_state_deadline", "mediator_id", "state", "deadline_on", "id"),
        # Past outcomes per mediator, for ranking mediators at triage.
        Index("ix_case_concluded_mediator", "concluded_mediator_id", "outcome"),
        # The dashboard's deadline and triage queues read these in (date, id) order; with
        # the warning times last, the hourly sweep sees from the index alone that the cases
        # near a deadline were warned already.
        Index("ix_case_centre_deadline", "centre_id", "state", "deadline_on", "id", "warned_at"),
        Index(
            "ix_case_centre_triage_due",
            "centre_id",
            "state",
            "triage_due_on",
            "id",
            "triage_warned_at",
        ),
        Index("ix_case_centre_concluded", "centre_id", "concluded_at", *STATS_CONCLUDED),
        # Statistics: cases routed in a month.
        Index("ix_case_centre_routed", "centre_id", "routed_at", *STATS_ROUTED),
        Index("ix_case_centre_category", "centre_id", "category_code", "registered_at", "id"),
        Index("ix_case_organization_registered", "organization_id", "registered_at", "id"),
        # The cases of one ledger import, listed from its page; only imported cases need it.
        Index(
            "ix_case_ledger_import_registered",
            "ledger_import_id",
            "registered_at",
            "id",
            **_having("ledger_import_id"),
        ),
        # Search by number or a part of it (cases.search): seq, and year when typed, of every
        # centre, whichever abbreviation the number was issued with.
        Index("ix_case_seq_year", "seq", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    number: Mapped[str] = mapped_column(String(40))
    year: Mapped[int]
    seq: Mapped[int]
    ledger_ref: Mapped[str | None] = mapped_column(String(64))
    # The import from the upload page that created the case (none for one from the command line).
    ledger_import_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_import.id"))
    # The registration form's one-time token: a resubmitted form (a refresh, a double
    # click) finds its case instead of registering the dispute twice.
    intake_token: Mapped[str | None] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=State.REGISTERED.value)
    version: Mapped[int] = mapped_column(default=1)

    channel_code: Mapped[str] = mapped_column(ForeignKey("channel.code"))
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    summary: Mapped[str] = mapped_column(Text, default="")
    claims: Mapped[str] = mapped_column(Text, default="")
    street: Mapped[str] = mapped_column(String(50), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    people_involved: Mapped[int] = mapped_column(default=1)
    risk_level: Mapped[str] = mapped_column(String(10), default="low")
    is_extreme: Mapped[bool] = mapped_column(default=False)

    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    registered_on: Mapped[date]
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # When the case came to its centre: its registration, or its last move (移送) from another
    # centre. The statistics count a case as received by its centre on this date.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_on: Mapped[date]
    triage_due_on: Mapped[date]

    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("mediator.id"))
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    routed_on: Mapped[date | None]
    deadline_on: Mapped[date | None]
    extension_days: Mapped[int] = mapped_column(default=0)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triage_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    concluded_on: Mapped[date | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    transfer_reason: Mapped[str | None] = mapped_column(String(30))
    # Who handled the case when it concluded (statistics by organisation and mediator).
    concluded_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    concluded_mediator_id: Mapped[int | None] = mapped_column(ForeignKey("mediator.id"))
    # The amounts its agreement's obligations set, added up (written with the agreement, which
    # never changes; none without amounts): the month's statistics sum it from the index of
    # conclusions instead of visiting each agreed case's obligations.
    agreed_amount: Mapped[Decimal | None] = mapped_column(Money)

    __mapper_args__ = {"version_id_col": version}

    centre: Mapped[Centre] = relationship()
    registered_by: Mapped[User | None] = relationship()
    organization: Mapped[Organization | None] = relationship(foreign_keys=[organization_id])
    mediator: Mapped[Mediator | None] = relationship(foreign_keys=[mediator_id])
    parties: Mapped[list["Party"]] = relationship(
        back_populates="case", order_by="Party.position", cascade="all, delete-orphan"
    )
    sessions: Mapped[list["MediationSession"]] = relationship(order_by="MediationSession.held_at")
    extensions: Mapped[list["Extension"]] = relationship(order_by="Extension.id")
    agreement: Mapped["Agreement | None"] = relationship()
    transfer: Mapped["Transfer | None"] = relationship()
    follow_ups: Mapped[list["FollowUp"]] = relationship(order_by="FollowUp.id")

    @property
    def state_enum(self) -> State:
        return State(self.state)

    @property
    def mediator_user_id(self) -> int | None:
        """The login of the mediator handling the case (None: unassigned, or no login)."""
        return self.mediator.user_id if self.mediator is not None else None

    @property
    def applicants(self) -> list["Party"]:
        return [p for p in self.parties if p.role == "applicant"]

    @property
    def respondents(self) -> list["Party"]:
        return [p for p in self.parties if p.role == "respondent"]


class Party(db.Model):
    __tablename__ = "party"
    __table_args__ = (
        CheckConstraint(_in("role", ("applicant", "respondent")), name="role"),
        CheckConstraint(_in("kind", ("person", "organization")), name="kind"),
        # Search (cases.search) by a name's start, with the case it finds read from the index
        # alone; text_pattern_ops lets PostgreSQL serve LIKE 'prefix%' under any collation.
        # A name anywhere in it is found through trigrams the migration makes for one engine,
        # outside the models: the FTS5 table party_name_search (SQLite), kept by triggers on
        # this table, and the pg_trgm index ix_party_name_trgm (PostgreSQL).
        Index("ix_party_name", "name", "case_id", postgresql_ops={"name": "text_pattern_ops"}),
        # Found by ID number, credit code or mobile, which many parties lack (a ledger names
        # its parties only): each index holds the parties that have one.
        Index("ix_party_id_number", "id_number", **_having("id_number")),
        Index("ix_party_credit_code", "credit_code", **_having("credit_code")),
        Index("ix_party_phone", "phone", **_having("phone")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("dispute_case.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    role: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(12), default="person")
    name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str | None] = mapped_column(String(18))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    phone: Mapped[str | None] = mapped_column(String(11))
    address: Mapped[str] = mapped_column(String(200), default="")
    access_code_hash: Mapped[str] = mapped_column(String(128), default="")
    access_code_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The party agreed to appear by (masked) name on the public honour list.
    honour_consent: Mapped[bool] = mapped_column(default=False)
    sms_opt_out: Mapped[bool] = mapped_column(default=False)

    case: Mapped[Case] = relationship(back_populates="parties")


class CaseEvent(db.Model):
    """What happened to a case: written once by the workflow, never changed."""

    __tablename__ = "case_event"
    # The case's timeline; the audit log's feed, newest first, of a centre, a user or an
    # action (audit.queries).
    __table_args__ = (
        Index("ix_case_event_case_id_id", "case_id", "id"),
        Index("ix_case_event_centre_id_at_id", "centre_id", "at", "id"),
        Index("ix_case_event_at_id", "at", "id"),
        # The feed of a user's events: a system's or an import's event has no user.
        Index("ix_case_event_actor_id_at_id", "actor_id", "at", "id", **_having("actor_id")),
        Index("ix_case_event_action_at_id", "action", "at", "id"),
        # The API's feed of changed cases (api.feed): a centre's events in commit order.
        Index("ix_case_event_centre_id_txid_id", "centre_id", "txid", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_case.id", ondelete="CASCADE"))
    # The centre the case was at when it happened (a move's event: the centre it left), so
    # that a centre's events read on an index, and a centre keeps the record of what it did.
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # "user", "party", "scheduler", "import": who acted when there is no user.
    actor_kind: Mapped[str] = mapped_column(String(12), default="user")
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # PostgreSQL: the writing transaction's id (a server default), so that the API's feed
    # can tell which events are committed for good (api.feed). SQLite writes one transaction
    # at a time, in id order, and leaves it empty.
    txid: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())


class FormerNumber(db.Model):
    """A number a case had at a centre it was moved away from (移送): it still finds the case
    in staff search and on the portal (numbering.cases_numbered), and the party's access
    codes issued under it still open the case."""

    __tablename__ = "case_former_number"
    __table_args__ = (
        # Per centre and year a number is issued once (its counter never goes back); found
        # on (seq, year) as the case's own numbers are.
        UniqueConstraint("seq", "year", "centre_id", name="uq_case_former_number_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("dispute_case.id", ondelete="CASCADE"), index=True
    )
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))  # that issued it
    number: Mapped[str] = mapped_column(String(40))
    year: Mapped[int]
    seq: Mapped[int]
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    to_centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))


class MediationSession(db.Model):
    __tablename__ = "mediation_session"
    __table_args__ = (Index("ix_mediation_session_case_held", "case_id", "held_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_case.id", ondelete="CASCADE"))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    is_online: Mapped[bool] = mapped_column(default=False)
    attendance: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Extension(db.Model):
    __tablename__ = "extension"
    __table_args__ = (CheckConstraint("days > 0", name="positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("dispute_case.id", ondelete="CASCADE"), index=True
    )
    days: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    previous_deadline_on: Mapped[date]
    deadline_on: Mapped[date]
    # Each party's consent as recorded: {party_id: "how consent was given"}.
    consents: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Agreement(db.Model):
    __tablename__ = "agreement"
    __table_args__ = (
        # A month's judicial confirmations, per centre.
        Index("ix_agreement_centre_id_confirmed_on", "centre_id", "confirmed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("dispute_case.id", ondelete="CASCADE"), unique=True
    )
    # Its case's centre: an agreement is written once the case is concluded, and only an
    # open case can move, so it never changes. The month's statistics count on it alone.
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    signed_on: Mapped[date]
    terms: Mapped[str] = mapped_column(Text)
    confirmation_court: Mapped[str | None] = mapped_column(String(100))
    confirmation_ruling: Mapped[str | None] = mapped_column(String(100))
    confirmed_on: Mapped[date | None]

    obligations: Mapped[list["Obligation"]] = relationship(  # noqa: F821 - integrity.models
        back_populates="agreement", order_by="Obligation.id"
    )


class Transfer(db.Model):
    """A transfer to litigation (转诉讼) and what was handed to the court."""

    __tablename__ = "transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("dispute_case.id", ondelete="CASCADE"), unique=True
    )
    reason: Mapped[str] = mapped_column(String(30))
    court: Mapped[str] = mapped_column(String(100), default="")
    undisputed_facts: Mapped[str] = mapped_column(Text, default="")
    documents: Mapped[str] = mapped_column(Text, default="")
    transferred_on: Mapped[date]
    filing_number: Mapped[str | None] = mapped_column(String(100))


class FollowUp(db.Model):
    """A follow-up visit (回访) after the case concluded."""

    __tablename__ = "follow_up"
    __table_args__ = (
        # A month's visits and how many were satisfied, per centre, from the index alone.
        Index("ix_follow_up_centre_id_visited_on", "centre_id", "visited_on", "is_satisfied"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("dispute_case.id", ondelete="CASCADE"), index=True
    )
    # Its case's centre (a visit comes after the conclusion, when the case can no longer move).
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    visited_on: Mapped[date]
    is_satisfied: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

"""The API's requests and responses as pydantic models: they validate each request and are
the OpenAPI document (routes.py), so the two cannot differ."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from mediation.web.params import FIRST_YEAR, LAST_YEAR

# Text nobody types contains NUL, which PostgreSQL cannot store.
NO_NUL = r"^[^\x00]*$"


def text(max_length: int, min_length: int = 0):
    return Annotated[
        str, StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_NUL)
    ]


Channel = Literal["walk_in", "hotline", "online", "grid", "court", "petition", "police", "other"]
CategoryCode = Literal[
    "family",
    "neighbour",
    "labour",
    "traffic",
    "medical",
    "property",
    "consumer",
    "finance",
    "lending",
    "construction",
    "contract",
    "ip",
    "administrative",
    "land",
    "other",
]
StateCode = Literal[
    "registered",
    "assigned",
    "mediating",
    "agreed",
    "fulfilled",
    "defaulted",
    "transferred",
    "withdrawn",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests -------------------------------------------------------------------------------


class PartyIn(Strict):
    role: Literal["applicant", "respondent"]
    kind: Literal["person", "organization"] = "person"
    name: text(100, 1)
    id_number: text(18) | None = Field(None, description="Resident ID (person), checksum checked")
    credit_code: text(18) | None = Field(
        None, description="Unified social credit code (organisation), checksum checked"
    )
    phone: text(11) | None = Field(None, description="Mobile, 11 digits")
    address: text(200) = ""


class Referral(Strict):
    """A referral: a court's pre-litigation case, a 12345 hotline or grid report."""

    channel: Channel
    category: CategoryCode
    parties: list[PartyIn] = Field(min_length=2, max_length=50)
    summary: text(5000, 1)
    claims: text(5000) = ""
    amount: Decimal | None = Field(
        None, ge=0, le=Decimal("999999999999.99"), decimal_places=2, description="Yuan"
    )
    street: text(50) = ""
    address: text(200) = ""
    people_involved: int = Field(1, ge=1, le=1_000_000)
    is_extreme: bool = False


class IdempotencyHeaders(BaseModel):
    idempotency_key: text(200, 1) = Field(
        alias="Idempotency-Key",
        description="Your own id of this referral: sent again, it gives the case made first.",
    )


class CourtFeedback(Strict):
    """What a court sends back: its filing number of a transferred case, or the judicial
    confirmation of an agreement (court, ruling number and date), or both."""

    filing_number: text(100, 1) | None = None
    confirmation_court: text(100, 1) | None = None
    confirmation_ruling: text(100, 1) | None = None
    confirmed_on: date | None = None


class FeedQuery(Strict):
    updated_since: AwareDatetime | None = Field(
        None, description="Changes from this time on (ISO 8601 with its UTC offset)"
    )
    cursor: text(40) | None = Field(None, description="The next_cursor of the previous page")
    limit: int = Field(100, ge=1, le=500)

    @field_validator("updated_since")
    @classmethod
    def _within_years(cls, value: datetime | None) -> datetime | None:
        if value is not None and not FIRST_YEAR < value.year < LAST_YEAR:
            raise ValueError(f"a time between {FIRST_YEAR} and {LAST_YEAR}")
        return value


# --- responses ------------------------------------------------------------------------------


class PartyOut(BaseModel):
    role: str
    kind: str
    name: str
    id_number: str | None = Field(None, description="Masked")
    credit_code: str | None = Field(None, description="Masked")
    phone: str | None = Field(None, description="Masked")


class ObligationOut(BaseModel):
    obligor: str
    obligee: str
    description: str
    amount: str | None
    due_on: date
    fulfilled_on: date | None
    is_defaulted: bool


class AgreementOut(BaseModel):
    signed_on: date
    terms: str
    confirmation_court: str | None
    confirmation_ruling: str | None
    confirmed_on: date | None
    obligations: list[ObligationOut]


class TransferOut(BaseModel):
    reason: str
    court: str
    transferred_on: date
    filing_number: str | None


class CaseOut(BaseModel):
    number: str
    centre: str
    state: StateCode
    channel: str
    category: str
    summary: str
    claims: str
    amount: str | None
    risk_level: str
    registered_at: datetime
    registered_on: date
    routed_on: date | None
    deadline_on: date | None
    concluded_on: date | None
    outcome: str | None
    transfer_reason: str | None
    organization: str | None
    mediator: str | None
    parties: list[PartyOut]
    transfer: TransferOut | None
    agreement: AgreementOut | None


class ChangeOut(BaseModel):
    action: str
    at: datetime
    from_state: str | None
    to_state: str
    number: str
    state: StateCode
    outcome: str | None


class Feed(BaseModel):
    changes: list[ChangeOut]
    next_cursor: str = Field(description="Give it as cursor to read on; the same when no change")


class MonthStats(BaseModel):
    """SPEC section 4, as `flask stats export --format json`."""

    month: str
    centre: str | None
    summary: dict[str, Any]
    transferred_by_reason: dict[str, Any]
    by_category: list[dict[str, Any]]
    by_channel: list[dict[str, Any]]
    by_organization: list[dict[str, Any]]
    by_mediator: list[dict[str, Any]]
    previous_month: dict[str, Any]
    same_month_last_year: dict[str, Any]


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as application/problem+json."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None

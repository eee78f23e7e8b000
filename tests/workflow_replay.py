"""The ledger's rows replayed one move at a time through `workflow`: the yardstick the bulk
writer (`mediation.cases.bulk`) is compared against in tests/test_bulk.py."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from mediation import clock
from mediation.cases import workflow
from mediation.cases.models import Case
from mediation.cases.workflow import Actor, IntakeData, ObligationData, PartyData
from mediation.directory.calendar import local_date
from mediation.directory.models import Centre, Mediator, Organization
from mediation.extensions import db
from mediation.integrity.records import record_default
from mediation.ledger.importer import (
    DIVERTED,
    HOURS,
    NOT_RECORDED,
    SESSION_PLACE,
    LedgerRow,
    _kind,
)
from mediation.notify import outbox


def replay(centre: Centre, rows: list[LedgerRow], actor: Actor) -> None:
    zone = ZoneInfo(centre.timezone)

    def at(day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)

    with outbox.suppressed():
        for row in rows:
            _replay_row(centre, row, actor, at)
    db.session.flush()


def _mediator(centre: Centre, organization_name: str, name: str) -> Mediator:
    organization = db.session.scalar(
        select(Organization).filter_by(centre_id=centre.id, name=organization_name)
    )
    return db.session.scalar(select(Mediator).filter_by(organization_id=organization.id, name=name))


def _replay_row(centre, row: LedgerRow, actor, at) -> None:
    parties = [PartyData("applicant", _kind(n), n) for n in row.applicants] + [
        PartyData("respondent", _kind(n), n) for n in row.respondents
    ]
    intake = IntakeData(
        channel_code=row.channel,
        category_code=row.category,
        parties=parties,
        amount=row.amount,
        summary=row.summary,
    )
    case = workflow.register_case(
        centre, intake, actor, at=at(row.registered_on, HOURS["register"])
    ).case
    case.ledger_ref = row.ref
    if row.organization:
        mediator = _mediator(centre, row.organization, row.mediator)
        workflow.route_case(
            case, mediator.organization, mediator, actor, at=at(row.assigned_on, HOURS["route"])
        )
    if not row.outcome:
        return
    concluded_at = at(row.concluded_on, HOURS["conclude"])
    if row.outcome == "withdrawn":
        workflow.withdraw_case(case, NOT_RECORDED, actor, at=concluded_at)
    elif row.outcome == "agreed":
        _agree(case, row, actor, at, concluded_at)
    elif row.transfer_reason in DIVERTED:
        workflow.divert_case(
            case, row.transfer_reason, NOT_RECORDED, actor, note=NOT_RECORDED, at=concluded_at
        )
    elif row.transfer_reason == "failed":
        workflow.fail_case(case, NOT_RECORDED, NOT_RECORDED, actor, at=concluded_at)
    elif row.transfer_reason == "party_request":
        applicant = next(p for p in case.parties if p.role == "applicant")
        workflow.request_litigation(case, actor, on_behalf_of=applicant, at=concluded_at)
    elif row.transfer_reason == "deadline_expired":
        workflow.expire_case(case, actor, at=concluded_at)


def _agree(case: Case, row: LedgerRow, actor, at, concluded_at) -> None:
    held_at = at(row.concluded_on, HOURS["session"])
    workflow.record_session(
        case,
        held_at,
        actor,
        place=SESSION_PLACE,
        attendance=NOT_RECORDED,
        minutes=NOT_RECORDED,
        at=held_at,
    )
    amount = row.agreement_amount
    terms = f"协议金额{amount}元。" if amount is not None else NOT_RECORDED
    obligations = []
    if row.due_on is not None:
        applicant = next(p for p in case.parties if p.role == "applicant")
        respondent = next(p for p in case.parties if p.role == "respondent")
        description = f"支付{amount}元" if amount is not None else "履行调解协议"
        obligations.append(
            ObligationData(respondent.id, applicant.id, description, row.due_on, amount)
        )
    agreement = workflow.agree_case(
        case, row.concluded_on, terms, obligations, actor, at=concluded_at
    )
    steps = []
    if row.confirmed_on:
        confirm_at = at(row.confirmed_on, HOURS["confirm"])
        steps.append(
            (
                confirm_at,
                lambda: workflow.confirm_agreement(
                    case, NOT_RECORDED, NOT_RECORDED, row.confirmed_on, actor, at=confirm_at
                ),
            )
        )
    if agreement.obligations:
        obligation = agreement.obligations[0]
        today = local_date(clock.now(), case.centre)
        late_until = row.fulfilled_on or today
        if late_until > row.due_on:
            default_at = at(row.due_on + timedelta(days=1), 1)
            steps.append((default_at, lambda: workflow.default_case(case, actor, at=default_at)))
        negative_on = row.due_on + timedelta(days=30)
        if late_until >= negative_on:
            negative_at = at(negative_on, 1)
            steps.append((negative_at, lambda: record_default(obligation, negative_at)))
        if row.fulfilled_on:
            fulfil_at = at(row.fulfilled_on, HOURS["fulfil"])
            steps.append(
                (
                    fulfil_at,
                    lambda: workflow.fulfil_obligation(
                        case, obligation, row.fulfilled_on, actor, at=fulfil_at
                    ),
                )
            )
    for _at, step in sorted(steps, key=lambda item: item[0]):
        step()

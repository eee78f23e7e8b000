"""Cases for tests, driven through the workflow to the state a test needs.

The `make_case` fixture in conftest.py is the way to use this; call `build_case` directly only
from a fixture wider than one test (it needs an app context and commits). Everything a case
needs that does not exist yet is created on the way, with the same usernames `make_user` and
`login` use (`staff-330106`, `mediator-330106`), so a test can sign in as the people who
handled the case.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from mediation import clock
from mediation.auth.accounts import add_user, user_by_username
from mediation.auth.models import Role, User
from mediation.cases import workflow
from mediation.cases.identity import CREDIT_CHARS, CREDIT_WEIGHTS
from mediation.cases.models import Case
from mediation.cases.states import State
from mediation.cases.workflow import Actor, IntakeData, ObligationData, PartyData
from mediation.directory.calendar import local_date
from mediation.directory.centres import add_centre, centre_by_code
from mediation.directory.models import Centre, Mediator, Organization
from mediation.extensions import db
from mediation.integrity.models import Certificate, IntegrityRecord
from tests.conftest import PASSWORD

DEFAULT_CENTRE = "330106"
COURT = "杭州市西湖区人民法院"
CENTRE_NAMES = {
    "330106": ("西湖区社会矛盾纠纷调处化解中心", "西湖"),
    "330105": ("拱墅区社会矛盾纠纷调处化解中心", "拱墅"),
}
# How make_case("transferred", transfer_reason=...) gets there.
TRANSFER_PATHS = {
    "unsuitable": State.REGISTERED,
    "respondent_refused": State.REGISTERED,
    "party_request": State.MEDIATING,
    "failed": State.MEDIATING,
    "enforcement": State.DEFAULTED,
}


def default_parties() -> list[PartyData]:
    """An applicant and a respondent, natural persons with valid ID numbers and mobiles."""
    return [
        PartyData("applicant", "person", "张三", "11010519491231002X", None, "13812345678"),
        PartyData("respondent", "person", "李四", "440524188001010014", None, "13987654321"),
    ]


def centre_for(code: str = DEFAULT_CENTRE) -> Centre:
    centre = centre_by_code(code)
    if centre is None:
        name, abbreviation = CENTRE_NAMES.get(code, (f"测试中心{code}", f"测{code[-2:]}"))
        centre = add_centre(code, name, abbreviation)
    return centre


def user_for(centre: Centre | None, role: str = "staff") -> User:
    """The user `make_user(role, centre)` would make, created if it does not exist yet."""
    username = f"{role}-{centre.code if centre else 'global'}"
    user = user_by_username(username)
    if user is None:
        user = add_user(username, f"测试{Role(role).label}", Role(role), PASSWORD, centre)
    return user


def mediator_for(centre: Centre, name: str = "王调解", username: str | None = "") -> Mediator:
    """A mediator of the centre's people's mediation committee, made if missing. `username`
    is its login: "" for `mediator-<centre code>`, None for a mediator without a login."""
    org_name = f"{centre.abbreviation}人民调解委员会"
    organization = db.session.scalar(
        select(Organization).filter_by(centre_id=centre.id, name=org_name)
    )
    if organization is None:
        organization = Organization(centre_id=centre.id, name=org_name, kind="people")
        db.session.add(organization)
        db.session.flush()
    mediator = db.session.scalar(
        select(Mediator).filter_by(organization_id=organization.id, name=name)
    )
    if mediator is None:
        login = None
        if username is not None:
            username = username or f"mediator-{centre.code}"
            login = user_by_username(username) or add_user(
                username, name, Role.MEDIATOR, PASSWORD, centre
            )
        mediator = Mediator(
            centre_id=centre.id,
            organization=organization,
            name=name,
            phone="13700001111",
            user_id=login.id if login else None,
        )
        db.session.add(mediator)
        db.session.flush()
    return mediator


def build_case(
    state: str | State = State.REGISTERED,
    *,
    centre: str = DEFAULT_CENTRE,
    at: datetime | None = None,
    mediator: Mediator | None = None,
    transfer_reason: str = "failed",
    **intake,
) -> Case:
    """A committed case in `state`, got there through the workflow functions only.

    `state`: registered, assigned, mediating, agreed (one obligation: the respondent pays the
    applicant 5,000 yuan within 30 days), fulfilled (that obligation performed), defaulted,
    transferred or withdrawn (withdrawn after routing).
    `centre`: the centre's code. `at`: when it all happens (default: the clock's now); for
    `defaulted` the case is registered and agreed two days before `at`, with the obligation
    due that day, and defaults at `at`. `mediator`: whom to route to (default: the centre's
    mediator with the login `mediator-<code>`). `transfer_reason`: how a transferred case got
    there (failed, party_request, unsuitable, respondent_refused or enforcement).
    Any other keyword is an `IntakeData` field (category_code, amount, parties, street, ...).

    The case's `access_codes` attribute holds each party's access code ({party id: code}),
    as shown once at registration.
    """
    target = State(state)
    if target == State.TRANSFERRED and transfer_reason not in TRANSFER_PATHS:
        raise ValueError(f"make_case cannot reach a transfer for {transfer_reason!r}")
    at = at or clock.now()
    centre_obj = centre_for(centre)
    staff = Actor.for_user(user_for(centre_obj, "staff"))
    data = IntakeData(
        **{
            "channel_code": "walk_in",
            "category_code": "neighbour",
            "parties": default_parties(),
            "summary": "楼上漏水，双方就维修费用发生争议。",
            "claims": "赔偿维修费用5000元。",
            "street": "西溪街道",
            **intake,
        }
    )
    via = TRANSFER_PATHS[transfer_reason] if target == State.TRANSFERRED else target
    start = at - timedelta(days=2) if State.DEFAULTED in (target, via) else at

    with clock.frozen_at(start):
        registration = workflow.register_case(centre_obj, data, staff)
        case = registration.case
        _drive(case, target, via, transfer_reason, staff, mediator or mediator_for(centre_obj))
    if State.DEFAULTED in (target, via):
        with clock.frozen_at(at):
            workflow.default_case(case, Actor.scheduler())
            if target == State.TRANSFERRED:
                workflow.enforce_agreement(case, COURT, staff)
    db.session.commit()
    case.access_codes = registration.access_codes
    return case


def _drive(case, target, via, transfer_reason, staff, mediator) -> None:
    """From registered to `via` (and to the transfer from there), all at the clock's now."""
    if via == State.REGISTERED:
        if target == State.TRANSFERRED:
            workflow.divert_case(case, transfer_reason, COURT, staff, note="不适宜调解")
        return
    workflow.route_case(case, mediator.organization, mediator, staff)
    if target == State.WITHDRAWN:
        workflow.withdraw_case(case, "申请人撤回调解申请", staff)
        return
    if via == State.ASSIGNED:
        return
    workflow.record_session(
        case, clock.now(), staff, place="中心第一调解室", attendance="双方到场", minutes="双方陈述"
    )
    if via == State.MEDIATING:
        if target == State.TRANSFERRED and transfer_reason == "failed":
            workflow.fail_case(case, COURT, "漏水事实双方无争议。", staff)
        elif target == State.TRANSFERRED:
            workflow.request_litigation(case, Actor.for_party(case.applicants[0]))
        return
    today = local_date(clock.now(), case.centre)
    due_on = today if via == State.DEFAULTED else today + timedelta(days=30)
    applicant, respondent = case.applicants[0], case.respondents[0]
    owed = ObligationData(respondent.id, applicant.id, "支付维修费用", due_on, Decimal("5000.00"))
    agreement = workflow.agree_case(case, today, "被申请人支付维修费用5000元。", [owed], staff)
    if via == State.FULFILLED:
        workflow.fulfil_obligation(case, agreement.obligations[0], today, staff)


# --- agreements and certificates (SPEC 3.4) --------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
SIGNED = date(2026, 3, 2)  # the day agreed_case's agreement is signed
DUE = date(2026, 3, 20)
ZHANG_ID = "11010519491231002X"  # the applicant of default_parties()
LI_ID = "440524188001010014"  # the respondent
CREDIT_CODE = "91330106MA2B0Q7K41"


def cst(day: date, hour: int = 10) -> datetime:
    """That day at that hour in the centres' zone (Asia/Shanghai)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def person(role: str, name: str, id_number: str | None) -> PartyData:
    return PartyData(role, "person", name, id_number, None, "13812345678")


def organisation(role: str, name: str = "杭州某某科技有限公司", code=CREDIT_CODE) -> PartyData:
    return PartyData(role, "organization", name, None, code)


def credit_code(serial: int) -> str:
    """A valid unified social credit code of its own for each serial (GB 32100-2015)."""
    body = f"91330106MA{serial:07d}"
    total = sum(
        CREDIT_CHARS.index(char) * weight for char, weight in zip(body, CREDIT_WEIGHTS, strict=True)
    )
    return body + CREDIT_CHARS[(31 - total % 31) % 31]


def agreed_case(owed, parties=None, centre=DEFAULT_CENTRE) -> Case:
    """A committed case agreed on SIGNED with obligations `owed`: (obligor, obligee, due_on)
    where obligor and obligee are positions in the party list (0: applicant, 1: respondent).
    Needs an app context."""
    intake = {"parties": parties} if parties else {}
    case = build_case("mediating", at=cst(SIGNED, 9), centre=centre, **intake)
    staff = Actor.for_user(user_for(case.centre))
    obligations = [
        ObligationData(
            case.parties[obligor].id,
            case.parties[obligee].id,
            f"第{n + 1}项义务",
            due_on,
            Decimal("1000.00"),
        )
        for n, (obligor, obligee, due_on) in enumerate(owed)
    ]
    workflow.agree_case(case, SIGNED, "双方达成协议。", obligations, staff, at=cst(SIGNED))
    db.session.commit()
    return case


def perform(case: Case, index: int, performed_on: date, at: datetime | None = None):
    """Staff record the case's obligation `index` as performed on `performed_on`, that day;
    committed. Returns the obligation."""
    obligation = case.agreement.obligations[index]
    staff = Actor.for_user(user_for(case.centre))
    workflow.fulfil_obligation(case, obligation, performed_on, staff, at=at or cst(performed_on))
    db.session.commit()
    return obligation


def certificates_of(case: Case) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .join(IntegrityRecord, Certificate.record_id == IntegrityRecord.id)
            .where(IntegrityRecord.case_id == case.id)
            .order_by(Certificate.id)
        )
    )

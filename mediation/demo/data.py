"""What `flask demo load` creates: the centre, its logins and its directory (organisations,
mediators, routing rules, the 2025–2026 holiday calendar), and beside it a second centre of
the same city with a regional administrator over both (SPEC 10). The cases come from
`cases.py`."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from mediation.auth.accounts import add_user, user_by_username
from mediation.auth.models import Role, User
from mediation.directory.centres import add_centre, centre_by_code
from mediation.directory.models import (
    CalendarDay,
    Category,
    Centre,
    CentreCategory,
    Mediator,
    Organization,
    RoutingRule,
)
from mediation.extensions import db

DEMO_CENTRE = ("330106", "西湖区社会矛盾纠纷调处化解中心", "西湖")
DEMO_CENTRE_PHONE = "0571-87001234"
DEMO_PASSWORD = "demo-pass-2026"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: Role


DEMO_LOGINS = (
    DemoLogin("demo-admin", "王管理", Role.ADMIN),
    DemoLogin("demo-staff", "李受理", Role.STAFF),
    DemoLogin("demo-mediator", "张建华", Role.MEDIATOR),
    DemoLogin("demo-mediator2", "陈静", Role.MEDIATOR),
)
STAFF_LOGIN = "demo-staff"

# name, kind, phone, address
ORGANIZATIONS = (
    ("西湖区人民调解委员会", "people", "0571-87961201", "西湖区社会矛盾纠纷调处化解中心二楼"),
    ("北山街道人民调解委员会", "people", "0571-87972315", "西湖区北山街道社会治理中心一楼"),
    (
        "西湖区道路交通事故纠纷调解委员会",
        "professional",
        "0571-87961216",
        "西湖区社会矛盾纠纷调处化解中心三楼",
    ),
    (
        "西湖区劳动争议调解中心",
        "professional",
        "0571-87961228",
        "西湖区社会矛盾纠纷调处化解中心三楼",
    ),
    (
        "西湖区医疗纠纷人民调解委员会",
        "professional",
        "0571-87961233",
        "西湖区社会矛盾纠纷调处化解中心三楼",
    ),
    (
        "西湖区物业纠纷调解工作室",
        "professional",
        "0571-87961245",
        "西湖区社会矛盾纠纷调处化解中心二楼",
    ),
    (
        "西湖区人民法院特邀调解组织",
        "court_invited",
        "0571-87961252",
        "西湖区社会矛盾纠纷调处化解中心诉调对接室",
    ),
    (
        "西湖区行政争议调解中心",
        "administrative",
        "0571-87961260",
        "西湖区社会矛盾纠纷调处化解中心四楼",
    ),
    (
        "浙江某某律师事务所律师调解工作室",
        "lawyer",
        "0571-87961277",
        "西湖区社会矛盾纠纷调处化解中心律师调解室",
    ),
)


@dataclass(frozen=True)
class DemoMediator:
    name: str
    organization: str
    specialties: tuple[str, ...]
    phone: str
    max_caseload: int
    username: str | None = None


MEDIATORS = (
    DemoMediator(
        "张建华",
        "西湖区人民调解委员会",
        ("family", "neighbour", "lending", "other"),
        "13857101326",
        25,
        "demo-mediator",
    ),
    DemoMediator(
        "周国强", "西湖区人民调解委员会", ("neighbour", "land", "family"), "13905716648", 20
    ),
    DemoMediator(
        "孙丽萍", "北山街道人民调解委员会", ("neighbour", "family", "property"), "13588012457", 15
    ),
    DemoMediator("吴志刚", "西湖区道路交通事故纠纷调解委员会", ("traffic",), "13806525190", 30),
    DemoMediator(
        "陈静",
        "西湖区劳动争议调解中心",
        ("labour", "construction", "contract"),
        "15858193274",
        25,
        "demo-mediator2",
    ),
    DemoMediator("郑海燕", "西湖区劳动争议调解中心", ("labour",), "13666683021", 20),
    DemoMediator("王立新", "西湖区医疗纠纷人民调解委员会", ("medical",), "13957187705", 12),
    DemoMediator("刘晓梅", "西湖区物业纠纷调解工作室", ("property", "consumer"), "18757126639", 20),
    DemoMediator(
        "黄振宇",
        "西湖区人民法院特邀调解组织",
        ("contract", "lending", "finance", "construction", "consumer", "ip"),
        "13735878812",
        25,
    ),
    DemoMediator("赵文斌", "西湖区行政争议调解中心", ("administrative", "land"), "13819155067", 15),
    DemoMediator(
        "林雅琴",
        "浙江某某律师事务所律师调解工作室",
        ("finance", "lending", "contract", "ip", "family"),
        "15967120483",
        15,
    ),
)

# The second centre of the city (3301, Hangzhou), and the city's regional administrator.
NEIGHBOUR_CENTRE = ("330108", "滨江区社会矛盾纠纷调处化解中心", "滨江")
NEIGHBOUR_STAFF = DemoLogin("demo-staff-bj", "赵受理", Role.STAFF)
DEMO_REGION = "3301"
REGIONAL_LOGIN = DemoLogin("demo-region", "杭州市矛调中心", Role.REGIONAL_ADMIN)
NEIGHBOUR_ORGANIZATIONS = (
    ("滨江区人民调解委员会", "people", "0571-87702101", "滨江区社会矛盾纠纷调处化解中心二楼"),
    (
        "滨江区劳动争议调解中心",
        "professional",
        "0571-87702128",
        "滨江区社会矛盾纠纷调处化解中心三楼",
    ),
)
NEIGHBOUR_MEDIATORS = (
    DemoMediator(
        "黄晓东",
        "滨江区人民调解委员会",
        ("family", "neighbour", "property", "lending", "traffic", "other"),
        "13857112045",
        25,
    ),
    DemoMediator(
        "钱敏",
        "滨江区劳动争议调解中心",
        ("labour", "contract", "construction", "medical", "administrative"),
        "13957108862",
        20,
    ),
)
# Every demo login, in the order `flask demo load` prints them.
ALL_DEMO_LOGINS = (*DEMO_LOGINS, NEIGHBOUR_STAFF, REGIONAL_LOGIN)

# category → organisations in order of preference; (category, street) rules come first.
ROUTES = {
    "family": ("西湖区人民调解委员会", "浙江某某律师事务所律师调解工作室"),
    "neighbour": ("西湖区人民调解委员会",),
    "labour": ("西湖区劳动争议调解中心", "西湖区人民法院特邀调解组织"),
    "traffic": ("西湖区道路交通事故纠纷调解委员会", "西湖区人民法院特邀调解组织"),
    "medical": ("西湖区医疗纠纷人民调解委员会",),
    "property": ("西湖区物业纠纷调解工作室", "西湖区人民调解委员会"),
    "consumer": ("西湖区人民法院特邀调解组织", "西湖区物业纠纷调解工作室"),
    "finance": ("浙江某某律师事务所律师调解工作室", "西湖区人民法院特邀调解组织"),
    "lending": ("西湖区人民法院特邀调解组织", "浙江某某律师事务所律师调解工作室"),
    "construction": ("西湖区人民法院特邀调解组织", "西湖区劳动争议调解中心"),
    "contract": ("西湖区人民法院特邀调解组织", "浙江某某律师事务所律师调解工作室"),
    "ip": ("浙江某某律师事务所律师调解工作室", "西湖区人民法院特邀调解组织"),
    "administrative": ("西湖区行政争议调解中心",),
    "land": ("西湖区行政争议调解中心", "西湖区人民调解委员会"),
    "other": ("西湖区人民调解委员会",),
}
STREET_ROUTES = {
    ("neighbour", "北山街道"): ("北山街道人民调解委员会",),
    ("family", "北山街道"): ("北山街道人民调解委员会",),
    ("property", "北山街道"): ("北山街道人民调解委员会",),
}
# Labour mediation has 15 days by law (劳动争议调解仲裁法 第十四条); the rest keep 30.
MEDIATION_DAYS = {"labour": 15}

STREETS = (
    "北山街道",
    "西溪街道",
    "灵隐街道",
    "翠苑街道",
    "文新街道",
    "古荡街道",
    "西湖街道",
    "留下街道",
    "转塘街道",
    "蒋村街道",
    "三墩镇",
)


def _days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


# (first day, last day, name) of each public holiday, and the adjusted working days (调休).
HOLIDAYS = (
    ("2025-01-01", "2025-01-01", "元旦"),
    ("2025-01-28", "2025-02-04", "春节"),
    ("2025-04-04", "2025-04-06", "清明节"),
    ("2025-05-01", "2025-05-05", "劳动节"),
    ("2025-05-31", "2025-06-02", "端午节"),
    ("2025-10-01", "2025-10-08", "国庆节、中秋节"),
    ("2026-01-01", "2026-01-03", "元旦"),
    ("2026-02-15", "2026-02-23", "春节"),
    ("2026-04-04", "2026-04-06", "清明节"),
    ("2026-05-01", "2026-05-05", "劳动节"),
    ("2026-06-19", "2026-06-21", "端午节"),
    ("2026-09-25", "2026-09-27", "中秋节"),
    ("2026-10-01", "2026-10-07", "国庆节"),
)
ADJUSTED_WORKDAYS = (
    ("2025-01-26", "春节调休上班"),
    ("2025-02-08", "春节调休上班"),
    ("2025-04-27", "劳动节调休上班"),
    ("2025-09-28", "国庆节调休上班"),
    ("2025-10-11", "国庆节调休上班"),
    ("2026-01-04", "元旦调休上班"),
    ("2026-02-14", "春节调休上班"),
    ("2026-02-28", "春节调休上班"),
    ("2026-05-09", "劳动节调休上班"),
    ("2026-09-20", "国庆节调休上班"),
    ("2026-10-10", "国庆节调休上班"),
)


def calendar_days() -> dict[date, tuple[bool, str]]:
    """Every holiday day (off) and adjusted working day (on), with its note."""
    days = {}
    for first, last, name in HOLIDAYS:
        for day in _days(first, last):
            days[day] = (False, name)
    for day, note in ADJUSTED_WORKDAYS:
        days[date.fromisoformat(day)] = (True, note)
    return days


def load_demo() -> Centre:
    """Create the demo centre, its logins and its directory; what exists is left as it is."""
    code, name, abbreviation = DEMO_CENTRE
    centre = centre_by_code(code)
    if centre is None:
        centre = add_centre(code, name, abbreviation)
        centre.phone = DEMO_CENTRE_PHONE
    for login in DEMO_LOGINS:
        if user_by_username(login.username) is None:
            add_user(login.username, login.display_name, login.role, DEMO_PASSWORD, centre)
    organizations = _load_organizations(centre)
    _load_mediators(centre, organizations)
    _load_routing_rules(centre, organizations)
    _load_calendar(centre)
    _load_mediation_days(centre)
    db.session.flush()
    return centre


def staff_user() -> User:
    return user_by_username(STAFF_LOGIN)


def load_region_demo() -> Centre:
    """The second centre of the demo's city, with a staff login, two organisations and their
    mediators, and the city's regional administrator; what exists is left as it is."""
    code, name, abbreviation = NEIGHBOUR_CENTRE
    centre = centre_by_code(code) or add_centre(code, name, abbreviation)
    login = NEIGHBOUR_STAFF
    if user_by_username(login.username) is None:
        add_user(login.username, login.display_name, login.role, DEMO_PASSWORD, centre)
    login = REGIONAL_LOGIN
    if user_by_username(login.username) is None:
        add_user(login.username, login.display_name, login.role, DEMO_PASSWORD, None, DEMO_REGION)
    organizations = _load_organizations(centre, NEIGHBOUR_ORGANIZATIONS)
    _load_mediators(centre, organizations, NEIGHBOUR_MEDIATORS)
    _load_calendar(centre)
    _load_mediation_days(centre)
    db.session.flush()
    return centre


def neighbour_staff_user() -> User:
    return user_by_username(NEIGHBOUR_STAFF.username)


def _load_organizations(centre: Centre, items=ORGANIZATIONS) -> dict[str, Organization]:
    existing = {
        o.name: o for o in db.session.scalars(select(Organization).filter_by(centre_id=centre.id))
    }
    for name, kind, phone, address in items:
        if name not in existing:
            existing[name] = Organization(
                centre_id=centre.id, name=name, kind=kind, phone=phone, address=address
            )
            db.session.add(existing[name])
    db.session.flush()
    return existing


def _load_mediators(
    centre: Centre, organizations: dict[str, Organization], items=MEDIATORS
) -> None:
    existing = set(db.session.scalars(select(Mediator.name).filter_by(centre_id=centre.id)))
    categories = {c.code: c for c in db.session.scalars(select(Category))}
    for item in items:
        if item.name in existing:
            continue
        user = user_by_username(item.username) if item.username else None
        if user is not None and db.session.scalar(select(Mediator.id).filter_by(user_id=user.id)):
            user = None  # the login is linked to another mediator already
        db.session.add(
            Mediator(
                centre_id=centre.id,
                organization=organizations[item.organization],
                name=item.name,
                phone=item.phone,
                max_caseload=item.max_caseload,
                user_id=user.id if user else None,
                specialties=[categories[code] for code in item.specialties],
            )
        )


def _load_routing_rules(centre: Centre, organizations: dict[str, Organization]) -> None:
    existing = set(
        db.session.execute(
            select(
                RoutingRule.category_code, RoutingRule.street, RoutingRule.organization_id
            ).filter_by(centre_id=centre.id)
        ).tuples()
    )
    rules = [((category, ""), names) for category, names in ROUTES.items()]
    rules += list(STREET_ROUTES.items())
    for (category, street), names in rules:
        for rank, name in enumerate(names, start=1):
            organization = organizations[name]
            if (category, street, organization.id) not in existing:
                db.session.add(
                    RoutingRule(
                        centre_id=centre.id,
                        category_code=category,
                        street=street,
                        organization_id=organization.id,
                        rank=rank,
                    )
                )


def _load_calendar(centre: Centre) -> None:
    existing = set(db.session.scalars(select(CalendarDay.day).filter_by(centre_id=centre.id)))
    for day, (is_workday, note) in sorted(calendar_days().items()):
        if day not in existing:
            db.session.add(
                CalendarDay(centre_id=centre.id, day=day, is_workday=is_workday, note=note)
            )


def _load_mediation_days(centre: Centre) -> None:
    for category, days in MEDIATION_DAYS.items():
        if db.session.get(CentreCategory, (centre.id, category)) is None:
            db.session.add(
                CentreCategory(centre_id=centre.id, category_code=category, mediation_days=days)
            )


# --- the words of the demo cases (content, not UI strings) ----------------------------------

# Organisations that appear as parties, by pool: (name, credit-code prefix or None).
ORGANIZATION_PARTIES = {
    "employer": (
        ("杭州某某餐饮管理有限公司", "91"),
        ("杭州某某网络科技有限公司", "91"),
        ("杭州某某建筑劳务有限公司", "91"),
        ("杭州某某物流有限公司", "91"),
        ("杭州某某商贸有限公司", "91"),
        ("杭州某某美容美发有限公司", "92"),
    ),
    "property_company": (
        ("杭州某某物业服务有限公司", "91"),
        ("浙江某某物业管理有限公司", "91"),
    ),
    "insurer": (("某某财产保险股份有限公司杭州市分公司", "91"),),
    "hospital": (("杭州某某医院", "12"), ("西湖区某某社区卫生服务中心", "12")),
    "merchant": (
        ("杭州某某健身服务有限公司", "91"),
        ("杭州某某教育科技有限公司", "91"),
        ("杭州某某装饰工程有限公司", "91"),
        ("杭州某某电器销售有限公司", "91"),
    ),
    "bank": (("某某银行股份有限公司杭州西湖支行", "91"), ("杭州某某小额贷款股份有限公司", "91")),
    "builder": (("浙江某某建设集团有限公司", "91"), ("杭州某某建筑工程有限公司", "91")),
    "company": (
        ("杭州某某贸易有限公司", "91"),
        ("杭州某某包装材料有限公司", "91"),
        ("杭州某某文化传媒有限公司", "91"),
    ),
    "shop": (("杭州某某电子商务有限公司", "91"), ("杭州某某服饰有限公司", "91")),
    "designer": (("杭州某某设计有限公司", "91"), ("浙江某某文化创意有限公司", "91")),
    "government": (("杭州市西湖区某某街道办事处", "11"), ("杭州市西湖区某某管理局", "11")),
    "collective": (("西湖区某某村股份经济合作社", None),),
}


@dataclass(frozen=True)
class Dispute:
    """One kind of dispute: who the parties are and the words of its intake, agreement and
    transfer. Placeholders: {a} applicant, {r} respondent, {amount}, {year}, {date}, {street},
    {n} people involved, {job}, {months}."""

    category: str
    weight: int
    applicants: tuple[str, ...]  # "person" or a pool of ORGANIZATION_PARTIES
    respondents: tuple[str, ...]
    amount: tuple[int, int] | None  # yuan in dispute
    summary: str
    claims: str
    obligation: str  # what the respondent undertakes in an agreement
    facts: str  # the record of undisputed facts when mediation fails
    channels: tuple[str, ...] = ("walk_in", "hotline", "online", "grid")
    people: tuple[int, int] = (2, 3)
    is_monetary: bool = True
    installments: bool = False
    pay: tuple[int, int] | None = None  # each instalment, when the case has no amount
    # (respondent index, share of the money) of each payer; the first pays instalments.
    payers: tuple[tuple[int, float], ...] = ((0, 1.0),)
    settled: str = "一、被申请人已于调解当日当场履行完毕；二、双方就本纠纷再无其他争议。"


P = "person"
DISPUTES = (
    Dispute(
        "labour",
        9,
        (P,),
        ("employer",),
        (3000, 80000),
        "申请人{a}于{year}年入职被申请人{r}，从事{job}工作。{r}以经营困难为由拖欠其{months}个月"
        "工资共计{amount}元，申请人多次催讨未果，遂申请调解。",
        "要求被申请人支付拖欠的工资{amount}元。",
        "支付拖欠的工资",
        "申请人自{year}年起在被申请人处从事{job}工作，双方存在劳动关系；被申请人尚欠申请人工资"
        "未付。以上事实双方均无异议，争议在于欠薪的具体数额。",
        settled="一、被申请人已于调解现场向申请人支付全部拖欠工资；二、双方劳动关系于本协议签订之日"
        "解除，就本纠纷再无其他争议。",
    ),
    Dispute(
        "labour",
        6,
        (P,),
        ("employer",),
        (10000, 150000),
        "申请人{a}在被申请人{r}处担任{job}，{date}被{r}以“不能胜任工作”为由口头辞退。申请人认为"
        "公司系违法解除劳动合同，要求支付赔偿金，双方协商未果。",
        "要求被申请人支付违法解除劳动合同赔偿金{amount}元。",
        "支付解除劳动合同经济补偿",
        "申请人的入职时间、工作岗位及劳动合同解除时间双方均无异议；争议在于解除理由是否成立及"
        "补偿金额。",
        channels=("walk_in", "online", "hotline"),
    ),
    Dispute(
        "labour",
        3,
        (P, P),
        ("employer",),
        (150000, 1200000),
        "{n}名务工人员反映，其在被申请人{r}承接的{street}某安置房项目务工，{r}拖欠工资共计"
        "{amount}元。务工人员推选{a}等人为代表，情绪较为激动，网格员上报后转中心处理。",
        "要求被申请人尽快结清全部拖欠工资{amount}元。",
        "结清拖欠的务工人员工资",
        "务工人员在该项目务工的事实及工资拖欠情况，经核对考勤记录双方均无异议；争议在于部分"
        "人员的出勤工日数。",
        channels=("grid", "petition", "hotline"),
        people=(12, 45),
        installments=True,
    ),
    Dispute(
        "traffic",
        10,
        (P,),
        (P, "insurer"),
        (5000, 300000),
        "{date}，被申请人{r}驾驶小型轿车行经{street}某路口时，与申请人{a}驾驶的电动自行车发生"
        "碰撞，致{a}受伤住院。交警部门认定{r}负事故主要责任。双方就医疗费、误工费等赔偿事宜协商"
        "未果。",
        "要求赔偿医疗费、误工费、护理费、交通费等各项损失共计{amount}元。",
        "赔偿医疗费、误工费、护理费等各项损失",
        "事故发生经过及交警部门作出的事故责任认定，双方均无异议；争议在于误工费、护理费的计算"
        "标准及伤残等级。",
        channels=("police", "court", "walk_in"),
        payers=((1, 0.8), (0, 0.2)),
    ),
    Dispute(
        "traffic",
        4,
        (P,),
        (P,),
        (2000, 40000),
        "{date}，申请人{a}停放在{street}某小区路边的车辆被被申请人{r}倒车时撞坏，交警部门认定"
        "{r}负全部责任。双方对车辆维修费用及贬值损失协商未果。",
        "要求被申请人赔偿车辆维修费及停运损失共计{amount}元。",
        "赔偿车辆维修费",
        "事故经过及被申请人负全部责任的认定双方无异议；争议在于维修费用的合理数额。",
        channels=("police", "walk_in", "online"),
    ),
    Dispute(
        "property",
        7,
        ("property_company",),
        (P,),
        (1500, 20000),
        "申请人{a}为{street}某某小区的物业服务企业。被申请人{r}系该小区业主，以房屋渗水未修好为"
        "由，自{year}年起拒交物业服务费，累计欠费{amount}元。",
        "要求被申请人支付拖欠的物业服务费{amount}元。",
        "支付拖欠的物业服务费",
        "被申请人系小区业主、物业服务费收费标准及欠费期间双方均无异议；争议在于渗水维修责任是否"
        "影响缴费。",
        channels=("walk_in", "online", "court"),
    ),
    Dispute(
        "property",
        4,
        (P,),
        ("property_company",),
        (3000, 50000),
        "申请人{a}系{street}某某小区业主，{date}小区地下车库因排水不畅积水，致其停放的车辆被淹"
        "受损。申请人认为被申请人{r}未尽物业管理职责，要求赔偿。",
        "要求被申请人赔偿车辆维修费用{amount}元。",
        "赔偿车辆受损的维修费用",
        "车辆在地下车库被淹受损的事实双方无异议；争议在于物业企业是否尽到管理义务及赔偿比例。",
    ),
    Dispute(
        "property",
        3,
        (P, P),
        ("property_company",),
        None,
        "{street}某某小区{n}户业主反映，小区电梯频繁故障、公共区域维修迟缓，部分业主拒交物业费，"
        "与被申请人{r}矛盾激化，业主代表{a}等人多次到街道反映。",
        "要求被申请人限期维修电梯、公开物业费收支情况。",
        "完成小区电梯维修并公示物业费收支情况",
        "小区电梯存在故障、维修尚未完成的事实双方无异议；争议在于维修资金的来源和分摊。",
        channels=("grid", "hotline", "petition"),
        people=(15, 60),
        is_monetary=False,
    ),
    Dispute(
        "family",
        5,
        (P,),
        (P,),
        None,
        "申请人{a}与被申请人{r}系夫妻关系，婚后育有一子。双方因家庭琐事长期争吵，已分居一年有余，"
        "现就离婚后子女抚养及抚养费支付问题发生争议。",
        "要求婚生子随申请人生活，被申请人每月支付抚养费。",
        "支付婚生子抚养费",
        "双方婚姻关系及婚生子由申请人实际抚养的事实双方无异议；争议在于抚养费的数额。",
        channels=("walk_in", "court", "online"),
        installments=True,
        pay=(1500, 3000),
        settled="一、双方自愿和好，共同抚养婚生子；二、被申请人今后不再干涉申请人的正常工作和"
        "生活；三、双方就本纠纷再无其他争议。",
    ),
    Dispute(
        "family",
        4,
        (P,),
        (P, P),
        None,
        "申请人{a}年近八旬，育有子女二人。因老宅拆迁款分配问题，子女{r}等人与申请人产生矛盾，"
        "近半年未支付赡养费，申请人生活困难。",
        "要求被申请人每月支付赡养费，并承担医疗费用。",
        "支付赡养费",
        "申请人与被申请人系父母子女关系，被申请人近半年未支付赡养费的事实双方无异议。",
        channels=("walk_in", "grid", "hotline"),
        installments=True,
        pay=(800, 2000),
        settled="一、子女轮流照料申请人日常生活，医疗费用由子女平均分担；二、双方就本纠纷再无"
        "其他争议。",
    ),
    Dispute(
        "family",
        3,
        (P,),
        (P,),
        (100000, 1500000),
        "申请人{a}与被申请人{r}系兄弟姐妹关系，父母去世后在{street}留有房屋一套，双方就房屋继承"
        "及拆迁补偿款分配发生纠纷。",
        "要求按法定继承份额分配房屋补偿款{amount}元。",
        "支付应得的房屋补偿款份额",
        "被继承人遗产范围及双方均为第一顺序继承人的事实无异议；争议在于赡养贡献对分配比例的影响。",
    ),
    Dispute(
        "neighbour",
        6,
        (P,),
        (P,),
        (1000, 20000),
        "申请人{a}与被申请人{r}系{street}某某小区楼上楼下邻居。{r}家卫生间防水层破损，导致{a}家"
        "天花板和墙面霉变受损，双方就维修及赔偿问题多次协商未果。",
        "要求被申请人修复防水层并赔偿装修损失{amount}元。",
        "赔偿装修损失",
        "漏水系被申请人家卫生间防水层破损所致的事实双方无异议；争议在于损失金额。",
        settled="一、被申请人已于调解当日完成防水修复，并当场赔偿申请人损失；二、双方今后和睦"
        "相处，就本纠纷再无其他争议。",
    ),
    Dispute(
        "neighbour",
        5,
        (P,),
        (P,),
        None,
        "被申请人{r}在公共楼道堆放杂物并私自搭建雨棚，影响申请人{a}家通行和采光，双方多次发生"
        "口角，社区网格员上报。",
        "要求被申请人拆除雨棚、清理楼道杂物。",
        "拆除私自搭建的雨棚并清理楼道杂物",
        "雨棚系被申请人搭建、楼道堆放杂物的事实双方无异议。",
        channels=("grid", "hotline", "walk_in"),
        is_monetary=False,
        settled="一、被申请人已于调解当日拆除雨棚、清理杂物；二、双方互相谅解，今后和睦相处。",
    ),
    Dispute(
        "neighbour",
        3,
        (P,),
        (P,),
        (2000, 30000),
        "{date}，被申请人{r}饲养的犬只未牵绳，在小区内将申请人{a}咬伤，{a}注射狂犬疫苗并住院"
        "治疗，双方就赔偿问题协商未果。",
        "要求被申请人赔偿医疗费、误工费等各项损失{amount}元。",
        "赔偿医疗费、误工费等各项损失",
        "申请人被被申请人饲养的犬只咬伤的事实双方无异议；争议在于误工费和精神损害抚慰金。",
        channels=("police", "walk_in", "hotline"),
    ),
    Dispute(
        "consumer",
        3,
        (P,),
        ("merchant",),
        (2000, 30000),
        "申请人{a}在被申请人{r}办理预付卡并报名课程，共支付{amount}元。后{r}经营场所停业，剩余"
        "课时无法使用，申请人要求退款未果。",
        "要求被申请人退还剩余预付款{amount}元。",
        "退还剩余预付款",
        "申请人已支付预付款、被申请人停止提供服务的事实双方无异议；争议在于已消费课时的折算。",
        channels=("hotline", "online"),
    ),
    Dispute(
        "consumer",
        2,
        (P,),
        ("merchant",),
        (10000, 80000),
        "申请人{a}委托被申请人{r}装修其位于{street}的住房，竣工后出现墙面开裂、地面空鼓等质量"
        "问题，双方就返工及赔偿协商未果。",
        "要求被申请人返工修复并赔偿损失{amount}元。",
        "返工修复并赔偿损失",
        "装修合同的签订及工程存在质量问题的事实双方无异议；争议在于返工范围及赔偿数额。",
        channels=("hotline", "walk_in", "online"),
    ),
    Dispute(
        "lending",
        6,
        (P,),
        (P,),
        (10000, 500000),
        "被申请人{r}于{year}年向申请人{a}借款{amount}元用于经营周转，出具借条一张，约定一年内"
        "归还。到期后申请人多次催讨，被申请人以资金困难为由未还。",
        "要求被申请人归还借款本金{amount}元及利息。",
        "归还借款本金",
        "被申请人向申请人借款及借条的真实性双方无异议；争议在于利息计算和还款期限。",
        channels=("walk_in", "court", "online"),
        installments=True,
    ),
    Dispute(
        "contract",
        3,
        ("company",),
        ("company",),
        (20000, 1500000),
        "申请人{a}与被申请人{r}签订购销合同，申请人已按约供货，被申请人尚欠货款{amount}元未付，"
        "经多次对账催收未果。",
        "要求被申请人支付货款{amount}元及逾期付款违约金。",
        "支付欠付货款",
        "双方购销合同关系、供货数量及对账单金额双方无异议；争议在于违约金。",
        channels=("court", "online", "walk_in"),
        installments=True,
    ),
    Dispute(
        "contract",
        2,
        (P,),
        (P,),
        (3000, 20000),
        "申请人{a}租住被申请人{r}位于{street}的房屋，租期届满退租后，{r}以房屋设施损坏为由拒不"
        "退还押金{amount}元。",
        "要求被申请人退还租房押金{amount}元。",
        "退还租房押金",
        "租赁合同关系、租期届满及押金数额双方无异议；争议在于房屋设施损坏的责任。",
    ),
    Dispute(
        "medical",
        3,
        (P,),
        ("hospital",),
        (30000, 900000),
        "申请人{a}之父因病在被申请人{r}住院治疗，术后出现严重并发症。申请人认为{r}存在诊疗过错，"
        "要求赔偿，情绪较为激动，多次到医院反映。",
        "要求被申请人赔偿医疗费、护理费等各项损失{amount}元。",
        "支付医疗损害补偿款",
        "患者在被申请人处住院治疗的经过及病历资料的真实性双方无异议；争议在于诊疗行为是否存在"
        "过错。",
        channels=("walk_in", "petition", "hotline"),
    ),
    Dispute(
        "construction",
        3,
        (P,),
        ("builder",),
        (80000, 2500000),
        "申请人{a}承包被申请人{r}发包的{street}某项目装饰工程，工程已于{date}竣工验收，{r}尚欠"
        "工程款{amount}元未付。",
        "要求被申请人支付剩余工程款{amount}元。",
        "支付剩余工程款",
        "工程已竣工验收及合同约定价款双方无异议；争议在于增项工程量的结算。",
        channels=("walk_in", "court", "petition"),
        installments=True,
    ),
    Dispute(
        "finance",
        2,
        ("bank",),
        (P,),
        (50000, 1500000),
        "被申请人{r}于{year}年向申请人{a}申请个人经营贷款{amount}元，现已逾期三期未还款，法院"
        "委派中心先行调解。",
        "要求被申请人归还贷款本金{amount}元及利息、罚息。",
        "归还贷款本息",
        "借款合同的签订、放款金额及逾期事实双方均无异议；争议在于罚息的计算。",
        channels=("court", "online"),
        installments=True,
    ),
    Dispute(
        "ip",
        1,
        ("designer",),
        ("shop",),
        (20000, 200000),
        "被申请人{r}在其网店销售的商品详情页中，未经许可使用了申请人{a}享有著作权的摄影作品"
        "二十余幅。",
        "要求被申请人停止侵权并赔偿经济损失{amount}元。",
        "赔偿经济损失及合理维权费用",
        "被申请人网店使用涉案图片的事实双方无异议；争议在于赔偿数额。",
        channels=("court", "online"),
    ),
    Dispute(
        "administrative",
        2,
        (P,),
        ("government",),
        None,
        "申请人{a}经营的{street}沿街商铺被被申请人{r}以违规占道经营为由作出罚款决定，申请人不服，"
        "申请行政争议调解。",
        "要求被申请人撤销或变更罚款决定。",
        "依法重新核查并作出处理决定",
        "申请人存在占道经营行为及被申请人作出处罚决定的事实双方无异议；争议在于处罚幅度。",
        channels=("walk_in", "petition", "online"),
        is_monetary=False,
        settled="一、被申请人重新核查后变更处罚决定，申请人自愿撤回行政复议申请；二、双方就本纠纷"
        "再无其他争议。",
    ),
    Dispute(
        "land",
        2,
        (P, P),
        ("collective",),
        (100000, 3000000),
        "申请人{a}系{street}某村村民，对其宅基地房屋的征收补偿安置方案有异议，认为评估时少算了"
        "附属用房面积，与被申请人{r}多次协商未果。",
        "要求被申请人重新核定附属用房面积并补偿{amount}元。",
        "支付附属用房补偿款",
        "申请人宅基地房屋位于征收范围内及补偿方案的主要内容双方无异议；争议在于附属用房的认定。",
        channels=("petition", "walk_in", "grid"),
        people=(2, 15),
    ),
    Dispute(
        "other",
        1,
        (P,),
        (P,),
        (1000, 10000),
        "申请人{a}将宠物犬寄养在被申请人{r}经营的宠物店，寄养期间宠物犬走失，双方就赔偿问题发生"
        "争执。",
        "要求被申请人赔偿损失{amount}元。",
        "赔偿宠物犬走失的损失",
        "宠物犬在寄养期间走失的事实双方无异议；争议在于赔偿数额。",
    ),
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏"
    "苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方邱俞应楼"
)
GIVEN_MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆建国志文海林峰东晨阳荣德良"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲燕婷雪琳慧颖倩萍红梅洁丹莉佳欣怡婧月琴英"
# Where the parties' ID numbers were issued: mostly 西湖区, some from elsewhere.
ID_REGIONS = (
    ("330106", 12),
    ("330105", 2),
    ("330102", 2),
    ("330110", 2),
    ("330127", 1),
    ("341222", 1),
    ("412726", 1),
    ("511623", 1),
    ("362330", 1),
    ("522226", 1),
)
MOBILE_PREFIXES = (
    *range(130, 140),
    *range(150, 154),
    *range(155, 160),
    177,
    180,
    182,
    185,
    186,
    187,
    188,
    189,
    199,
)
JOBS = (
    "服务员",
    "厨师",
    "快递员",
    "保洁员",
    "仓库管理员",
    "程序员",
    "销售",
    "电工",
    "木工",
    "收银员",
)

SESSION_PLACES = (
    "西湖区社会矛盾纠纷调处化解中心第一调解室",
    "西湖区社会矛盾纠纷调处化解中心第二调解室",
    "西湖区社会矛盾纠纷调处化解中心第三调解室",
    "{street}社会治理中心调解室",
    "{organization}调解室",
)
SESSION_MINUTES_FIRST = (
    "调解员听取双方陈述，核对证据材料，释明相关法律规定；双方对赔偿数额分歧较大，约定下次"
    "继续调解。",
    "双方陈述纠纷经过并提交证据，调解员告知调解的性质和双方权利义务，双方同意继续协商。",
)
SESSION_MINUTES_MIDDLE = (
    "调解员背靠背分别做双方工作，申请人同意适当降低请求数额，被申请人表示回去考虑。",
    "双方就履行方式进行协商，初步形成调解方案，约定下次会面确认。",
)
SESSION_MINUTES_AGREED = (
    "经调解，双方互谅互让，就数额及履行方式达成一致，当场签订调解协议。",
    "双方确认调解方案，调解员宣读协议条款，双方无异议后签字。",
)
SESSION_MINUTES_FAILED = (
    "经多次调解，双方仍坚持各自意见，分歧较大，无法达成一致。",
    "被申请人不同意调解方案，申请人表示将通过诉讼解决。",
)
EXTENSION_REASONS = (
    "双方均有和解意愿，需补充证据材料，经各方同意延长调解期限。",
    "需等待鉴定结论，经各方同意延长调解期限。",
    "被申请人正在筹措款项，各方同意延长调解期限继续协商。",
)
CONSENTS = ("当面签字同意", "电话确认同意（已录音）", "书面同意", "微信确认同意（已截图存档）")
REASSIGN_REASONS = (
    "原调解员休假，工作交接。",
    "当事人申请调解员回避。",
    "案件涉及专业问题，改由专长调解员办理。",
    "平衡调解员工作量。",
)
UNSUITABLE_NOTES = (
    "该纠纷已进入诉讼程序，不宜再行调解。",
    "纠纷涉及身份关系确认，不属于人民调解受理范围。",
    "被申请人下落不明，无法组织调解。",
    "纠纷涉及刑事案件线索，已告知当事人依法处理。",
)
REFUSED_NOTES = (
    "经电话联系，被申请人明确表示拒绝调解，要求通过诉讼解决。",
    "被申请人收到调解通知后书面回复不同意调解。",
)
WITHDRAW_REASONS = (
    "双方已自行和解，申请人申请撤回调解申请。",
    "申请人已另行申请仲裁，撤回调解申请。",
    "申请人因个人原因撤回调解申请。",
    "纠纷已由双方协商解决，申请人撤回申请。",
)
LITIGATION_NOTES = (
    "当事人到中心书面申请终止调解，直接向法院起诉。",
    "当事人电话告知不再调解，已向法院递交起诉状。",
)
FOLLOW_UP_NOTES = (
    (True, "电话回访，当事人对调解结果满意，协议已履行。"),
    (True, "上门回访，双方关系缓和，未再发生矛盾。"),
    (True, "电话回访，当事人对调解员的工作表示感谢。"),
    (False, "电话回访，当事人认为调解周期偏长，已做解释。"),
)
TRANSFER_DOCUMENTS = "调解申请书、调解笔录、无争议事实记载书、证据材料复印件"
COURT = "杭州市西湖区人民法院"
LABOUR_ARBITRATION = "杭州市西湖区劳动人事争议仲裁委员会"
ENFORCEMENT_NOTE = "被申请人未按经司法确认的调解协议履行，申请人申请强制执行。"

"""Monthly statistics (SPEC 4): every figure from a small dataset worked out by hand."""

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from mediation import clock
from mediation.audit.models import AuditEntry
from mediation.cases import workflow
from mediation.cases.states import TRANSFER_REASONS
from mediation.cases.workflow import Actor
from mediation.directory.centres import centre_by_code
from mediation.stats import queries
from mediation.stats.exports import TABLES, to_csv, to_json, to_xlsx
from mediation.stats.queries import SUMMARY_KEYS, mean_days, month_stats, rate
from mediation.stats.snapshots import published_stats, snapshot_month
from mediation.web.language import refresh
from tests.case_factory import COURT, build_case, user_for


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def staff(case):
    return Actor.for_user(user_for(case.centre, "staff"))


@pytest.fixture
def april(db):
    """Cases around April 2026 in Asia/Shanghai (UTC+8); the letters are used below."""
    # A: 2026-03-31 17:00 UTC is April 1st, 01:00 local: received in April; high risk.
    build_case(
        "registered", at=utc("2026-03-31 17:00"), amount=Decimal("1000.50"), risk_level="high"
    )
    # B: 23:00 local on March 31st: a March case, still pending at the end of April.
    build_case("registered", at=utc("2026-03-31 15:00"))
    # C: agreed on April 10th (one 5,000 obligation due May 10th), confirmed April 12th.
    c = build_case(
        "agreed", at=utc("2026-04-10 02:00"), amount=Decimal("2000"), category_code="family"
    )
    with clock.frozen_at(utc("2026-04-20 02:00")):
        workflow.confirm_agreement(c, COURT, "(2026)浙0106民特1号", date(2026, 4, 12), staff(c))
        workflow.record_follow_up(c, True, "满意", staff(c))
    with clock.frozen_at(utc("2026-04-30 16:30")):  # May 1st local: not an April visit
        workflow.record_follow_up(c, False, "不满意", staff(c))
    # D: transferred (failed) at 00:30 local on May 1st: a May case.
    build_case("transferred", at=utc("2026-04-30 16:30"), transfer_reason="failed")
    # E: diverted as unsuitable at 23:00 local on April 30th: concluded in April, not mediated.
    build_case("transferred", at=utc("2026-04-30 15:00"), transfer_reason="unsuitable")
    # F: routed and withdrawn on April 15th; a follow-up not satisfied.
    f = build_case("withdrawn", at=utc("2026-04-15 02:00"))
    with clock.frozen_at(utc("2026-04-21 02:00")):
        workflow.record_follow_up(f, False, "", staff(f))
    # G: registered and agreed April 18th, obligation due that day, defaulted April 20th and
    # sent for enforcement: still one conclusion, by agreement.
    build_case("transferred", at=utc("2026-04-20 04:00"), transfer_reason="enforcement")
    # H: routed March 25th, withdrawn April 5th: 11 days.
    h = build_case("assigned", at=utc("2026-03-25 02:00"))
    with clock.frozen_at(utc("2026-04-05 02:00")):
        workflow.withdraw_case(h, "申请人撤回", staff(h))
    # I: agreed and fulfilled April 8th (due May 8th): a positive record in April.
    build_case("fulfilled", at=utc("2026-04-08 02:00"))
    # J: agreed and fulfilled March 20th, its obligation due April 19th: met on time.
    build_case("fulfilled", at=utc("2026-03-20 02:00"))
    db.session.commit()
    return centre_by_code("330106")


EXPECTED_APRIL = {
    "received": 6,  # A C E F G I
    "concluded": 6,  # C E F G H I
    "agreed": 3,  # C G I
    "transferred": 1,  # E
    "withdrawn": 2,  # F H
    "success_rate": 1.0,  # 3 agreed / 3 mediated (E is unsuitable, not mediated)
    "avg_days": 1.8,  # 11 days (H) / 6
    "on_time_rate": 1.0,
    "judicial_confirmations": 1,  # C
    "obligations_due": 2,  # G (defaulted), J
    "fulfilled_on_time": 1,  # J
    "performance_rate": 0.5,
    "certificates_issued": 1,  # I
    "amount_in_dispute": "3000.50",  # A + C
    "amount_agreed": "15000.00",  # C G I, 5,000 each
    "pending_end": 2,  # A B
    "high_risk_received": 1,  # A
    "routed": 4,  # C F G I
    "satisfaction_rate": 0.5,  # C satisfied, F not; C's May visit does not count
    # Online applications have their own test (tests/test_applications.py): none here.
    "applications_received": 0,
    "applications_accepted": 0,
}


def test_every_summary_figure_of_a_month(april):
    data = month_stats("2026-04", april)
    assert data["summary"] == EXPECTED_APRIL
    assert list(data["summary"]) == list(SUMMARY_KEYS)


def test_all_centres_adds_up_and_other_centres_stay_out(april, db):
    build_case("registered", centre="330105", at=utc("2026-04-02 02:00"), amount=Decimal("0.25"))
    db.session.commit()
    mine = month_stats("2026-04", april)["summary"]
    everyone = month_stats("2026-04", None)
    assert everyone["centre"] is None and mine["received"] == 6
    assert everyone["summary"]["received"] == 7
    assert everyone["summary"]["amount_in_dispute"] == "3000.75"
    assert everyone["summary"]["pending_end"] == 3


def withdrawn(registered_at: str, withdrawn_at: str):
    case = build_case("assigned", at=utc(registered_at))
    with clock.frozen_at(utc(withdrawn_at)):
        workflow.withdraw_case(case, "申请人撤回", staff(case))


@pytest.mark.parametrize(
    "today", ["2026-06-03 02:00", "2027-06-03 02:00"], ids=["weeks-later", "a-year-later"]
)
def test_the_backlog_at_a_months_end(april, db, today, monkeypatch):
    """Cases registered by the month's last day and not concluded by then, whether the
    month is the last one or far back (the app counts a recent month's backlog from the
    cases after its end, an old one's from those before it: the figures must agree)."""
    ways = []
    for way in ("_open_or_concluded_since", "_received_less_concluded"):
        counted = getattr(queries, way)
        monkeypatch.setattr(
            queries,
            way,
            lambda period, way=way, counted=counted: (
                ways.append((str(period.last), way)) or counted(period)
            ),
        )
    withdrawn("2026-04-28 02:00", "2026-05-02 02:00")  # K: pending at the end of April
    withdrawn("2026-04-30 15:00", "2026-04-30 16:30")  # L: 23:00 to 00:30 local: pending
    withdrawn("2026-04-29 02:00", "2026-04-30 15:30")  # M: 23:30 local, April 30th: done
    build_case("registered", centre="330105", at=utc("2026-04-02 02:00"))  # N: elsewhere
    db.session.commit()
    with clock.frozen_at(utc(today)):
        assert month_stats("2026-03", april)["summary"]["pending_end"] == 2  # B H
        assert month_stats("2026-04", april)["summary"]["pending_end"] == 4  # A B K L
        assert month_stats("2026-04", None)["summary"]["pending_end"] == 5  # and N
        assert month_stats("2026-05", april)["summary"]["pending_end"] == 2  # A B
    # Days after its end, May is counted from the cases after it; a year after, every month
    # from those before it (the first case of each centre asked for dates the history).
    may = {way for last, way in ways if last == "2026-05-31"}
    if today.startswith("2026"):
        assert may == {"_open_or_concluded_since"}
    else:
        assert {way for _last, way in ways} == {"_received_less_concluded"}


def test_transfers_by_reason_list_every_reason_with_zeros(april):
    reasons = month_stats("2026-04", april)["transferred_by_reason"]
    assert reasons == {code: 1 if code == "unsuitable" else 0 for code in TRANSFER_REASONS}
    assert month_stats("2026-05", april)["transferred_by_reason"]["failed"] == 1  # D


def test_breakdowns_and_comparisons(april):
    data = month_stats("2026-04", april)
    assert data["by_category"] == [
        {"category": "family", "received": 1, "concluded": 1, "agreed": 1, "success_rate": 1.0},
        {"category": "neighbour", "received": 5, "concluded": 5, "agreed": 2, "success_rate": 1.0},
    ]
    assert data["by_channel"] == [
        {"channel": "walk_in", "received": 6, "concluded": 6, "agreed": 3, "success_rate": 1.0}
    ]
    (organization,) = data["by_organization"]
    assert organization == {
        "organization": "西湖人民调解委员会",
        "assigned": 4,  # routed in April: C F G I
        "concluded": 5,  # C F G H I (E never had one)
        "agreed": 3,
        "success_rate": 1.0,
        "avg_days": 2.2,
    }
    (mediator,) = data["by_mediator"]
    assert mediator["mediator"] == "王调解" and mediator["organization"] == "西湖人民调解委员会"
    assert mediator["assigned"] == 4 and mediator["concluded"] == 5
    # March: B H J received; J concluded by agreement.
    assert data["previous_month"] == {
        "received": 3,
        "concluded": 1,
        "agreed": 1,
        "success_rate": 1.0,
    }
    assert data["same_month_last_year"] == {
        "received": 0,
        "concluded": 0,
        "agreed": 0,
        "success_rate": None,
    }


def test_an_empty_month_has_null_rates_and_zero_money(db, make_centre):
    summary = month_stats("2025-01", centre_by_code(make_centre().code))["summary"]
    for key in ("success_rate", "avg_days", "on_time_rate", "performance_rate"):
        assert summary[key] is None
    assert summary["satisfaction_rate"] is None
    assert summary["amount_in_dispute"] == "0.00" and summary["amount_agreed"] == "0.00"


def test_rates_round_half_up():
    assert rate(2, 3) == 0.6667 and rate(1, 8) == 0.125 and rate(0, 0) is None
    assert mean_days(11, 4) == 2.8 and mean_days(1, 20) == 0.1 and mean_days(0, 0) is None


def test_json_shape_is_the_contract(april):
    data = json.loads(to_json(month_stats("2026-04", april)))
    assert set(data) == {
        "month",
        "centre",
        "summary",
        "transferred_by_reason",
        "by_category",
        "by_channel",
        "by_organization",
        "by_mediator",
        "previous_month",
        "same_month_last_year",
    }
    assert data["month"] == "2026-04" and data["centre"] == "330106"
    assert set(data["summary"]) == set(SUMMARY_KEYS)
    assert set(data["by_mediator"][0]) == {
        "mediator",
        "organization",
        "assigned",
        "concluded",
        "agreed",
        "success_rate",
        "avg_days",
    }


WESTLAKE = "西湖区社会矛盾纠纷调处化解中心"
FORMULA = ("=", "+", "-", "@")
HOSTILE = ('=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)")


def xlsx_of(data, locale="zh_Hans_CN"):
    return load_workbook(io.BytesIO(to_xlsx(data, WESTLAKE, locale)))


def test_csv_is_in_the_users_language_with_a_bom_and_a_title(april):
    data = month_stats("2026-04", april)
    lines = to_csv(data, WESTLAKE, "zh_Hans_CN").splitlines()
    assert lines[0] == "\ufeff西湖区社会矛盾纠纷调处化解中心 2026年4月统计报表"
    assert lines[1] == "指标,数值"
    assert "协议金额（元）,15000.00" in lines and "调解成功率,100.00%" in lines
    assert "自动履行率,50.00%" in lines
    assert to_csv(data, WESTLAKE, "zh_Hans_CN", "by_category").splitlines()[2] == (
        "婚姻家庭,1,1,1,100.00%"
    )
    english = to_csv(data, None, "en", "transferred_by_reason").splitlines()
    assert english[:3] == [
        "\ufeffAll centres: statistics for April 2026",
        "Transfer reason,Cases",
        "Not suitable for mediation,1",
    ]


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_xlsx_labels_formats_widths_and_title(april, locale):
    book = xlsx_of(month_stats("2026-04", april), locale)
    assert len(book.sheetnames) == len(TABLES)
    codes = set(SUMMARY_KEYS) | set(TRANSFER_REASONS) | {"family", "neighbour", "walk_in"}
    for sheet in book.worksheets:
        title = sheet["A1"].value
        assert WESTLAKE in title and ("2026年4月" in title or "April 2026" in title)
        assert "330106" not in title
        for row in sheet.iter_rows(min_row=2, values_only=True):
            assert not codes & set(row), (sheet.title, row)
        for column in sheet.iter_cols(min_row=2):
            # A Chinese character takes two units of a column's width.
            widest = max(sum(1 + (ord(char) > 0x2E80) for char in str(c.value)) for c in column)
            width = sheet.column_dimensions[column[0].column_letter].width
            assert widest <= width <= 60, (sheet.title, column[0].column_letter)
    summary = book.worksheets[0]
    cells = {row[0].value: row[1] for row in summary.iter_rows(min_row=3)}
    rate_label, money_label = (
        ("调解成功率", "协议金额（元）")
        if locale != "en"
        else (
            "Success rate",
            "Amount agreed (yuan)",
        )
    )
    assert cells[rate_label].value == 1 and cells[rate_label].number_format == "0.00%"
    assert cells[money_label].value == 15000 and cells[money_label].number_format == "#,##0.00"
    assert summary.column_dimensions["A"].width >= (20 if locale != "en" else 28)
    earlier = book.worksheets[TABLES.index("same_month_last_year")]["A1"].value
    assert earlier.endswith(
        "（上年同月：2025年4月）" if locale != "en" else "(Same month last year: April 2025)"
    )
    category = book.worksheets[2]
    assert category["A2"].value == ("纠纷类型" if locale != "en" else "Category")
    assert category["A3"].value == ("婚姻家庭" if locale != "en" else "Marriage and family")
    assert category["E3"].number_format == "0.00%"


def test_no_exported_cell_is_a_formula(april, db):
    """Names from the admin pages or a ledger import that start with = + - @ stay text."""
    from mediation.directory.models import Mediator, Organization

    organization = db.session.scalar(select(Organization))
    mediator = db.session.scalar(select(Mediator))
    organization.name, mediator.name = HOSTILE[0], HOSTILE[1]
    april.name = HOSTILE[3]
    db.session.flush()
    data = month_stats("2026-04", april)
    for locale in ("zh_Hans_CN", "en"):
        book = load_workbook(io.BytesIO(to_xlsx(data, april.name, locale)))
        seen = set()
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    seen.add(cell.value)
                    assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith(FORMULA), (sheet.title, cell.coordinate)
        assert "'" + HOSTILE[0] in seen and "'" + HOSTILE[1] in seen
        for table in TABLES:
            for line in csv.reader(io.StringIO(to_csv(data, april.name, locale, table)[1:])):
                assert not any(cell.startswith(FORMULA) for cell in line), (table, line)


def test_a_snapshot_freezes_the_month_and_is_audited(april, db):
    snapshot_month("2026-04", april)
    db.session.commit()
    build_case("registered", at=utc("2026-04-03 02:00"))
    assert month_stats("2026-04", april)["summary"]["received"] == 7
    assert published_stats("2026-04", april)["summary"]["received"] == 6
    snapshot_month("2026-04", april)
    db.session.commit()
    assert published_stats("2026-04", april)["summary"]["received"] == 7
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("stats.snapshot") == 2


def test_cli_exports_and_refuses_bad_input(april, app, db, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "stats",
            "export",
            "--month",
            "2026-04",
            "--centre",
            "330106",
            "--format",
            "json",
            "--out",
            "-",
        ]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["summary"]["received"] == 6
    out = tmp_path / "april.xlsx"
    result = runner.invoke(
        args=["stats", "export", "--month", "2026-04", "--format", "xlsx", "--out", str(out)]
    )
    assert result.exit_code == 0 and load_workbook(out).sheetnames
    result = runner.invoke(
        args=[
            "stats",
            "export",
            "--month",
            "2026-04",
            "--format",
            "csv",
            "--table",
            "by_channel",
            "--out",
            "-",
        ]
    )
    assert result.exit_code == 0 and "来访,6,6,3,100.00%" in result.output
    result = runner.invoke(
        args=["stats", "export", "--month", "2026-04", "--centre", "330106", "--format", "csv"]
        + ["--lang", "en", "--out", "-"]
    )
    assert result.exit_code == 0 and "Figure,Value" in result.output, result.output
    assert "statistics for April 2026" in result.output
    for args in (
        ["--month", "2026-13", "--format", "json", "--out", "-"],
        ["--month", "2026-04", "--centre", "999999", "--format", "json", "--out", "-"],
        ["--month", "2026-04", "--format", "xlsx", "--out", "-"],
    ):
        result = runner.invoke(args=["stats", "export", *args])
        assert result.exit_code != 0 and "Traceback" not in result.output


def test_page_shows_a_centre_admin_their_centre_and_downloads(april, db, client, login):
    db.session.commit()  # end the fixture's transaction: the pages write on SQLite
    login("admin")
    page = client.get("/admin/stats/?month=2026-04&centre=all").get_data(as_text=True)
    assert "西湖区社会矛盾纠纷调处化解中心" in page and "¥15,000.00" in page
    # The page names categories in words; the exports keep the codes.
    assert "婚姻家庭" in page and "<td>family</td>" not in page
    # The 12-month chart is drawn on the server: a bar per month, ending with April 2026.
    assert page.count('class="bar-received"') >= 12 and "2026年4月 受理" in page
    response = client.get("/admin/stats/export?month=2026-04&format=json")
    assert response.status_code == 200 and response.json["centre"] == "330106"
    csv_body = client.get("/admin/stats/export?month=2026-04&format=csv").data.decode()
    assert csv_body.startswith(
        "\ufeff西湖区社会矛盾纠纷调处化解中心 2026年4月统计报表\r\n指标,数值\r\n"
    )
    xlsx = client.get("/admin/stats/export?month=2026-04&format=xlsx").data
    summary = load_workbook(io.BytesIO(xlsx)).worksheets[0]
    assert summary["A1"].value == "西湖区社会矛盾纠纷调处化解中心 2026年4月统计报表"
    assert summary["A3"].value == "受理案件数"


def test_page_shows_changes_money_and_a_chart_with_values_and_years(april, db, client, login):
    build_case("registered", at=utc("2026-04-09 02:00"), amount=Decimal("1117800.00"))
    db.session.commit()
    login("admin")
    page = " ".join(client.get("/admin/stats/?month=2026-04").get_data(as_text=True).split())
    # Received: 7 in April against 3 in March and none a year before.
    assert "环比 <span" in page and "+4 (+133.3%)" in page and "· 上月 3</span>" in page
    assert "+7 <span" in page and "· 上年同月 0</span>" in page
    # The success rate stayed at 100%: a change of 0 percentage points, beside March's 100%.
    assert "+0.00 个百分点" in page and "· 上月 100.00%</span>" in page
    assert "¥1,120,800.50" in page and "1120800.50" not in page
    # The chart's value axis and its months with their years (May 2025 to April 2026).
    assert ">0</text>" in page and ">8</text>" in page
    assert ">5月</text>" in page and ">2025年</text>" in page and ">2026年</text>" in page
    assert "本月未结束" not in page


def test_a_month_not_over_is_marked_partial(april, db, client, login):
    # K: agreed March 29th, its obligation due April 28th: not yet due on April 21st.
    build_case("agreed", at=utc("2026-03-29 02:00"))
    db.session.commit()
    login("admin")
    with clock.frozen_at(utc("2026-04-21 02:00")):
        page = client.get("/admin/stats/").get_data(as_text=True)
    assert "2026年4月" in page and "本月未结束" in page and "数据截至2026年4月21日" in page
    # G J K due in April, J met: 33.33%; up to today only G and J are due.
    assert "33.33%" in page and "截至今日：50.00%" in page
    assert "（2 项中按期履行 1 项）" in page
    with clock.frozen_at(utc("2026-05-01 02:00")):
        assert "本月未结束" not in client.get("/admin/stats/?month=2026-04").get_data(as_text=True)


def test_page_in_english_reads_the_change_in_percentage_points(april, db, client, login):
    db.session.commit()
    login("admin")
    client.set_cookie("lang", "en")
    refresh()  # the fixture's app context, which the request shares, read the language already
    page = " ".join(client.get("/admin/stats/?month=2026-04").get_data(as_text=True).split())
    assert "April 2026" in page and "+0.00 pp" in page and "· previous month 3</span>" in page
    assert ">May</text>" in page and ">2025</text>" in page
    csv_body = client.get("/admin/stats/export?month=2026-04&format=csv").data.decode()
    assert csv_body.splitlines()[:2] == [
        "\ufeff西湖区社会矛盾纠纷调处化解中心: statistics for April 2026",
        "Figure,Value",
    ]


def test_global_admin_picks_all_centres_and_regenerates_the_snapshot(april, db, app, client, login):
    db.session.commit()
    login("admin", centre=None)
    assert client.get("/admin/stats/?month=2026-04&centre=all").status_code == 200
    assert client.get("/admin/stats/?month=2026-04&centre=999999").status_code == 404
    response = client.post_form("/admin/stats/snapshot", {"month": "2026-04", "centre": "all"})
    assert response.status_code == 302
    with app.app_context():
        entry = app.extensions["sqlalchemy"].session.scalar(
            select(AuditEntry).filter_by(action="stats.snapshot")
        )
        assert entry.target == "all 2026-04" and entry.actor_name == "admin-global"


@pytest.mark.parametrize("role", ["staff", "mediator"])
def test_page_is_for_admins_only(client, login, role):
    login(role)
    assert client.get("/admin/stats/").status_code == 403
    assert client.post_form("/admin/stats/snapshot", {"month": "2026-04"}).status_code == 403


def test_the_monthly_snapshot_body_does_last_month_once(april, db):
    from mediation.stats.models import StatsSnapshot
    from mediation.stats.snapshots import snapshot_previous_month

    assert snapshot_previous_month(utc("2026-05-01 02:00")) == 2  # 330106 and "all"
    keys = {(s.scope_key, s.month) for s in db.session.scalars(select(StatsSnapshot))}
    assert keys == {("330106", "2026-04"), ("all", "2026-04")}
    assert snapshot_previous_month(utc("2026-05-01 03:00")) == 0


def test_obligations_confirmations_and_visits_count_only_the_centres_own(db):
    """With one centre in the database the case join is left out; with a second it keeps each
    centre's figures its own."""

    def performed_in_march(centre: str):
        # Agreed and performed March 20th, its obligation due April 19th; confirmed and
        # visited in April.
        case = build_case("fulfilled", centre=centre, at=utc("2026-03-20 02:00"))
        with clock.frozen_at(utc("2026-04-20 02:00")):
            workflow.confirm_agreement(
                case, COURT, "(2026)浙0106民特9号", date(2026, 4, 2), staff(case)
            )
            workflow.record_follow_up(case, True, "满意", staff(case))
        db.session.commit()

    performed_in_march("330106")
    alone = month_stats("2026-04", centre_by_code("330106"))["summary"]
    performed_in_march("330105")
    beside = month_stats("2026-04", centre_by_code("330106"))["summary"]
    for summary in (alone, beside):
        assert summary["obligations_due"] == summary["fulfilled_on_time"] == 1
        assert summary["judicial_confirmations"] == 1
        assert summary["satisfaction_rate"] == 1.0
    assert month_stats("2026-04", None)["summary"]["obligations_due"] == 2

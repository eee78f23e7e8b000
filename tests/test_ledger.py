"""Ledger import (SPEC 5): formats, rules, all-or-nothing, replay through the workflow."""

import csv
import hashlib
import io
import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from mediation import clock
from mediation.audit.models import AuditEntry
from mediation.cases.models import Case, CaseEvent
from mediation.directory.models import Mediator, Organization
from mediation.extensions import db as _db
from mediation.integrity.models import Certificate, IntegrityRecord
from mediation.jobs.queue import run_queue_now, this_worker
from mediation.ledger.background import queue_import
from mediation.ledger.importer import NOT_RECORDED, import_ledger
from mediation.ledger.models import LedgerFile, LedgerImport
from mediation.notify.models import OutboxMessage
from mediation.web.language import force_locale
from tests.case_factory import centre_for, mediator_for, user_for
from tests.double_click import double_click
from tests.ledger_rows import ZH, row, to_csv

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
ORG = "西湖人民调解委员会"  # made by mediator_for


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def centre(db):
    centre = centre_for("330106")
    mediator_for(centre)  # 西湖人民调解委员会 / 王调解
    _db.session.commit()
    return centre


def cases() -> list[Case]:
    return _db.session.scalars(select(Case).order_by(Case.ledger_ref)).all()


def problems(result) -> list[tuple]:
    return [(p.row, p.column, p.message) for p in result.problems]


# --- formats --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("gb18030", False)]
)
def test_csv_with_chinese_headers_in_each_encoding(centre, encoding, bom):
    data = to_csv(
        [
            row(
                channel="12345热线",
                category="民间借贷",
                applicant="张三、王五",
                respondent="李四;赵六",
            )
        ],
        headers=ZH,
        encoding=encoding,
        bom=bom,
    )
    result = import_ledger(centre, data)
    assert result.ok, problems(result)
    _db.session.commit()
    (case,) = cases()
    assert (case.channel_code, case.category_code) == ("hotline", "lending")
    assert [p.name for p in case.parties] == ["张三", "王五", "李四", "赵六"]
    assert case.registered_on == date(2025, 3, 3)
    assert case.ledger_ref == "L-1"


@pytest.mark.parametrize("text", ["2025-03-03", "2025/3/3", "2025年3月3日"])
def test_each_date_format(centre, text):
    result = import_ledger(centre, to_csv([row(registered_on=text)]))
    assert result.ok, problems(result)
    assert cases()[0].registered_on == date(2025, 3, 3)


def test_xlsx_with_excel_date_cells(centre):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["台账编号", "登记日期", "来源渠道", "纠纷类型", "申请人", "被申请人", "标的额"])
    sheet.append(
        [2025001, datetime(2025, 4, 8), "来访", "labour", "杭州某某有限公司", "李四", 1200.5]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_ledger(centre, buffer.getvalue())
    assert result.ok, problems(result)
    (case,) = cases()
    assert case.ledger_ref == "2025001"
    assert case.registered_on == date(2025, 4, 8)
    assert case.amount == Decimal("1200.50")
    assert case.parties[0].kind == "organization"


# --- replay ---------------------------------------------------------------------------------


def test_agreed_case_gets_events_deadline_obligation_and_integrity_record(centre):
    data = to_csv(
        [
            row(
                organization=ORG,
                mediator="王调解",
                assigned_on="2025-03-04",
                outcome="调解成功",
                concluded_on="2025-03-20",
                agreement_amount="5000",
                due_on="2025-04-20",
                fulfilled_on="2025-04-10",
                confirmed_on="2025-03-25",
            )
        ]
    )
    result = import_ledger(centre, data)
    assert result.ok, problems(result)
    _db.session.commit()
    (case,) = cases()
    assert case.state == "fulfilled"
    assert (case.outcome, case.concluded_on) == ("agreed", date(2025, 3, 20))
    assert case.routed_on == date(2025, 3, 4)
    assert case.deadline_on == date(2025, 4, 3)  # neighbour: 30 days
    assert case.mediator.name == "王调解"
    obligation = case.agreement.obligations[0]
    assert (obligation.amount, obligation.due_on) == (Decimal("5000.00"), date(2025, 4, 20))
    assert obligation.fulfilled_on == date(2025, 4, 10)
    assert case.agreement.confirmed_on == date(2025, 3, 25)
    events = _db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at)
    ).all()
    assert [e.action for e in events] == [
        "register",
        "route",
        "record_session",
        "agree",
        "confirm",
        "fulfil",
    ]
    assert events[0].at == datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    record = _db.session.scalar(select(IntegrityRecord).where(IntegrityRecord.case_id == case.id))
    assert (record.kind, record.points, record.created_on) == ("positive", 15, date(2025, 4, 10))
    assert _db.session.scalar(select(func.count()).select_from(Certificate)) == 1
    assert _db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_late_performance_defaults_first_and_earns_nothing(centre):
    data = to_csv(
        [
            row(
                organization=ORG,
                assigned_on="2025-03-04",
                outcome="agreed",
                concluded_on="2025-03-20",
                agreement_amount="800",
                due_on="2025-04-01",
                fulfilled_on="2025-05-15",
            )
        ]
    )
    assert import_ledger(centre, data).ok
    (case,) = cases()
    actions = [
        e.action
        for e in _db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at)
        )
    ]
    assert actions[-2:] == ["default", "fulfil"]
    kinds = _db.session.scalars(select(IntegrityRecord.kind)).all()
    assert kinds == ["negative"]  # unmet 30 days after the due date; no certificate
    # Without a mediator the case goes to the organisation's placeholder.
    assert case.mediator.name == NOT_RECORDED
    assert case.mediator.max_caseload == 0


@pytest.mark.parametrize(
    ("reason", "assigned", "court"),
    [
        ("failed", True, NOT_RECORDED),
        ("调解不成", True, NOT_RECORDED),
        ("party_request", True, ""),
        ("不适宜调解", False, NOT_RECORDED),
        ("respondent_refused", False, NOT_RECORDED),
        ("调解期限届满", True, ""),
    ],
)
def test_transfers(centre, reason, assigned, court):
    extra = {"organization": ORG, "assigned_on": "2025-03-04"} if assigned else {}
    data = to_csv(
        [row(outcome="转诉讼", transfer_reason=reason, concluded_on="2025-04-10", **extra)]
    )
    result = import_ledger(centre, data)
    assert result.ok, problems(result)
    (case,) = cases()
    assert (case.state, case.concluded_on) == ("transferred", date(2025, 4, 10))
    assert case.transfer.court == court
    assert case.transfer.transferred_on == date(2025, 4, 10)


def test_withdrawn_and_open_cases(centre):
    data = to_csv(
        [
            row("A", outcome="撤回", concluded_on="2025-03-05"),
            row("B", organization=ORG, assigned_on="2025-03-04"),
            row("C"),
        ]
    )
    assert import_ledger(centre, data).ok
    assert [(c.ledger_ref, c.state) for c in cases()] == [
        ("A", "withdrawn"),
        ("B", "assigned"),
        ("C", "registered"),
    ]


# --- problems -------------------------------------------------------------------------------


def test_every_problem_reported_with_its_row_and_column_and_nothing_written(centre):
    data = to_csv(
        [
            row("ok"),
            row("", registered_on="2025-13-01"),
            row("x1", channel="传真", category="天气"),
            row("x2", organization=ORG),
            row("x3", outcome="agreed"),
            row("x4", outcome="transferred", concluded_on="2025-04-01"),
            row("x5", outcome="agreed", concluded_on="2025-04-01"),
            row("x6", organization="无名委员会", assigned_on="2025-03-04"),
            row("x7", organization=ORG, mediator="陌生人", assigned_on="2025-03-01"),
            row("ok"),
            row("x8", amount="abc", registered_on="2030-01-01"),
            row(
                "x9",
                organization=ORG,
                assigned_on="2025-03-04",
                outcome="transferred",
                transfer_reason="deadline_expired",
                concluded_on="2025-03-20",
            ),
        ],
        headers=ZH,
    )
    result = import_ledger(centre, data)
    found = problems(result)
    columns = {(r, c) for r, c, _m in found}
    assert {
        (3, "台账编号"),
        (3, "登记日期"),
        (4, "来源渠道"),
        (4, "纠纷类型"),
        (5, "委派日期"),
        (6, "办结日期"),
        (7, "转诉讼原因"),
        (8, "调解组织"),
        (9, "调解组织"),
        (10, "调解员"),
        (10, "委派日期"),
        (11, "台账编号"),
        (12, "标的额"),
        (12, "登记日期"),
        (13, "办结日期"),
    } <= columns
    messages = dict(((r, c), m) for r, c, m in found)
    assert "第 2 行" in messages[(11, "台账编号")]  # the tests run in Chinese, the default
    assert "无名委员会" in messages[(9, "调解组织")]
    assert "2025-04-03" in messages[(13, "办结日期")]
    assert cases() == []


def test_texts_longer_than_their_columns_are_problems(centre):
    """Even with --create-missing: the organisation and mediator would be created with them."""
    data = to_csv(
        [
            row(
                "L" * 65,
                applicant="张三、" + "王" * 101,
                organization="委" * 101,
                mediator="人" * 51,
                assigned_on="2025-03-04",
            )
        ]
    )
    result = import_ledger(centre, data, create_missing=True)
    assert problems(result) == [
        (2, "ref", "最多 64 个字符。"),
        (2, "applicant", "最多 100 个字符。"),
        (2, "organization", "最多 100 个字符。"),
        (2, "mediator", "最多 50 个字符。"),
    ]
    assert cases() == []


def test_missing_required_column_is_reported_on_the_header_row(centre):
    data = "ref,registered_on,channel,category,applicant\nA,2025-01-01,walk_in,family,张三\n"
    result = import_ledger(centre, data.encode())
    assert [(p.row, p.column) for p in result.problems] == [(1, "respondent / 被申请人")]


def test_one_bad_row_writes_no_case(centre):
    data = to_csv([row("A"), row("B"), row("C", category="nonsense")])
    result = import_ledger(centre, data)
    assert problems(result)[0][:2] == (4, "category")
    _db.session.commit()
    assert cases() == []


def test_dry_run_writes_nothing(centre):
    data = to_csv([row("A", organization="新委员会", assigned_on="2025-03-04", mediator="新人")])
    result = import_ledger(centre, data, dry_run=True, create_missing=True)
    assert result.ok and result.created == 1
    _db.session.commit()
    assert cases() == []
    assert _db.session.scalar(select(Organization).filter_by(name="新委员会")) is None


def test_reimport_skips_known_refs(centre):
    assert import_ledger(centre, to_csv([row("A"), row("B")])).created == 2
    _db.session.commit()
    result = import_ledger(centre, to_csv([row("A"), row("B"), row("C")]))
    assert (result.created, result.skipped) == (1, 2)
    _db.session.commit()
    assert [c.ledger_ref for c in cases()] == ["A", "B", "C"]


def test_create_missing_creates_organisations_and_mediators(centre):
    data = to_csv(
        [
            row("A", organization="新委员会", mediator="新人", assigned_on="2025-03-04"),
            row("B", organization="新委员会", mediator="新人", assigned_on="2025-03-05"),
        ]
    )
    result = import_ledger(centre, data, create_missing=True)
    assert result.ok, problems(result)
    assert result.created_organizations == ["新委员会"]
    organization = _db.session.scalar(select(Organization).filter_by(name="新委员会"))
    assert organization.kind == "people"
    assert (
        _db.session.scalar(select(func.count()).select_from(Mediator).filter_by(name="新人")) == 1
    )
    assert {c.mediator.name for c in cases()} == {"新人"}


def test_an_import_past_its_first_thousand_rows_meets_new_years_and_organisations(centre):
    """Rows are written a thousand at a time: a year whose counter is read, and an
    organisation and a mediator created, after the first thousand come between two of those
    writes, and each case keeps its own."""
    first = [row(f"A{n:04}", registered_on="2024-05-06") for n in range(1, 1001)]
    later = [
        row(
            "B1",
            registered_on="2025-02-03",
            organization="新委员会",
            mediator="新人",
            assigned_on="2025-02-04",
        ),
        row("B2", registered_on="2023-07-08"),
        *[row(f"C{n:04}", registered_on="2025-02-05") for n in range(1, 1001)],
    ]
    result = import_ledger(centre, to_csv(first + later), create_missing=True)
    assert result.ok, problems(result)
    _db.session.commit()
    numbers = dict(_db.session.execute(select(Case.ledger_ref, Case.number)).all())
    assert len(numbers) == 2002
    assert numbers["A0001"] == "西湖调〔2024〕1号" and numbers["A1000"] == "西湖调〔2024〕1000号"
    assert numbers["B1"] == "西湖调〔2025〕1号" and numbers["C1000"] == "西湖调〔2025〕1001号"
    assert numbers["B2"] == "西湖调〔2023〕1号"
    b1 = _db.session.scalar(select(Case).filter_by(ledger_ref="B1"))
    assert (b1.organization.name, b1.mediator.name) == ("新委员会", "新人")


def test_cases_are_numbered_in_the_order_they_were_registered_whatever_the_rows_order(
    centre, monkeypatch
):
    """A ledger kept out of order (sheets pasted together, late entries at the end) is
    replayed in the order of registration, rows of the same day in the ledger's order: sorted
    a few rows at a time here, so that the sorted runs are merged too."""
    monkeypatch.setattr("mediation.ledger.importer.RUN_ROWS", 3)
    days = {"R1": "2025-03-09", "R2": "2025-01-20", "R3": "2025-03-09", "R4": "2024-12-30"}
    days |= {"R5": "2025-02-01", "R6": "2025-01-02", "R7": "2025-03-08", "R8": "2025-01-20"}
    result = import_ledger(
        centre, to_csv([row(ref, registered_on=day) for ref, day in days.items()])
    )
    assert result.ok, problems(result)
    _db.session.commit()
    numbered = _db.session.execute(
        select(Case.ledger_ref).where(Case.year == 2025).order_by(Case.seq)
    ).scalars()
    assert list(numbered) == ["R6", "R2", "R8", "R5", "R7", "R1", "R3"]
    assert _db.session.scalar(select(Case.number).filter_by(ledger_ref="R4")) == "西湖调〔2024〕1号"


# --- command line and page ------------------------------------------------------------------


def test_cli_prints_counts_or_every_error(app, centre, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(to_csv([row("A"), row("B")]))
    bad.write_bytes(to_csv([row("A"), row("Z", registered_on="yesterday")]))
    runner = app.test_cli_runner()
    outcome = runner.invoke(args=["ledger", "import", str(bad), "--centre", "330106"])
    assert outcome.exit_code != 0
    assert "第 3 行，registered_on 列：日期格式" in outcome.output
    outcome = runner.invoke(args=["ledger", "import", str(good)])
    assert outcome.exit_code == 0, outcome.output
    assert "新建案件 2 件，跳过 0 件" in outcome.output
    assert "已处理 2 / 2 行" in outcome.output
    _db.session.expire_all()
    assert len(cases()) == 2


def upload(client, centre, data: bytes, **fields):
    return client.post_form(
        "/admin/ledger/",
        {"file": (io.BytesIO(data), "台账.csv"), "centre": str(centre.id), **fields},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def imports() -> list[LedgerImport]:
    return _db.session.scalars(select(LedgerImport).order_by(LedgerImport.id)).all()


def test_upload_page_refuses_an_unreadable_file_beside_the_field(client, login, centre):
    login("admin")
    page = upload(client, centre, "编号,日期\r\n1,2025-03-03\r\n".encode())
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "缺少该必填列" in text and "invalid-feedback" in text
    assert imports() == [] and cases() == []


def test_upload_page_lists_the_problems_and_writes_nothing(client, login, centre):
    login("admin")
    page = upload(client, centre, to_csv([row("A"), row("B", channel="传真")]), dry_run="")
    text = page.get_data(as_text=True)
    assert "共 1 处问题，未导入任何数据" in text
    assert '<td>3</td><td class="text-nowrap">channel</td>' in text and "传真" in text
    assert cases() == []
    (item,) = imports()
    assert (item.state, item.problem_count, item.created) == ("refused", 1, 0)


def test_upload_page_imports_in_the_background_and_shows_the_outcome(client, login, centre):
    admin = login("admin")
    page = upload(client, centre, to_csv([row("A"), row("B")]), dry_run="")
    text = page.get_data(as_text=True)
    assert "台账已导入：新建案件 2 件" in text
    assert 'http-equiv="refresh"' not in text  # finished: the page stops reloading itself
    assert [c.ledger_ref for c in cases()] == ["A", "B"]
    (item,) = imports()
    assert (item.state, item.created, item.user_id) == ("done", 2, admin.id)
    entry = _db.session.scalar(select(AuditEntry).filter_by(action="ledger.import"))
    assert entry.actor_id == admin.id and entry.client == "127.0.0.1"
    assert "台账.csv" in client.get("/admin/ledger/").get_data(as_text=True)


def test_the_same_upload_again_while_it_is_under_way_is_that_import(
    app, client, login, centre, monkeypatch
):
    """A double click, or the page sent again while the import waits for a job process: the
    admin lands on the first import's page; once that import has ended, the same file is a new
    import (or dry run) of its own."""
    login("admin")
    ledger = to_csv([row("A"), row("B")])
    monkeypatch.setitem(app.config, "JOBS_RUN_AT_ONCE", False)
    first = upload(client, centre, ledger, dry_run="")
    again = upload(client, centre, ledger, dry_run="")
    assert again.request.path == first.request.path
    checked = upload(client, centre, ledger, dry_run="y")  # other options: an import of its own
    assert checked.request.path != first.request.path
    assert len(imports()) == 2
    _db.session.rollback()
    run_queue_now(app)
    monkeypatch.setitem(app.config, "JOBS_RUN_AT_ONCE", True)
    upload(client, centre, ledger, dry_run="")
    _db.session.expire_all()
    assert [(i.dry_run, i.created, i.skipped) for i in imports()] == [
        (False, 2, 0),
        (True, 0, 2),  # checked after the import: its rows are there by then
        (False, 0, 2),
    ]


def test_a_double_click_on_the_upload_queues_one_import(app, client, login, centre, monkeypatch):
    """Both posts arrive before either is saved: on PostgreSQL the second waits for the first
    and then finds it, on SQLite the write lock orders them; both land on the one import."""
    login("admin")
    second = app.test_client()
    second.set_cookie("session", client.get_cookie("session").value)
    monkeypatch.setitem(app.config, "JOBS_RUN_AT_ONCE", False)
    ledger, centre_row = to_csv([row("A")]), SimpleNamespace(id=centre.id)  # no load in a thread
    _db.session.rollback()  # outside a request a read holds SQLite's write lock until it ends
    answers = double_click(
        _db.engine,
        (client, second),
        lambda c: upload(c, centre_row, ledger, dry_run=""),
        "INSERT INTO BACKGROUND_JOB",
    )
    assert [answer.status_code for _c, answer in answers] == [200, 200]
    assert len({answer.request.path for _c, answer in answers}) == 1
    assert len(imports()) == 1


def test_the_problems_are_in_the_uploaders_language(app, centre):
    with force_locale("en"):
        item_id = queue_import(
            LedgerImport(centre_id=centre.id), to_csv([row("A", channel="传真")])
        )
    run_queue_now(app)  # a job process, in the language of whoever uploaded the file
    _db.session.expire_all()
    problem = _db.session.get(LedgerImport, item_id).problems[0]
    assert problem[2].startswith("Unknown value 传真")


def test_a_dry_run_from_the_page_writes_nothing(client, login, centre):
    login("admin")
    page = upload(client, centre, to_csv([row("A")]), dry_run="y")
    assert "试导入：未写入任何数据" in page.get_data(as_text=True)
    assert cases() == []
    assert imports()[0].state == "done"


def test_a_running_import_shows_its_progress_from_the_database_until_its_process_dies(
    app, client, login, centre, hold_job_lock
):
    login("admin")
    item_id = queue_import(LedgerImport(centre_id=centre.id, filename="大台账.xlsx"), b"ref\n")
    text = client.get(f"/admin/ledger/{item_id}").get_data(as_text=True)
    assert "正在等待作业进程开始导入" in text and 'http-equiv="refresh"' in text
    job = _db.session.get(LedgerImport, item_id).job
    # As a job process on another host writes it: claimed, then its progress.
    job.state, job.worker, job.started_at = "running", this_worker(), clock.now()
    job.phase, job.done = "reading", 4000
    _db.session.commit()
    with hold_job_lock(job.id):
        text = client.get(f"/admin/ledger/{item_id}").get_data(as_text=True)
        assert "正在读取并检查每一行：已读 4000 行" in text
        job.phase, job.done, job.total = "writing", 2500, 10000
        _db.session.commit()
        text = client.get(f"/admin/ledger/{item_id}").get_data(as_text=True)
        assert "已写入 2500 / 10000 件案件" in text and "bar-25" in text
        assert 'http-equiv="refresh"' in text
    # The process died (no lock held on PostgreSQL; no such process on this host on SQLite).
    job.worker = f"{this_worker().rpartition(':')[0]}:999999999"
    _db.session.commit()
    text = client.get(f"/admin/ledger/{item_id}").get_data(as_text=True)
    assert "导入已中断" in text and "未写入任何数据" in text
    assert 'http-equiv="refresh"' not in text
    _db.session.expire_all()
    item = _db.session.get(LedgerImport, item_id)
    assert (item.state, item.job.state, item.job.error) == ("failed", "failed", "interrupted")


def test_ledger_pages_are_for_the_centres_admins_only(client, login, centre):
    other = centre_for("330108")
    item = LedgerImport(centre_id=other.id, state="done", started_at=clock.now())
    _db.session.add(item)
    _db.session.flush()
    item_id = item.id
    _db.session.commit()
    login("staff")
    assert client.get("/admin/ledger/").status_code == 403
    assert client.get(f"/admin/ledger/{item_id}").status_code == 403
    client.post_form("/logout")
    login("admin")
    assert client.get(f"/admin/ledger/{item_id}").status_code == 404
    assert "330108" not in client.get("/admin/ledger/").get_data(as_text=True)


# --- dates, choices, templates, import now, the cases created (issue 19) --------------------


def test_a_date_that_does_not_exist_is_called_so_not_a_wrong_format(centre):
    data = to_csv(
        [
            row("A", registered_on="2024-02-30"),
            row("B", registered_on="2025/13/1"),
            row("C", registered_on="2024年2月29日"),
        ]
    )
    assert problems(import_ledger(centre, data)) == [
        (2, "registered_on", "日期 2024-02-30 不存在：该月只有 29 天。"),
        (3, "registered_on", "日期 2025/13/1 不存在：一年只有 12 个月。"),
    ]
    with force_locale("en"):
        result = import_ledger(centre, to_csv([row("A", registered_on="2023-02-29")]))
    assert result.problems[0].message == "There is no date 2023-02-29: that month has 28 days."


def test_an_unknown_category_lists_the_chinese_names_in_the_chinese_interface(
    client, login, centre
):
    login("admin")
    page = upload(client, centre, to_csv([row("A", category="赌债")]), dry_run="y")
    text = page.get_data(as_text=True)
    assert "无法识别“赌债”，请填写以下之一：婚姻家庭、邻里纠纷、劳动争议" in text
    assert "family" not in text and "neighbour" not in text
    # In English each code comes with its Chinese name, which the ledger may hold as well.
    with force_locale("en"):
        result = import_ledger(centre, to_csv([row("A", category="赌债")]))
    assert "family (婚姻家庭), neighbour (邻里纠纷)" in result.problems[0].message


def read_template(kind: str, data: bytes) -> list[list]:
    if kind == "csv":
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data)).active
    return [list(cells) for cells in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_templates_have_chinese_headers_and_an_example_row_that_passes(
    client, login, centre, kind
):
    login("admin")
    assert f'href="/admin/ledger/template.{kind}"' in client.get("/admin/ledger/").get_data(
        as_text=True
    )
    response = client.get(f"/admin/ledger/template.{kind}")
    assert response.status_code == 200
    assert f"ledger-template.{kind}" in response.headers["Content-Disposition"]
    header, example = read_template(kind, response.get_data())
    assert header == ZH
    assert example[:6] == ["2025-0001", example[1], "来访", "邻里纠纷", "张三", "李四"]
    if kind == "xlsx":
        assert example[1] == datetime(2025, 3, 3)  # a date cell, as Excel shows dates
    page = upload(client, centre, response.get_data(), dry_run="y", create_missing="y")
    assert "所有行均可导入：将新建案件 1 件" in page.get_data(as_text=True)


def import_now(client, item_id: int, **kwargs):
    return client.post_form(f"/admin/ledger/{item_id}/import", follow_redirects=True, **kwargs)


def test_import_now_imports_the_very_file_the_dry_run_checked(client, login, centre):
    login("admin")
    page = upload(client, centre, to_csv([row("A"), row("B")]), dry_run="y")
    assert "立即导入" in page.get_data(as_text=True)
    assert cases() == []
    (checked,) = imports()
    # A file sent along with the button is not what is imported: the kept file is.
    other = {"file": (io.BytesIO(to_csv([row("Z")])), "other.csv")}
    text = import_now(client, checked.id, data=other, content_type="multipart/form-data").get_data(
        as_text=True
    )
    assert "台账已导入：新建案件 2 件" in text
    assert [c.ledger_ref for c in cases()] == ["A", "B"]
    checked, done = imports()
    assert (done.dry_run, done.checked_import_id) == (False, checked.id)
    assert (
        done.file_sha256
        == checked.file_sha256
        == hashlib.sha256(to_csv([row("A"), row("B")])).hexdigest()
    )
    assert _db.session.get(LedgerFile, checked.id) is None  # imported: no longer kept
    # The check links to its import and offers it no more; asking again changes nothing.
    text = client.get(f"/admin/ledger/{checked.id}").get_data(as_text=True)
    assert "立即导入" not in text and f'href="/admin/ledger/{done.id}"' in text
    assert "已无法导入，请重新上传" in import_now(client, checked.id).get_data(as_text=True)
    assert len(imports()) == 2
    # Checked again, the file has nothing left to create: nothing to import now.
    page = upload(client, centre, to_csv([row("A"), row("B")]), dry_run="y")
    assert "跳过 2 件" in page.get_data(as_text=True)
    assert "立即导入" not in page.get_data(as_text=True)


def test_import_now_refuses_a_kept_file_that_changed_or_is_too_old(client, login, centre):
    login("admin")
    upload(client, centre, to_csv([row("A")]), dry_run="y")
    upload(client, centre, to_csv([row("B")]), dry_run="y")
    first, second = imports()
    kept = _db.session.get(LedgerFile, first.id)
    kept.data = to_csv([row("A"), row("EVIL")])
    _db.session.commit()
    assert "已无法导入" in import_now(client, first.id).get_data(as_text=True)
    with clock.frozen_at(NOW + timedelta(days=8)):
        assert "立即导入" not in client.get(f"/admin/ledger/{second.id}").get_data(as_text=True)
        assert "已无法导入" in import_now(client, second.id).get_data(as_text=True)
    assert cases() == [] and len(imports()) == 2


def test_a_refused_check_offers_no_import_and_keeps_no_file(client, login, centre):
    login("admin")
    text = upload(client, centre, to_csv([row("A", channel="传真")]), dry_run="y").get_data(
        as_text=True
    )
    assert "立即导入" not in text
    (item,) = imports()
    assert _db.session.get(LedgerFile, item.id) is None
    assert "已无法导入" in import_now(client, item.id).get_data(as_text=True)


def test_the_outcome_links_to_the_cases_created(client, login, centre, app, monkeypatch):
    login("admin")
    assert import_ledger(centre, to_csv([row("EARLIER")])).ok  # from the command line
    _db.session.commit()
    data = to_csv(
        [row("A"), row("B", registered_on="2025-03-04"), row("C", registered_on="2025-03-05")]
    )
    text = upload(client, centre, data, dry_run="").get_data(as_text=True)
    item = imports()[-1]
    created = {c.ledger_ref: c for c in cases()}
    for ref in "ABC":
        assert f'<a href="/cases/{created[ref].id}">{created[ref].number}</a>' in text
    assert f'href="/cases/?ledger_import={item.id}"' in text
    assert "在案件列表中查看新建的全部 3 件案件" in text
    # The list shows this import's cases only, newest first, a keyset page at a time.
    monkeypatch.setitem(app.config, "CASE_LIST_PAGE_SIZE", 2)
    first = client.get(f"/cases/?ledger_import={item.id}").get_data(as_text=True)
    assert f"第 {item.id} 号台账导入新建的案件" in first
    shown = [ref for ref, case in created.items() if f">{case.number}<" in first]
    assert shown == ["B", "C"]
    after = re.search(r'rel="next"\s+href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(after).get_data(as_text=True)
    assert [ref for ref, case in created.items() if f">{case.number}<" in second] == ["A"]


def test_a_dry_run_links_to_no_cases(client, login, centre):
    login("admin")
    text = upload(client, centre, to_csv([row("A")]), dry_run="y").get_data(as_text=True)
    assert "ledger_import=" not in text


@pytest.mark.parametrize("role", ["staff", "mediator"])
def test_templates_and_import_now_are_for_administrators(client, login, centre, role):
    item = LedgerImport(centre_id=centre.id, dry_run=True, state="done", started_at=NOW)
    _db.session.add(item)
    _db.session.flush()
    _db.session.add(LedgerFile(import_id=item.id, sha256="", data=b""))
    item_id = item.id
    _db.session.commit()
    login(role)
    assert client.get("/admin/ledger/template.csv").status_code == 403
    assert client.get("/admin/ledger/template.xlsx").status_code == 403
    assert client.post_form(f"/admin/ledger/{item_id}/import").status_code == 403
    assert len(imports()) == 1


def test_another_centres_admin_cannot_import_its_check(client, login, centre):
    other = centre_for("330108")
    data = to_csv([row("A")])
    item = LedgerImport(
        centre_id=other.id,
        dry_run=True,
        state="done",
        started_at=NOW,
        file_sha256=hashlib.sha256(data).hexdigest(),
    )
    _db.session.add(item)
    _db.session.flush()
    _db.session.add(LedgerFile(import_id=item.id, sha256=item.file_sha256, data=data))
    item_id = item.id
    _db.session.commit()
    login("admin")
    assert client.get(f"/admin/ledger/{item_id}").status_code == 404
    assert client.post_form(f"/admin/ledger/{item_id}/import").status_code == 404
    assert cases() == [] and len(imports()) == 1


# --- scale ----------------------------------------------------------------------------------


def test_five_thousand_rows_import_in_seconds(centre):
    """Half open, half agreed and performed. The bulk writer does ~3,000 rows per CPU second
    here; one case at a time through the workflow did ~90 (SQLite) and ~45 (PostgreSQL) a
    second, which this limit would catch. This process's CPU time, not the wall clock: on a
    busy machine the wall clock measured the other processes (16.9 s once at load 11)."""
    rows = [
        row(
            f"T{n:05d}",
            organization=ORG,
            mediator="王调解",
            assigned_on="2025-03-04",
            outcome="agreed",
            concluded_on="2025-03-20",
            agreement_amount="100",
            due_on="2025-04-20",
            fulfilled_on="2025-04-01",
        )
        if n % 2
        else row(f"T{n:05d}")
        for n in range(5000)
    ]
    data = to_csv(rows)
    start = time.process_time()
    result = import_ledger(centre, data, user=user_for(centre, "admin"))
    _db.session.commit()
    seconds = time.process_time() - start
    print(f"ledger import: {5000 / seconds:.0f} rows per CPU second")
    assert result.created == 5000
    assert seconds < 10


def test_imported_cases_count_in_the_month_statistics(centre):
    from mediation.stats.queries import month_stats

    data = to_csv(
        [
            row(
                "A",
                organization=ORG,
                assigned_on="2025-03-04",
                outcome="agreed",
                concluded_on="2025-03-20",
            ),
            row("B", registered_on="2025-03-05", outcome="withdrawn", concluded_on="2025-03-06"),
            row("C", registered_on="2025-02-27"),
        ]
    )
    assert import_ledger(centre, data).ok
    _db.session.commit()
    summary = month_stats("2025-03", centre)["summary"]
    assert (summary["received"], summary["concluded"]) == (2, 2)
    assert (summary["agreed"], summary["withdrawn"], summary["routed"]) == (1, 1, 1)


def test_an_imported_ledger_exports_the_figures_it_holds(app, centre, tmp_path):
    """`flask ledger import` then `flask stats export`: the month's JSON counts the imported
    cases as SPEC 4 defines them."""
    ledger = tmp_path / "台账.csv"
    ledger.write_bytes(
        to_csv(
            [
                row(
                    "A",
                    registered_on="2025-03-03",
                    organization=ORG,
                    mediator="王调解",
                    assigned_on="2025-03-04",
                    outcome="agreed",
                    concluded_on="2025-03-20",
                    agreement_amount="8000",
                    due_on="2025-03-31",
                    fulfilled_on="2025-03-25",
                ),
                row(
                    "B",
                    registered_on="2025-03-05",
                    organization=ORG,
                    assigned_on="2025-03-06",
                    outcome="transferred",
                    transfer_reason="failed",
                    concluded_on="2025-03-28",
                ),
                row("C", registered_on="2025-03-07", amount="1500000"),
            ]
        )
    )
    runner = app.test_cli_runner()
    imported = runner.invoke(args=["ledger", "import", str(ledger), "--centre", "330106"])
    assert imported.exit_code == 0, imported.output
    exported = runner.invoke(
        args=["stats", "export", "--month", "2025-03", "--centre", "330106"]
        + ["--format", "json", "--out", "-"]
    )
    assert exported.exit_code == 0, exported.output
    summary = json.loads(exported.output)["summary"]
    assert (summary["received"], summary["concluded"], summary["agreed"]) == (3, 2, 1)
    assert summary["transferred"] == 1 and summary["success_rate"] == 0.5
    assert (summary["obligations_due"], summary["fulfilled_on_time"]) == (1, 1)
    assert summary["certificates_issued"] == 1
    assert summary["amount_agreed"] == "8000.00"
    assert summary["amount_in_dispute"] == "1500000.00"
    assert summary["high_risk_received"] == 0  # 1.5 million is medium risk
    assert summary["pending_end"] == 1  # C

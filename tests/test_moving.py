"""Moving a case to another centre (移送, SPEC 10, issue 22): what the move writes, the number
from the new centre's sequence, the old number in search and on the portal, who may move a
case (the matrix of every state and actor is in test_workflow), and the statistics."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from mediation import clock
from mediation.auth.models import User
from mediation.cases import workflow
from mediation.cases.models import Case, CaseEvent, FormerNumber
from mediation.cases.numbering import cases_numbered
from mediation.cases.states import State
from mediation.cases.workflow import Actor, IntakeData, WorkflowError
from mediation.directory.models import Centre
from mediation.notify.models import OutboxMessage
from mediation.portal import lookup
from mediation.stats.queries import month_stats, monthly_series
from tests.case_factory import centre_for, default_parties, mediator_for, user_for
from tests.double_click import double_click

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Shanghai
XIHU, GONGSHU = "330106", "330105"
REASON = "纠纷发生地在拱墅区，属拱墅区中心受理"


def cst(year, month, day, hour=10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def gongshu(db):
    centre = centre_for(GONGSHU)
    user_for(centre, "staff")
    db.session.commit()
    return centre


def staff_of(code: str) -> Actor:
    return Actor.for_user(user_for(centre_for(code), "staff"))


def move(db, case, to_centre, at=None, actor=None):
    event = workflow.move_case(case, to_centre, REASON, actor or staff_of(XIHU), at=at)
    db.session.commit()
    return event


# --- what the move writes -------------------------------------------------------------------


def test_a_moved_case_is_triaged_afresh_at_the_new_centre_with_its_history(db, make_case, gongshu):
    case = make_case("mediating", at=cst(2026, 3, 2))
    old_number, parties = case.number, [p.id for p in case.parties]
    deadline, before = (
        case.deadline_on,
        db.session.scalar(
            select(CaseEvent.id).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
        ),
    )

    event = move(db, case, gongshu)

    assert case.centre_id == gongshu.id
    assert case.number == "拱墅调〔2026〕1号" and (case.year, case.seq) == (2026, 1)
    assert case.state == State.REGISTERED
    assert (case.organization_id, case.mediator_id, case.routed_at) == (None, None, None)
    # The deadline is the parties' assurance: a centre's mistake does not lengthen it.
    assert case.deadline_on == deadline
    # Due for triage by the new centre's working days: Tuesday 10 March + 3 → Friday 13 March.
    assert case.triage_due_on == datetime(2026, 3, 13).date()
    assert (case.received_at, case.received_on) == (NOW, NOW.date())
    assert case.registered_on == datetime(2026, 3, 2).date()  # the registration stays
    assert [p.id for p in case.parties] == parties
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    assert [e.id for e in events if e.id <= before] and events[-1].id == event.id
    assert (event.action, event.from_state, event.to_state) == ("move", "mediating", "registered")
    # The event stays with the centre that moved the case: its audit log keeps what it did.
    assert event.centre_id == centre_for(XIHU).id
    assert event.details["former_number"] == old_number
    assert event.details["number"] == case.number
    assert event.details["to_centre"] == gongshu.name
    assert event.details["reason"] == REASON
    (former,) = db.session.scalars(select(FormerNumber)).all()
    assert (former.number, former.centre_id, former.to_centre_id) == (
        old_number,
        centre_for(XIHU).id,
        gongshu.id,
    )


def test_routing_a_moved_case_keeps_its_deadline(db, make_case, gongshu):
    case = make_case("assigned", at=cst(2026, 3, 2))
    deadline = case.deadline_on
    move(db, case, gongshu)
    mediator = mediator_for(gongshu)
    workflow.route_case(case, mediator.organization, mediator, staff_of(GONGSHU))
    db.session.commit()
    assert case.state == State.ASSIGNED and case.deadline_on == deadline


def test_a_case_moved_before_routing_gets_its_deadline_at_the_new_centre(db, make_case, gongshu):
    case = make_case("registered", at=cst(2026, 3, 2))
    move(db, case, gongshu)
    assert case.deadline_on is None
    mediator = mediator_for(gongshu)
    workflow.route_case(case, mediator.organization, mediator, staff_of(GONGSHU))
    period = workflow.CentreRules(gongshu).periods[case.category_code]
    assert case.deadline_on == NOW.date() + timedelta(days=period)


def test_the_receiving_staff_are_told_and_the_parties_get_the_new_number(db, make_case, gongshu):
    case = make_case("registered")
    move(db, case, gongshu)
    receiving = user_for(gongshu, "staff")
    (notice,) = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.channel == "in_app", OutboxMessage.case_id == case.id
        )
    ).all()
    assert notice.user_id == receiving.id and notice.centre_id == gongshu.id
    assert case.number in notice.subject and "西湖调〔2026〕1号" in notice.body
    assert REASON in notice.body
    texts = db.session.scalars(
        select(OutboxMessage.body).where(
            OutboxMessage.channel == "sms", OutboxMessage.body.contains("拱墅调")
        )
    ).all()
    assert len(texts) == 2  # both parties have a mobile
    assert all(case.number in text and "西湖调〔2026〕1号" in text for text in texts)


@pytest.mark.parametrize(
    ("to_code", "reason", "field"),
    [(XIHU, REASON, "centre"), (None, REASON, "centre"), (GONGSHU, "  ", "reason")],
)
def test_a_move_needs_another_centre_and_a_reason(db, make_case, gongshu, to_code, reason, field):
    case = make_case("registered")
    to_centre = centre_for(to_code) if to_code else None
    with pytest.raises(WorkflowError) as refusal:
        workflow.move_case(case, to_centre, reason, staff_of(XIHU))
    assert refusal.value.field == field
    db.session.rollback()
    assert db.session.get(Case, case.id).centre_id == centre_for(XIHU).id


def test_no_move_is_offered_in_a_deployment_of_one_centre(db, make_case):
    case = make_case("registered")
    assert "move" not in workflow.allowed_actions(case, staff_of(XIHU))


def test_a_case_whose_ledger_number_the_other_centre_has_is_not_moved(db, make_case, gongshu):
    case = make_case("registered")
    theirs = make_case("registered", centre=GONGSHU)
    case.ledger_ref = theirs.ledger_ref = "台账-7"  # both imported from ledgers
    db.session.commit()
    with pytest.raises(WorkflowError, match="台账-7"):
        workflow.move_case(case, gongshu, REASON, staff_of(XIHU))


# --- numbers ----------------------------------------------------------------------------------


def test_the_old_number_still_finds_the_case_wherever_it_went(db, make_case, gongshu):
    case = make_case("registered")
    other = make_case("registered")
    old_number = case.number
    move(db, case, gongshu)
    third = centre_for("330108")
    workflow.move_case(case, third, REASON, staff_of(GONGSHU))
    db.session.commit()
    for typed in (
        old_number,
        "西湖调 2026 1号",
        "西湖调(2026)1号",
        "拱墅调〔2026〕1号",
        case.number,
    ):
        assert cases_numbered(typed) == [case.id], typed
    assert cases_numbered(other.number) == [other.id]
    assert cases_numbered("1号") == []  # a part of a number is the search box's business


THREADS, EACH = 4, 3


def test_a_move_and_registrations_at_once_take_distinct_gapless_numbers(app, db, make_case):
    """Registrations at the receiving centre and moves into it draw on one counter."""
    moved = [make_case("registered").id for _ in range(EACH)]
    gongshu = centre_for(GONGSHU)
    mover = user_for(centre_for(XIHU), "staff").id
    registrar = user_for(gongshu, "staff").id
    gongshu_id = gongshu.id
    db.session.commit()
    db.session.remove()
    errors, start = [], threading.Barrier(THREADS + 1)

    def work(register: bool):
        try:
            with app.app_context():
                user = db.session.get(User, registrar if register else mover)
                centre = db.session.get(Centre, gongshu_id)
                db.session.commit()
                start.wait()
                for index in range(EACH):
                    if register:
                        data = IntakeData("hotline", "labour", default_parties())
                        workflow.register_case(centre, data, Actor.for_user(user))
                    else:
                        case = db.session.get(Case, moved[index])
                        workflow.move_case(case, centre, REASON, Actor.for_user(user))
                    db.session.commit()
                db.session.remove()
        except Exception as error:  # reported below; a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i > 0,)) for i in range(THREADS + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    total = THREADS * EACH + EACH
    seqs = db.session.scalars(
        select(Case.seq).where(Case.centre_id == gongshu_id).order_by(Case.seq)
    ).all()
    assert seqs == list(range(1, total + 1))
    assert all(db.session.get(Case, ident).centre_id == gongshu_id for ident in moved)


# --- the portal -------------------------------------------------------------------------------


def test_a_party_opens_a_moved_case_with_the_old_or_the_new_number(db, make_case, gongshu):
    case = make_case("registered")
    old_number, code = case.number, case.access_codes[case.parties[0].id]
    move(db, case, gongshu)
    for number in (old_number, "西湖调 2026 1号", case.number):
        assert lookup.look_up(number, code, "10.0.0.1").id == case.parties[0].id, number
    assert lookup.look_up(old_number, "ABCDEFGH", "10.0.0.1") is None
    # A code issued after the move opens it too, under either number.
    party = case.parties[1]
    new_code = workflow.regenerate_access_code(case, party, staff_of(GONGSHU))
    db.session.commit()
    for number in (old_number, case.number):
        assert lookup.look_up(number, new_code, "10.0.0.1").id == party.id


def test_the_portal_page_shows_the_new_number_after_a_look_up_by_the_old(
    client, db, make_case, gongshu
):
    case = make_case("registered")
    old_number, code = case.number, case.access_codes[case.parties[0].id]
    move(db, case, gongshu)
    response = client.post_form("/status", {"case_number": old_number, "access_code": code})
    assert response.status_code == 302
    page = client.get("/status/case").get_data(as_text=True)
    assert case.number in page


# --- the staff pages --------------------------------------------------------------------------


def move_form(case, centre, reason=REASON) -> dict:
    return {"centre": str(centre.id), "reason": reason, "version": str(case.version)}


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_move_a_case_from_its_page(client, db, login, make_case, gongshu, role):
    case = make_case("assigned")
    login(role)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"/cases/{case.id}/act/move" in page
    form = client.get(f"/cases/{case.id}/act/move").get_data(as_text=True)
    choices = form.split('name="centre"')[1].split("</select>")[0]
    assert gongshu.name in choices and "西湖区" not in choices

    response = client.post_form(f"/cases/{case.id}/act/move", move_form(case, gongshu))

    assert response.status_code == 302 and response.headers["Location"] == "/cases/"
    listed = client.get("/cases/").get_data(as_text=True)
    assert "拱墅调〔2026〕1号" in listed  # the message says where it went
    assert client.get(f"/cases/{case.id}").status_code == 404  # and it is no longer theirs


def test_a_double_click_on_move_moves_the_case_once_and_answers_both_clicks(
    app, client, db, login, make_case, gongshu
):
    """Both posts of the move's form arrive before either is saved (PostgreSQL lets both
    check the case at once): one moves it, the other is told it changed, never an error."""
    case = make_case("assigned")
    case_id, form = case.id, move_form(case, gongshu)
    db.session.commit()
    login("staff")
    second = app.test_client()
    second.set_cookie("session", client.get_cookie("session").value)
    answers = [
        answer
        for _c, answer in double_click(
            db.engine,
            (client, second),
            lambda c: c.post_form(f"/cases/{case_id}/act/move", form),
            "UPDATE CASE_COUNTER",
        )
    ]
    # The second is told the case changed meanwhile (PostgreSQL, where both checked it at
    # once) or, once it is moved, that it is no longer this centre's (SQLite's waiting post).
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses in ([200, 302], [302, 404]), statuses
    if statuses == [200, 302]:
        told = next(a for a in answers if a.status_code == 200).get_data(as_text=True)
        assert "案件在此期间已被他人修改" in told
    db.session.rollback()
    moved = db.session.get(Case, case_id)
    assert (moved.centre_id, moved.number) == (gongshu.id, "拱墅调〔2026〕1号")
    assert len(db.session.scalars(select(FormerNumber)).all()) == 1
    assert db.session.scalar(select(func.count()).where(CaseEvent.action == "move")) == 1


def test_a_global_admin_stays_on_the_moved_case(client, db, login, make_case, gongshu):
    case = make_case("registered")
    login("admin", centre=None)
    response = client.post_form(f"/cases/{case.id}/act/move", move_form(case, gongshu))
    assert response.headers["Location"] == f"/cases/{case.id}"
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "拱墅调〔2026〕1号" in page and "西湖调〔2026〕1号" in page  # and its former number


def test_a_mediator_may_not_move_a_case(client, db, login, make_case, gongshu):
    case = make_case("mediating")
    login("mediator")
    assert client.get(f"/cases/{case.id}/act/move").status_code == 403
    response = client.post_form(f"/cases/{case.id}/act/move", move_form(case, gongshu))
    assert response.status_code == 403
    assert db.session.get(Case, case.id).centre_id != gongshu.id


def test_another_centres_staff_do_not_find_the_case(client, db, login, make_case, gongshu):
    case = make_case("registered")
    login("staff", centre=GONGSHU)
    response = client.post_form(f"/cases/{case.id}/act/move", move_form(case, gongshu))
    assert response.status_code == 404


def test_a_move_without_a_reason_is_refused_beside_the_field(client, db, login, make_case, gongshu):
    case = make_case("registered")
    login("staff")
    form = move_form(case, gongshu, reason="")
    response = client.post_form(f"/cases/{case.id}/act/move", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "请说明移送的原因" in page
    assert f'selected value="{gongshu.id}"' in page  # the choice is kept
    bad_centre = client.post_form(
        f"/cases/{case.id}/act/move", {**form, "reason": REASON, "centre": "99999"}
    )
    assert "不是有效的选择" in bad_centre.get_data(as_text=True)  # not one of the listed
    no_centre = client.post_form(
        f"/cases/{case.id}/act/move", {**form, "reason": REASON, "centre": ""}
    )
    assert "请选择要移送到的其他中心" in no_centre.get_data(as_text=True)
    assert REASON in no_centre.get_data(as_text=True)  # the reason typed is kept
    db.session.expire_all()
    assert db.session.get(Case, case.id).centre_id != gongshu.id


def test_the_old_number_finds_the_case_in_the_new_centres_search(
    client, db, login, make_case, gongshu
):
    case = make_case("registered")
    old_number = case.number
    move(db, case, gongshu)
    login("staff", centre=GONGSHU)
    for typed in (old_number, "西湖调 2026 1号"):
        page = client.get("/cases/", query_string={"q": typed}).get_data(as_text=True)
        assert f'href="/cases/{case.id}"' in page, typed
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert old_number in page and "移送至其他中心" in page  # the timeline's event


def test_the_old_centre_learns_where_the_case_went_and_no_more(
    client, db, login, make_case, gongshu
):
    case = make_case("registered")
    old_number = case.number
    move(db, case, gongshu)
    login("staff")
    page = client.get("/cases/", query_string={"q": old_number}).get_data(as_text=True)
    assert f'href="/cases/{case.id}"' not in page
    assert "移送至" in page and gongshu.name in page and "拱墅调〔2026〕1号" in page
    assert client.get(f"/cases/{case.id}").status_code == 404


def test_each_centres_audit_log_finds_its_part_of_a_moved_case_by_either_number(
    client, db, login, make_case, gongshu
):
    from tests.test_audit import page, rows_of

    case = make_case("registered")  # its registration: an event at Xihu
    old_number = case.number
    move(db, case, gongshu)
    workflow.withdraw_case(case, "申请人撤回", staff_of(GONGSHU))  # an event at Gongshu
    db.session.commit()
    login("admin")
    for typed in (old_number, case.number):
        rows = rows_of(page(client, case=typed))
        assert len(rows) == 2, typed  # registered and moved, not the withdrawal
        assert "移送至其他中心" in rows[0] and "撤回" not in rows[0]
    client.post_form("/logout")
    login("admin", centre=GONGSHU)
    (row,) = rows_of(page(client, case=old_number))
    assert "撤回" in row


# --- statistics -------------------------------------------------------------------------------


def test_a_moved_case_counts_as_received_by_the_new_centre_from_the_move(db, make_case, gongshu):
    """Worked by hand. Xihu registers case 1 on 20 January (¥1,000) and case 2 on 25 January;
    case 1 is moved to Gongshu on 10 February. Gongshu registers case 3 on 5 February (¥200).
    Xihu registers case 4 on 3 February and routes it; it is moved to Gongshu on 2 March.
    Received: Xihu January 1 (case 2), February 0, March 0; Gongshu January 0, February 2
    (cases 1 and 3, ¥1,200), March 1 (case 4). Pending at the month's end: Xihu 1, 1, 1;
    Gongshu 0, 2, 3. All centres: 1, 2, 1 received, each case once."""
    xihu = centre_for(XIHU)
    case1 = make_case("registered", at=cst(2026, 1, 20), amount=Decimal("1000"))
    make_case("registered", at=cst(2026, 1, 25))
    make_case("registered", at=cst(2026, 2, 5), centre=GONGSHU, amount=Decimal("200"))
    case4 = make_case("assigned", at=cst(2026, 2, 3))
    move(db, case1, gongshu, at=cst(2026, 2, 10))
    move(db, case4, gongshu, at=cst(2026, 3, 2))
    with clock.frozen_at(cst(2026, 4, 15)):

        def figures(month, centre):
            summary = month_stats(month, centre)["summary"]
            return summary["received"], summary["pending_end"]

        assert [figures(m, xihu) for m in ("2026-01", "2026-02", "2026-03")] == [
            (1, 1),
            (0, 1),
            (0, 1),
        ]
        assert [figures(m, gongshu) for m in ("2026-01", "2026-02", "2026-03")] == [
            (0, 0),
            (2, 2),
            (1, 3),
        ]
        february = month_stats("2026-02", gongshu)
        assert february["summary"]["amount_in_dispute"] == "1200.00"
        assert sum(row["received"] for row in february["by_category"]) == 2
        # Xihu routed case 4 in February; the routing went with the case, released.
        assert month_stats("2026-02", xihu)["summary"]["routed"] == 0
        months = ("2026-01", "2026-02", "2026-03")
        assert [month_stats(m, None)["summary"]["received"] for m in months] == [1, 2, 1]
        series = monthly_series("2026-03", [gongshu], months=3)
        assert [row["received"] for row in series] == [0, 2, 1]
        assert month_stats("2026-03", gongshu)["previous_month"]["received"] == 2

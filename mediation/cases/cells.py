"""A case row's cells as the case list, the dashboard's queues and the mediator's dashboard
show them: one look on every page.

They are template filters written in Python rather than Jinja macros: a list shows five of
them on each of its 25 rows, and a macro call cost more than the markup it made (a page of
cases spent a fifth of its time calling macros). The list's and the queues' rows are written
here whole for the same reason: the templates' loops over them, an output at a time, took a
fifth of those pages.
"""

from collections.abc import Mapping
from datetime import date

from flask import Flask, request, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from mediation.cases.states import HIGH_RISKS, IN_MEDIATION, RISK_LEVELS, STATE_LABELS
from mediation.cases.timeline import RISK_BADGES, STATE_BADGES
from mediation.web.language import dateformat, translated

# A deadline can be missed only while a mediator has the case.
WITH_A_MEDIATOR = frozenset(state.value for state in IN_MEDIATION)
WORDS = {
    "et_al": _l("et al."),
    "v": _l("v."),
    "overdue": _l("Overdue"),
    "triage_due": _l("Triage due %(date)s"),
}


_CASE_URL_PREFIXES: dict[str, str] = {}


def case_url(case_id: int) -> str:
    """url_for('cases.detail', case_id=…), the route built once per process and mount point:
    building it for each row cost more than the rest of the row's link."""
    root = request.script_root
    prefix = _CASE_URL_PREFIXES.get(root)
    if prefix is None:
        prefix = url_for("cases.detail", case_id=1).removesuffix("1")
        _CASE_URL_PREFIXES[root] = prefix
    return f"{prefix}{case_id}"


def case_link(case) -> Markup:
    return Markup(f'<a href="{case_url(case.id)}" class="text-nowrap">{escape(case.number)}</a>')


def _first_names(names: list[str], et_al: str) -> str:
    if not names:
        return "—"
    return f"{escape(names[0])} {et_al}" if len(names) > 1 else str(escape(names[0]))


def parties(case) -> Markup:
    """“applicant v. respondent”, with “et al.” where a side has more than one party;
    `case` is a queries.CaseRow, whose applicants and respondents are names."""
    words = translated(WORDS)
    et_al = escape(words["et_al"])
    return Markup(
        f"{_first_names(case.applicants, et_al)} "
        f'<span class="text-muted">{escape(words["v"])}</span> '
        f"{_first_names(case.respondents, et_al)}"
    )


def state_badge(case) -> Markup:
    label = translated(STATE_LABELS).get(case.state, case.state)
    return Markup(f'<span class="badge text-bg-{STATE_BADGES[case.state]}">{escape(label)}</span>')


def risk_badge(case) -> Markup:
    level = case.risk_level
    label = escape(translated(RISK_LEVELS).get(level, level))
    if level == "low":
        return Markup(f'<span class="text-muted">{label}</span>')
    colour = RISK_BADGES.get(level, "secondary")
    return Markup(f'<span class="badge text-bg-{colour}">{label}</span>')


def deadline(case, today: date) -> Markup:
    """The mediation deadline, in red with “Overdue” once it has passed while the case is still
    with a mediator."""
    if not case.deadline_on:
        return Markup("—")
    shown = escape(dateformat(case.deadline_on, "short"))
    if case.state in WITH_A_MEDIATOR and case.deadline_on < today:
        return Markup(
            f'<span class="text-danger fw-semibold text-nowrap">{shown}</span> '
            f'<span class="badge bg-danger">{escape(translated(WORDS)["overdue"])}</span>'
        )
    return Markup(f'<span class="text-nowrap">{shown}</span>')


def triage_due(case, today: date) -> Markup:
    """When a case awaiting triage must be routed by, in red with “Overdue” once past."""
    words = translated(WORDS)
    shown = escape(words["triage_due"] % {"date": dateformat(case.triage_due_on, "short")})
    if case.triage_due_on < today:
        return Markup(
            f'<span class="text-danger fw-semibold text-nowrap">{shown}</span> '
            f'<span class="badge bg-danger">{escape(words["overdue"])}</span>'
        )
    return Markup(f'<span class="text-nowrap">{shown}</span>')


def case_rows(cases, today: dict, categories: Mapping, show_centre: bool, selected=None) -> Markup:
    """The case table's rows (templates/cases/_case_table.html): `today` is each centre's
    local date by its id, `selected` the ids checked when rows carry a checkbox for the bulk
    form (None: no checkbox)."""
    rows = []
    for case in cases:
        cells = []
        if selected is not None:
            checked = " checked" if case.id in selected else ""
            cells.append(
                '<td><input type="checkbox" class="form-check-input" name="case_id" '
                f'value="{case.id}" form="bulk-form" aria-label="{escape(case.number)}"{checked}>'
                "</td>"
            )
        centre = (
            f'<div class="small text-muted">{escape(case.centre_name)}</div>' if show_centre else ""
        )
        handling = str(escape(case.organization_name or ""))
        if case.mediator_name:
            handling += f'<div class="small text-muted">{escape(case.mediator_name)}</div>'
        if not case.organization_name and not case.mediator_name:
            handling = "—"
        cells += (
            f"<td>{case_link(case)}{centre}</td>",
            f'<td class="text-nowrap">{escape(dateformat(case.registered_on, "short"))}</td>',
            f"<td>{escape(categories.get(case.category_code, ''))}</td>",
            f"<td>{parties(case)}</td>",
            f"<td>{state_badge(case)}</td>",
            f"<td>{handling}</td>",
            f"<td>{deadline(case, today[case.centre_id])}</td>",
            f"<td>{risk_badge(case)}</td>",
        )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return Markup("\n".join(rows))


def queue_rows(queue, today: date) -> Markup:
    """A dashboard queue's rows (templates/cases/_queues.html): each case with what that
    queue is about beside it."""
    rows = []
    for case in queue.cases:
        if queue.name == "triage":
            beside = f"{triage_due(case, today)}"
            if case.risk_level in HIGH_RISKS:
                beside += f" {risk_badge(case)}"
        elif queue.name == "deadline":
            beside = f"{deadline(case, today)}"
            if case.mediator_name:
                beside += f'<div class="text-muted">{escape(case.mediator_name)}</div>'
        elif queue.name == "high_risk":
            beside = f"{risk_badge(case)} {state_badge(case)}"
        else:
            concluded = escape(dateformat(case.concluded_on, "short"))
            beside = f'{state_badge(case)}<div class="text-muted text-nowrap">{concluded}</div>'
        rows.append(
            f'<tr><td>{case_link(case)}<div class="small text-muted">{parties(case)}</div></td>'
            f'<td class="text-end small">{beside}</td></tr>'
        )
    return Markup("\n".join(rows))


def register_cells(app: Flask) -> None:
    app.jinja_env.filters.update(
        case_rows=case_rows,
        queue_rows=queue_rows,
        case_link=case_link,
        parties=parties,
        state_badge=state_badge,
        risk_badge=risk_badge,
        deadline=deadline,
        triage_due=triage_due,
    )

"""The party portal: look up a case with its number and a personal access code.

The look-up is a POST (the number and code never appear in a URL). A successful look-up binds
the browser's signed session to that one party of that one case; it ends after 30 minutes
without a request (29 to 30: the last request is noted to the minute), when the party signs
out, or when staff replace the party's code.
"""

from datetime import timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, session, url_for
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import NotFound

from mediation import clock
from mediation.audit.log import client_address
from mediation.auth.throttle import minutes_to_wait
from mediation.cases import workflow as wf
from mediation.cases.access import preload_agreement
from mediation.cases.models import Case
from mediation.database import preload, reads_first
from mediation.directory.calendar import local_today
from mediation.extensions import db
from mediation.integrity import records
from mediation.integrity.models import Obligation
from mediation.portal import lookup, page
from mediation.portal.blueprint import bp
from mediation.portal.forms import CourtForm, LookupForm, PerformanceForm, RatingForm
from mediation.portal.lookup import SessionParty
from mediation.web.language import gettext as _
from mediation.web.language import ngettext, show_times_in

SESSION_KEY = "portal"
# The session's "last seen" is written at most once a minute: a page read within the minute
# sends no new cookie (each would be serialised, compressed and signed anew).
SEEN_STEP_SECONDS = 60
# From the 5th failure on (of 10), the party is told how many tries are left.
WARN_WHEN_TRIES_LEFT = 5


def party_required(view):
    """Passes the party of the portal session to the view; without one (or after 30 minutes
    idle) the party is sent back to the look-up form."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        party, expired = lookup.party_for_session(session.get(SESSION_KEY))
        if party is None:
            session.pop(SESSION_KEY, None)
            if expired:
                flash(
                    _(
                        "For your security, your case view closed after 30 minutes without "
                        "activity. Please enter your case number and access code again."
                    ),
                    "warning",
                )
            else:
                flash(_("Enter your case number and access code to see your case."), "info")
            return redirect(url_for("portal.status"))
        data, now = session[SESSION_KEY], clock.now().timestamp()
        if now - float(data["seen"]) >= SEEN_STEP_SECONDS:
            session[SESSION_KEY] = {**data, "seen": now}
        return view(party, *args, **kwargs)

    return wrapped


def _load_case(party: SessionParty) -> Case:
    """The party's case as an entity, for the forms that change it."""
    case = db.session.get(Case, party.case_id)
    preload(case, Case.parties, Case.sessions, Case.transfer)
    preload_agreement(case)
    show_times_in(case.centre.timezone)  # the case's centre, not the server's zone
    return case


@bp.route("/status", methods=["GET", "POST"])
def status():
    form = LookupForm()
    if request.method == "GET":  # the QR code of the acceptance notice carries the number
        form.case_number.data = request.args.get("number", "")[:60]
    if form.validate_on_submit():
        reads_first()
        number, client = form.case_number.data, client_address()
        try:
            party = lookup.look_up(number, form.access_code.data, client)
        except lookup.LookupThrottled as refusal:
            return _throttled(number, refusal.wait_seconds)
        if party is not None:
            session[SESSION_KEY] = lookup.open_session(party)
            return redirect(url_for("portal.case"))
        db.session.commit()  # the failure, counted
        form.form_errors.append(
            _(
                "No case matches this case number and access code. Check both against "
                "your acceptance notice and try again."
            )
        )
        tries = lookup.tries_left(number, client)
        if tries <= WARN_WHEN_TRIES_LEFT:
            form.form_errors.append(
                ngettext(
                    "For your security, look-ups from this device pause after %(num)d more "
                    "failed try.",
                    "For your security, look-ups from this device pause after %(num)d more "
                    "failed tries.",
                    tries,
                )
                if tries
                else _("For your security, the next look-up from this device will have to wait.")
            )
    return render_template("portal/status.html", form=form)


def _throttled(number: str, wait_seconds: int):
    """The 429 page: when this device may try again, in the centre's time, and whom to call."""
    centre = lookup.centre_of_number(number)
    show_times_in(centre.timezone if centre else current_app.config["TIMEZONE"])
    retry_at = clock.now() + timedelta(seconds=wait_seconds)
    body = render_template(
        "portal/throttled.html",
        retry_at=retry_at,
        minutes=minutes_to_wait(wait_seconds),
        centre=centre,
    )
    return body, 429, {"Retry-After": str(wait_seconds)}


def _case_page(party: SessionParty):
    """The party's view of the case, read as rows."""
    case = page.portal_case(party.case_id, party.id)
    show_times_in(case.centre_timezone)  # the case's centre, not the server's zone
    today = clock.now().astimezone(ZoneInfo(case.centre_timezone)).date()
    actions = wf.allowed_actions(case, wf.Actor.for_party(party))
    obligations = case.agreement.obligations if case.agreement else ()
    return render_template(
        "portal/case.html",
        party=party,
        case=case,
        today=today,
        actions=actions,
        obligations=obligations,
        to_confirm={o.id for o in obligations if _may_confirm(party, o, actions)},
        certificates=[
            (c, records.certificate_status(c, today)) for c in page.certificates_of(case, party.id)
        ],
        can_verify="portal.verify" in current_app.view_functions,
    )


def _may_confirm(party: SessionParty, obligation, actions) -> bool:
    """What the page offers; the workflow decides when the party confirms."""
    return "fulfil" in actions and obligation.obligee_id == party.id and not obligation.fulfilled_on


@bp.get("/status/case")
@party_required
def case(party: SessionParty):
    return _case_page(party)


@bp.get("/status/certificate")
@party_required
def certificate(party: SessionParty):
    """The party's own integrity certificate, to print (found through the portal session
    only: no certificate id in the address)."""
    case = _load_case(party)
    certificates = lookup.certificates_of(party, local_today(case.centre))
    if not certificates:
        flash(_("You hold no integrity certificate for this case."), "info")
        return redirect(url_for("portal.case"))
    return render_template(
        "portal/certificate.html", party=party, centre=case.centre, certificates=certificates
    )


@bp.route("/status/court", methods=["GET", "POST"])
@party_required
def court(party: SessionParty):
    case = _load_case(party)
    actor = wf.Actor.for_party(party)
    if "request_litigation" not in wf.allowed_actions(case, actor):
        flash(_("Your case can no longer be taken from mediation to court here."), "warning")
        return redirect(url_for("portal.case"))
    form = CourtForm()
    if form.validate_on_submit():
        try:
            wf.request_litigation(case, actor, note=form.note.data or "")
            db.session.flush()
        except (wf.WorkflowError, StaleDataError) as error:
            db.session.rollback()
            form.form_errors.append(_refusal(error))
        else:
            db.session.commit()
            flash(
                _("Mediation has ended: your case has been transferred to litigation."), "success"
            )
            return redirect(url_for("portal.case"))
    return render_template("portal/court.html", party=party, case=case, form=form)


@bp.route("/status/obligations/<id:obligation_id>/confirm", methods=["GET", "POST"])
@party_required
def confirm_performance(party: SessionParty, obligation_id: int):
    """Asks first, as leaving for court does: what confirming means, and the date performed."""
    case = _load_case(party)
    obligation = db.session.get(Obligation, obligation_id)
    if obligation is None or obligation.case_id != case.id:
        raise NotFound()
    actor = wf.Actor.for_party(party)
    if request.method == "GET" and not _may_confirm(
        party, obligation, wf.allowed_actions(case, actor)
    ):
        flash(_("There is nothing to confirm for this obligation."), "info")
        return redirect(url_for("portal.case"))
    form = PerformanceForm(performed_on=local_today(case.centre))
    if form.validate_on_submit():
        try:
            wf.fulfil_obligation(case, obligation, form.performed_on.data, actor)
            db.session.flush()
        except (wf.WorkflowError, StaleDataError) as error:
            db.session.rollback()
            if getattr(error, "field", None) != "performed_on":
                flash(_refusal(error), "danger")
                return redirect(url_for("portal.case"))
            form.performed_on.errors = [*form.performed_on.errors, str(error)]
            case = _load_case(party)
            obligation = db.session.get(Obligation, obligation_id)
        else:
            db.session.commit()
            flash(_("Thank you: the performance is recorded."), "success")
            return redirect(url_for("portal.case"))
    return render_template(
        "portal/confirm_performance.html", party=party, case=case, obligation=obligation, form=form
    )


@bp.route("/status/rating", methods=["GET", "POST"])
@party_required
def rating(party: SessionParty):
    """The rating form, a page of its own that the case page links to once the case has
    concluded."""
    case = _load_case(party)
    if request.method == "GET" and (
        case.concluded_at is None or lookup.rating_of(case, party) is not None
    ):
        return redirect(url_for("portal.case"))
    form = RatingForm()
    if form.validate_on_submit():
        try:
            lookup.rate_service(case, party, int(form.stars.data), form.comment.data or "")
        except lookup.PortalError as error:
            db.session.rollback()
            if error.field != "stars":
                flash(str(error), "danger")
                return redirect(url_for("portal.case"))
            form.stars.errors = [*form.stars.errors, str(error)]
        else:
            db.session.commit()
            flash(_("Thank you for rating our service."), "success")
            return redirect(url_for("portal.case"))
    return render_template("portal/rating.html", party=party, case=case, form=form)


@bp.post("/status/leave")
def leave():
    # CSRFProtect has checked the token, as on every POST.
    lookup.close_session(session.pop(SESSION_KEY, None))
    db.session.commit()
    flash(_("You have left your case view."), "info")
    return redirect(url_for("portal.status"))


def _refusal(error: Exception) -> str:
    if isinstance(error, StaleDataError):
        error = wf.StaleCase()
    return str(error)

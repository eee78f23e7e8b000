"""The party portal: look up a case with its number and a personal access code.

The look-up is a POST (the number and code never appear in a URL). A successful look-up binds
the browser's signed session to that one party of that one case; it ends after 30 minutes
without a request, when the party signs out, or when staff replace the party's code.
"""

from functools import wraps

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import NotFound, TooManyRequests

from mediation import clock
from mediation.audit.log import client_address
from mediation.auth.throttle import minutes_to_wait
from mediation.cases import workflow as wf
from mediation.cases.access import preload_agreement
from mediation.cases.models import Case, Party
from mediation.database import preload, reads_first
from mediation.directory.calendar import local_today
from mediation.extensions import db
from mediation.integrity.models import Obligation
from mediation.portal import lookup
from mediation.portal.blueprint import bp
from mediation.portal.forms import CourtForm, LookupForm, PerformanceForm, RatingForm
from mediation.web.language import show_times_in

SESSION_KEY = "portal"


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
        session[SESSION_KEY] = {**session[SESSION_KEY], "seen": clock.now().timestamp()}
        show_times_in(party.case.centre.timezone)  # the case's centre, not the server's zone
        return view(party, *args, **kwargs)

    return wrapped


def _load_case(party: Party) -> Case:
    case = db.session.get(Case, party.case_id)
    preload(case, Case.parties, Case.sessions, Case.transfer)
    preload_agreement(case)
    return case


@bp.route("/status", methods=["GET", "POST"])
def status():
    form = LookupForm()
    if request.method == "GET":  # the QR code of the acceptance notice carries the number
        form.case_number.data = request.args.get("number", "")[:60]
    if form.validate_on_submit():
        reads_first()
        try:
            party = lookup.look_up(form.case_number.data, form.access_code.data, client_address())
        except lookup.LookupThrottled as refusal:
            raise TooManyRequests(
                _(
                    "Too many failed look-ups. For your security, please try again in "
                    "%(n)d minutes.",
                    n=minutes_to_wait(refusal.wait_seconds),
                ),
                retry_after=refusal.wait_seconds,
            ) from None
        if party is not None:
            session[SESSION_KEY] = lookup.session_data(party)
            return redirect(url_for("portal.case"))
        db.session.commit()  # the failure, counted
        form.form_errors.append(
            _(
                "No case matches this case number and access code. Check both against "
                "your acceptance notice and try again."
            )
        )
    return render_template("portal/status.html", form=form)


def _case_page(party: Party, case: Case, forms: dict | None = None):
    """The party's view of the case; `forms` carries a submitted form back with its errors."""
    forms = forms or {}
    today = local_today(case.centre)
    actions = wf.allowed_actions(case, wf.Actor.for_party(party))
    obligations = case.agreement.obligations if case.agreement else []
    to_confirm = {
        o.id: forms.get(("confirm", o.id)) or PerformanceForm(formdata=None, performed_on=today)
        for o in obligations
        if "fulfil" in actions and o.obligee_id == party.id and o.fulfilled_on is None
    }
    rated = lookup.rating_of(case, party)
    return render_template(
        "portal/case.html",
        party=party,
        case=case,
        today=today,
        actions=actions,
        obligations=obligations,
        to_confirm=to_confirm,
        certificates=lookup.certificates_of(party, today),
        rating=rated,
        rating_form=forms.get("rating") or (RatingForm(formdata=None) if not rated else None),
        can_verify="portal.verify" in current_app.view_functions,
    )


@bp.get("/status/case")
@party_required
def case(party: Party):
    return _case_page(party, _load_case(party))


@bp.get("/status/certificate")
@party_required
def certificate(party: Party):
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
def court(party: Party):
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


@bp.post("/status/obligations/<id:obligation_id>/confirm")
@party_required
def confirm_performance(party: Party, obligation_id: int):
    case = _load_case(party)
    obligation = db.session.get(Obligation, obligation_id)
    if obligation is None or obligation.case_id != case.id:
        raise NotFound()
    form = PerformanceForm()
    if form.validate_on_submit():
        try:
            wf.fulfil_obligation(
                case, obligation, form.performed_on.data, wf.Actor.for_party(party)
            )
            db.session.flush()
        except (wf.WorkflowError, StaleDataError) as error:
            db.session.rollback()
            if getattr(error, "field", None) != "performed_on":
                flash(_refusal(error), "danger")
                return redirect(url_for("portal.case"))
            form.performed_on.errors = [*form.performed_on.errors, str(error)]
        else:
            db.session.commit()
            flash(_("Thank you: the performance is recorded."), "success")
            return redirect(url_for("portal.case"))
    return _case_page(party, _load_case(party), {("confirm", obligation_id): form})


@bp.post("/status/rating")
@party_required
def rating(party: Party):
    case = _load_case(party)
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
    return _case_page(party, case, {"rating": form})


@bp.post("/status/leave")
def leave():
    # CSRFProtect has checked the token, as on every POST.
    session.pop(SESSION_KEY, None)
    flash(_("You have left your case view."), "info")
    return redirect(url_for("portal.status"))


def _refusal(error: Exception) -> str:
    if isinstance(error, StaleDataError):
        error = wf.StaleCase()
    return str(error)

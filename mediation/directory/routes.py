from datetime import date

from babel.lists import format_list
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from mediation.audit.log import record
from mediation.auth.access import centre_in_scope, picker_centres, require_centre, role_required
from mediation.auth.models import Role
from mediation.cases.workloads import open_caseloads
from mediation.directory import admin
from mediation.directory.admin import HOLIDAY, WORKDAY, DirectoryError
from mediation.directory.calendar import local_today
from mediation.directory.centres import CentreError, add_centre, validate_timezone
from mediation.directory.forms import (
    CalendarDayForm,
    CalendarImportForm,
    CentreForm,
    MediationPeriodsForm,
    MediatorForm,
    NewCentreForm,
    OrganizationForm,
    RoutingRuleForm,
    SettingsForm,
)
from mediation.directory.holidays import (
    CalendarChange,
    add_calendar_range,
    example_rows,
    import_calendar,
)
from mediation.directory.models import CalendarDay, Centre, Mediator, Organization, RoutingRule
from mediation.directory.settings import settings_for
from mediation.directory.terms import CATEGORIES, ORGANIZATION_KINDS
from mediation.extensions import db
from mediation.web.csv_export import csv_response
from mediation.web.language import format_date, locale
from mediation.web.language import gettext as _

bp = Blueprint("directory", __name__, url_prefix="/admin")


@bp.get("/centres/")
@role_required(Role.ADMIN)
def centres():
    query = select(Centre).order_by(Centre.code)
    if not current_user.is_global_admin:
        query = query.where(Centre.id == current_user.centre_id)
    return render_template("directory/centres.html", centres=db.session.scalars(query).all())


@bp.route("/centres/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def create_centre():
    if not current_user.is_global_admin:
        abort(403)
    form = NewCentreForm()
    if form.validate_on_submit():
        try:
            centre = add_centre(
                form.code.data, form.name.data, form.abbreviation.data, form.timezone.data
            )
        except CentreError as error:
            db.session.rollback()
            form[error.field].errors.append(str(error))
        else:
            record("centre.create", target=centre.code, centre_id=centre.id, name=centre.name)
            db.session.commit()
            flash(_("Centre %(name)s created.", name=centre.name), "success")
            return redirect(url_for("directory.centres"))
    return render_template("directory/create_centre.html", form=form)


@bp.route("/centres/<id:centre_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_centre(centre_id: int):
    centre = db.get_or_404(Centre, centre_id)
    require_centre(centre.id)
    form = CentreForm(obj=centre)
    if form.validate_on_submit():
        try:
            timezone = validate_timezone(form.timezone.data.strip())
        except CentreError as error:
            form[error.field].errors.append(str(error))
        else:
            before = {
                "name": centre.name,
                "abbreviation": centre.abbreviation,
                "timezone": centre.timezone,
                "phone": centre.phone,
            }
            centre.name = form.name.data.strip()
            centre.abbreviation = form.abbreviation.data.strip()
            centre.timezone = timezone
            centre.phone = (form.phone.data or "").strip()
            after = {
                "name": centre.name,
                "abbreviation": centre.abbreviation,
                "timezone": centre.timezone,
                "phone": centre.phone,
            }
            changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            if changes:
                record("centre.update", target=centre.code, centre_id=centre.id, **changes)
            db.session.commit()
            flash(_("Centre %(name)s saved.", name=centre.name), "success")
            return redirect(url_for("directory.centres"))
    return render_template("directory/edit_centre.html", form=form, centre=centre)


# --- a centre's directory: organisations, mediators, periods, routing, calendar, settings ---


@bp.context_processor
def _terms() -> dict:
    return {"categories": CATEGORIES, "organization_kinds": ORGANIZATION_KINDS}


def _owning_centre(centre_id: int) -> Centre:
    """The centre of an object the user opened; 404 when it is another centre's."""
    require_centre(centre_id)
    return db.session.get(Centre, centre_id)


def _scope(centre: Centre) -> dict:
    """URL arguments that keep a global admin on the centre they picked."""
    return {"centre": centre.id} if current_user.is_global_admin else {}


def _render(template: str, centre: Centre, **context):
    return render_template(
        template, centre=centre, scope=_scope(centre), all_centres=picker_centres(), **context
    )


def _refuse(form, error: DirectoryError) -> None:
    db.session.rollback()
    form[error.field].errors.extend(error.messages)


def _organization_choices(centre: Centre, active_only: bool = False) -> list[SelectChoice]:
    return [
        SelectChoice(o.id, o.name if o.is_active else _("%(name)s (inactive)", name=o.name))
        for o in admin.organizations_of(centre.id)
        if o.is_active or not active_only
    ]


# --- organisations ---------------------------------------------------------------------------


def _organization_values(form: OrganizationForm) -> dict:
    return {
        "name": form.name.data,
        "kind": form.kind.data,
        "phone": form.phone.data or "",
        "address": form.address.data or "",
        "is_active": form.is_active.data,
    }


@bp.get("/organizations/")
@role_required(Role.ADMIN)
def organizations():
    centre = centre_in_scope()
    return _render(
        "directory/organizations.html",
        centre,
        organizations=admin.organizations_of(centre.id),
        mediator_counts=admin.active_mediator_counts(centre.id),
    )


@bp.route("/organizations/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def create_organization():
    centre = centre_in_scope()
    form = OrganizationForm()
    if form.validate_on_submit():
        organization = Organization(centre_id=centre.id)
        try:
            values = admin.save_organization(organization, **_organization_values(form))
        except DirectoryError as error:
            _refuse(form, error)
        else:
            record("organization.create", target=organization.name, centre_id=centre.id, **values)
            db.session.commit()
            flash(_("Organisation %(name)s created.", name=organization.name), "success")
            return redirect(url_for("directory.organizations", **_scope(centre)))
    return _render("directory/create_organization.html", centre, form=form)


@bp.route("/organizations/<id:organization_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_organization(organization_id: int):
    organization = db.get_or_404(Organization, organization_id)
    centre = _owning_centre(organization.centre_id)
    form = OrganizationForm(obj=organization)
    if form.validate_on_submit():
        try:
            changes = admin.save_organization(organization, **_organization_values(form))
        except DirectoryError as error:
            _refuse(form, error)
        else:
            if changes:
                record(
                    "organization.update",
                    target=organization.name,
                    centre_id=centre.id,
                    **changes,
                )
            db.session.commit()
            flash(_("Organisation %(name)s saved.", name=organization.name), "success")
            return redirect(url_for("directory.organizations", **_scope(centre)))
    return _render("directory/edit_organization.html", centre, form=form, organization=organization)


# --- mediators -------------------------------------------------------------------------------


def _mediator_form(centre: Centre, mediator: Mediator) -> MediatorForm:
    data = None
    if mediator.id is not None:
        data = {
            "name": mediator.name,
            "organization": mediator.organization_id,
            "specialties": [category.code for category in mediator.specialties],
            "phone": mediator.phone,
            "max_caseload": mediator.max_caseload,
            "user": str(mediator.user_id or ""),
            "is_active": mediator.is_active,
        }
    form = MediatorForm(data=data)
    form.organization.choices = _organization_choices(centre)
    form.user.choices = [SelectChoice("", _("No login"))] + [
        SelectChoice(str(user.id), f"{user.display_name} ({user.username})")
        for user in admin.linkable_logins(centre.id, mediator)
    ]
    return form


def _mediator_values(form: MediatorForm) -> dict:
    return {
        "name": form.name.data,
        "organization_id": form.organization.data,
        "specialties": form.specialties.data or [],
        "phone": form.phone.data or "",
        "is_active": form.is_active.data,
        "max_caseload": form.max_caseload.data,
        "user_id": int(form.user.data) if form.user.data else None,
    }


@bp.get("/mediators/")
@role_required(Role.ADMIN)
def mediators():
    centre = centre_in_scope()
    mediators = admin.mediators_of(centre.id)
    return _render(
        "directory/mediators.html",
        centre,
        mediators=mediators,
        open_cases=open_caseloads([m.id for m in mediators]),
        logins=admin.usernames(m.user_id for m in mediators),
    )


@bp.route("/mediators/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def create_mediator():
    centre = centre_in_scope()
    mediator = Mediator(centre_id=centre.id)
    form = _mediator_form(centre, mediator)
    if form.validate_on_submit():
        try:
            values = admin.save_mediator(mediator, **_mediator_values(form))
        except DirectoryError as error:
            _refuse(form, error)
        else:
            record("mediator.create", target=mediator.name, centre_id=centre.id, **values)
            db.session.commit()
            flash(_("Mediator %(name)s created.", name=mediator.name), "success")
            return redirect(url_for("directory.mediators", **_scope(centre)))
    return _render(
        "directory/create_mediator.html", centre, form=form, max_caseload=admin.MAX_CASELOAD
    )


@bp.route("/mediators/<id:mediator_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_mediator(mediator_id: int):
    mediator = db.get_or_404(Mediator, mediator_id)
    centre = _owning_centre(mediator.centre_id)
    form = _mediator_form(centre, mediator)
    if form.validate_on_submit():
        try:
            changes = admin.save_mediator(mediator, **_mediator_values(form))
        except DirectoryError as error:
            _refuse(form, error)
        else:
            if changes:
                record("mediator.update", target=mediator.name, centre_id=centre.id, **changes)
            db.session.commit()
            flash(_("Mediator %(name)s saved.", name=mediator.name), "success")
            return redirect(url_for("directory.mediators", **_scope(centre)))
    return _render(
        "directory/edit_mediator.html",
        centre,
        form=form,
        mediator=mediator,
        max_caseload=admin.MAX_CASELOAD,
    )


# --- settings, mediation periods, routing rules, calendar -------------------------------------


@bp.route("/settings/", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def settings():
    centre = centre_in_scope()
    form = SettingsForm(obj=settings_for(centre.id))
    if form.validate_on_submit():
        fields = [*admin.SETTING_BOUNDS, "extensions_allowed", "incentive_measures"]
        try:
            changes = admin.update_settings(centre.id, **{name: form[name].data for name in fields})
        except DirectoryError as error:
            _refuse(form, error)
        else:
            if changes:
                record("settings.update", target=centre.code, centre_id=centre.id, **changes)
            db.session.commit()
            flash(_("Settings saved."), "success")
            return redirect(url_for("directory.settings", **_scope(centre)))
    return _render("directory/settings.html", centre, form=form, bounds=admin.SETTING_BOUNDS)


@bp.route("/categories/", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def categories():
    centre = centre_in_scope()
    periods = admin.mediation_periods(centre.id)
    form = MediationPeriodsForm(data={code: days for code, _default, days in periods})
    if form.validate_on_submit():
        try:
            changes = admin.set_mediation_periods(
                centre.id, {code: form[code].data for code in CATEGORIES}
            )
        except DirectoryError as error:
            _refuse(form, error)
        else:
            if changes:
                record("category.update", target=centre.code, centre_id=centre.id, **changes)
            db.session.commit()
            flash(_("Mediation periods saved."), "success")
            return redirect(url_for("directory.categories", **_scope(centre)))
    return _render("directory/categories.html", centre, form=form, periods=periods)


@bp.route("/routing/", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def routing():
    centre = centre_in_scope()
    form = RoutingRuleForm()
    form.organization.choices = _organization_choices(centre, active_only=True)
    if form.validate_on_submit():
        try:
            rule = admin.add_routing_rule(
                centre.id,
                form.category.data,
                form.street.data or "",
                form.organization.data,
                form.rank.data,
            )
        except DirectoryError as error:
            _refuse(form, error)
        else:
            record(
                "routing.create",
                target=rule.category_code,
                centre_id=centre.id,
                **admin.routing_rule_values(rule),
            )
            db.session.commit()
            flash(_("Routing rule added."), "success")
            return redirect(url_for("directory.routing", **_scope(centre)))
    return _render(
        "directory/routing.html", centre, form=form, groups=admin.routing_groups(centre.id)
    )


@bp.post("/routing/<id:rule_id>/delete")
@role_required(Role.ADMIN)
def delete_routing_rule(rule_id: int):
    rule = db.get_or_404(RoutingRule, rule_id)
    centre = _owning_centre(rule.centre_id)
    values = admin.remove_routing_rule(rule)
    record("routing.delete", target=values["category"], centre_id=centre.id, **values)
    db.session.commit()
    flash(_("Routing rule removed."), "success")
    return redirect(url_for("directory.routing", **_scope(centre)))


@bp.route("/calendar/", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def calendar():
    centre = centre_in_scope()
    form = CalendarDayForm()
    if form.validate_on_submit():
        kind, note = form.kind.data, form.note.data or ""
        try:
            change = add_calendar_range(centre.id, form.day.data, form.until.data, kind, note)
        except DirectoryError as error:
            _refuse(form, error)
        else:
            for entry in change.added:
                record(
                    "calendar.create",
                    target=entry.day.isoformat(),
                    centre_id=centre.id,
                    is_workday=entry.is_workday,
                    note=entry.note,
                )
            db.session.commit()
            _flash_calendar_change(change, kind)
            year = change.added[0].day.year
            return redirect(url_for("directory.calendar", year=year, **_scope(centre)))
    return _render_calendar(centre, form, CalendarImportForm(formdata=None))


@bp.post("/calendar/import")
@role_required(Role.ADMIN)
def import_calendar_file():
    centre = centre_in_scope()
    form = CalendarImportForm()
    if form.validate_on_submit():
        try:
            change = import_calendar(centre.id, form.file.data.read())
        except DirectoryError as error:
            _refuse(form, error)
        else:
            holidays, workdays = change.days_of(HOLIDAY), change.days_of(WORKDAY)
            record(
                "calendar.import",
                target=(form.file.data.filename or "")[:100],
                centre_id=centre.id,
                holidays=[day.isoformat() for day in holidays],
                workdays=[day.isoformat() for day in workdays],
            )
            db.session.commit()
            flash(
                _(
                    "Calendar imported. Public holidays: %(holidays)d; adjusted working days: "
                    "%(workdays)d.",
                    holidays=len(holidays),
                    workdays=len(workdays),
                ),
                "success",
            )
            _flash_skipped(change.skipped, HOLIDAY)
            year = min(entry.day for entry in change.added).year if change.added else None
            return redirect(url_for("directory.calendar", year=year, **_scope(centre)))
    return _render_calendar(centre, CalendarDayForm(formdata=None), form)


def _render_calendar(centre: Centre, form: CalendarDayForm, import_form: CalendarImportForm):
    year = request.args.get("year", type=int)
    if year is None or not admin.CALENDAR_YEARS[0] <= year <= admin.CALENDAR_YEARS[1]:
        year = local_today(centre).year
    return _render(
        "directory/calendar.html",
        centre,
        active_tab="directory.calendar",
        form=form,
        import_form=import_form,
        year=year,
        days=admin.calendar_year(centre.id, year),
    )


def _flash_calendar_change(change: CalendarChange, kind: str) -> None:
    if len(change.added) == 1 and not change.skipped:
        flash(_("Calendar day added."), "success")
        return
    days = _date_list(entry.day for entry in change.added)
    if kind == HOLIDAY:
        flash(_("Public holidays added: %(days)s.", days=days), "success")
    else:
        flash(_("Adjusted working days added: %(days)s.", days=days), "success")
    _flash_skipped(change.skipped, kind)


def _flash_skipped(skipped: list[date], kind: str) -> None:
    if not skipped:
        return
    days = _date_list(skipped)
    if kind == HOLIDAY:
        flash(_("Left out, as Saturdays and Sundays are off anyway: %(days)s.", days=days), "info")
    else:
        flash(_("Left out, as weekdays are working days anyway: %(days)s.", days=days), "info")


def _date_list(days) -> str:
    return format_list([format_date(day, "medium") for day in days], locale=locale())


@bp.get("/calendar/example.csv")
@role_required(Role.ADMIN)
def calendar_example():
    """A year's holidays and adjusted working days, as the calendar import reads them."""
    return csv_response(example_rows(), "calendar-example.csv")


@bp.post("/calendar/<day>/delete")
@role_required(Role.ADMIN)
def delete_calendar_day(day: str):
    centre = centre_in_scope()
    try:
        on = date.fromisoformat(day)
    except ValueError:
        abort(404)
    values = admin.remove_calendar_day(db.get_or_404(CalendarDay, (centre.id, on)))
    record("calendar.delete", target=on.isoformat(), centre_id=centre.id, **values)
    db.session.commit()
    flash(_("Calendar day removed."), "success")
    return redirect(url_for("directory.calendar", year=on.year, **_scope(centre)))

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from mediation.audit.log import record
from mediation.auth.access import require_centre, role_required
from mediation.auth.models import Role
from mediation.directory.centres import CentreError, add_centre, validate_timezone
from mediation.directory.forms import CentreForm, NewCentreForm
from mediation.directory.models import Centre
from mediation.extensions import db

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


@bp.route("/centres/<int:centre_id>/edit", methods=["GET", "POST"])
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
            }
            centre.name = form.name.data.strip()
            centre.abbreviation = form.abbreviation.data.strip()
            centre.timezone = timezone
            after = {
                "name": centre.name,
                "abbreviation": centre.abbreviation,
                "timezone": centre.timezone,
            }
            changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            if changes:
                record("centre.update", target=centre.code, centre_id=centre.id, **changes)
            db.session.commit()
            flash(_("Centre %(name)s saved.", name=centre.name), "success")
            return redirect(url_for("directory.centres"))
    return render_template("directory/edit_centre.html", form=form, centre=centre)


# Placeholders replaced by the directory pages (organisations, mediators, settings).
@bp.get("/organizations/")
@role_required(Role.ADMIN)
def organizations():
    return render_template("directory/centres.html", centres=[])


@bp.get("/mediators/")
@role_required(Role.ADMIN)
def mediators():
    return render_template("directory/centres.html", centres=[])


@bp.get("/settings/")
@role_required(Role.ADMIN)
def settings():
    return render_template("directory/centres.html", centres=[])

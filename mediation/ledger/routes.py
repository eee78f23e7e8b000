"""The admin's ledger upload page: check or import a CSV/XLSX ledger into one centre."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

from mediation.audit.log import record
from mediation.auth.access import require_centre, role_required
from mediation.auth.models import Role
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.ledger.importer import import_ledger
from mediation.ledger.reader import LedgerFileError

bp = Blueprint("ledger", __name__, url_prefix="/admin/ledger")


class LedgerForm(FlaskForm):
    centre = SelectField(_l("Centre"))
    file = FileField(
        _l("Ledger file"),
        validators=[FileRequired(_l("Choose a file to upload."))],
        description=_l("CSV (UTF-8 or GB18030) or XLSX, one header row, up to 20 MB."),
    )
    dry_run = BooleanField(_l("Check only (write nothing)"), default=True)
    create_missing = BooleanField(_l("Create unknown organisations and mediators"))


def _form() -> LedgerForm:
    """The form; a global admin picks the centre, a centre's admin imports into their own."""
    form = LedgerForm()
    if current_user.is_global_admin:
        centres = db.session.scalars(select(Centre).order_by(Centre.code)).all()
        form.centre.choices = [SelectChoice(str(c.id), f"{c.code} {c.name}") for c in centres]
    else:
        centre = db.session.get(Centre, current_user.centre_id)
        form.centre.choices = [SelectChoice(str(centre.id), f"{centre.code} {centre.name}")]
        form.centre.data = str(centre.id)
    return form


@bp.route("/", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def upload():
    form = _form()
    result = None
    if form.validate_on_submit():
        centre = db.get_or_404(Centre, int(form.centre.data))
        require_centre(centre.id)
        upload = form.file.data
        try:
            result = import_ledger(
                centre,
                upload.read(),
                user=current_user,
                dry_run=form.dry_run.data,
                create_missing=form.create_missing.data,
            )
        except LedgerFileError as error:
            db.session.rollback()
            form.file.errors = [str(error)]
        else:
            if result.ok and not result.dry_run:
                record(
                    "ledger.import",
                    target=upload.filename or "",
                    centre_id=centre.id,
                    created=result.created,
                    skipped=result.skipped,
                )
                db.session.commit()
                flash(
                    _(
                        "Ledger imported: %(created)d cases created, %(skipped)d skipped "
                        "(already imported).",
                        created=result.created,
                        skipped=result.skipped,
                    ),
                    "success",
                )
                return redirect(url_for("ledger.upload"))
    return render_template("ledger/upload.html", form=form, result=result)

"""The admin's ledger pages: upload a CSV/XLSX ledger for one centre, then follow its import
(checked, then replayed in the background) on its own page."""

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

from mediation import clock
from mediation.auth.access import require_centre, role_required
from mediation.auth.models import Role
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.ledger.background import is_interrupted, read_progress, start_import
from mediation.ledger.models import LedgerImport
from mediation.ledger.reader import LedgerFileError, Problem, header_problems
from mediation.web.forms import Form

bp = Blueprint("ledger", __name__, url_prefix="/admin/ledger")


class LedgerForm(Form):
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


RECENT = 20


@bp.route("/", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def upload():
    form = _form()
    if form.validate_on_submit():
        centre = db.get_or_404(Centre, int(form.centre.data))
        require_centre(centre.id)
        data = form.file.data.read()
        try:
            problems = header_problems(data)
        except LedgerFileError as error:
            problems = [Problem(1, "", str(error))]
        if problems:
            form.file.errors = [
                _("%(column)s: %(message)s", column=p.column, message=p.message)
                if p.column
                else p.message
                for p in problems
            ]
        else:
            import_id = _start(centre, form, data)
            return redirect(url_for("ledger.show", import_id=import_id))
    return render_template("ledger/upload.html", form=form, imports=_recent())


def _start(centre: Centre, form: LedgerForm, data: bytes) -> int:
    ledger_import = LedgerImport(
        centre_id=centre.id,
        user_id=current_user.id,
        filename=(form.file.data.filename or "")[:200],
        dry_run=form.dry_run.data,
        create_missing=form.create_missing.data,
        state="running",
        started_at=clock.now(),
    )
    db.session.add(ledger_import)
    db.session.flush()
    # Taken before the commit: reading it after would begin a new transaction, which on
    # SQLite would hold the write lock the import thread is about to ask for.
    import_id = ledger_import.id
    db.session.commit()
    thread = start_import(import_id, data)
    if current_app.config.get("LEDGER_IMPORT_WAIT"):
        thread.join()
    return import_id


def _recent() -> list[LedgerImport]:
    query = select(LedgerImport).order_by(LedgerImport.started_at.desc(), LedgerImport.id.desc())
    if not current_user.is_global_admin:
        query = query.where(LedgerImport.centre_id == current_user.centre_id)
    return list(db.session.scalars(query.options(selectinload(LedgerImport.centre)).limit(RECENT)))


@bp.get("/<id:import_id>")
@role_required(Role.ADMIN)
def show(import_id: int):
    ledger_import = db.get_or_404(LedgerImport, import_id)
    require_centre(ledger_import.centre_id)
    progress = read_progress(import_id) if ledger_import.state == "running" else None
    return render_template(
        "ledger/import.html",
        ledger_import=ledger_import,
        progress=progress,
        interrupted=is_interrupted(ledger_import, progress),
    )

"""The admin's ledger pages: upload a CSV/XLSX ledger for one centre, then follow its import
(a job: checked, then replayed by a job process) on its own page."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

from mediation.auth.access import require_centre, role_required
from mediation.auth.models import Role
from mediation.cases.queries import created_cases
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.jobs.queue import close_interrupted, run_queue_now
from mediation.ledger.background import queue_import
from mediation.ledger.checked import checked_file, import_of, may_import_now
from mediation.ledger.models import LedgerImport
from mediation.ledger.reader import LedgerFileError, Problem, header_problems
from mediation.ledger.template import XLSX_MIMETYPE, template_rows, template_workbook
from mediation.web.csv_export import csv_response
from mediation.web.forms import Form
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l

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
# The created cases an import's page lists; a link leads to all of them.
CASES_SHOWN = 10


@bp.route("/", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def upload():
    close_interrupted()
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
            ledger_import = LedgerImport(
                centre_id=centre.id,
                filename=(form.file.data.filename or "")[:200],
                dry_run=form.dry_run.data,
                create_missing=form.create_missing.data,
            )
            return redirect(url_for("ledger.show", import_id=_queue(ledger_import, data)))
    return render_template("ledger/upload.html", form=form, imports=_recent())


def _queue(ledger_import: LedgerImport, data: bytes | None) -> int:
    """Queue the import for a job process; tests (JOBS_RUN_AT_ONCE) run it before answering."""
    ledger_import.user_id = current_user.id
    import_id = queue_import(ledger_import, data)
    if current_app.config.get("JOBS_RUN_AT_ONCE"):
        run_queue_now(current_app._get_current_object())
    return import_id


def _recent() -> list[LedgerImport]:
    query = select(LedgerImport).order_by(LedgerImport.started_at.desc(), LedgerImport.id.desc())
    if not current_user.is_global_admin:
        query = query.where(LedgerImport.centre_id == current_user.centre_id)
    return list(db.session.scalars(query.options(selectinload(LedgerImport.centre)).limit(RECENT)))


@bp.get("/template.csv")
@role_required(Role.ADMIN)
def template_csv():
    """The ledger template, Chinese headers and one example row."""
    return csv_response(template_rows(), "ledger-template.csv")


@bp.get("/template.xlsx")
@role_required(Role.ADMIN)
def template_xlsx():
    return Response(
        template_workbook(),
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": 'attachment; filename="ledger-template.xlsx"'},
    )


@bp.get("/<id:import_id>")
@role_required(Role.ADMIN)
def show(import_id: int):
    """The import's progress and outcome, as its job process writes them in the database."""
    close_interrupted()
    ledger_import = db.get_or_404(LedgerImport, import_id)
    require_centre(ledger_import.centre_id)
    started = import_of(ledger_import) if ledger_import.dry_run else None
    created = ledger_import.state == "done" and not ledger_import.dry_run
    return render_template(
        "ledger/import.html",
        ledger_import=ledger_import,
        job=ledger_import.job,
        started=started,
        may_import_now=may_import_now(ledger_import, _under_way(started)),
        cases=created_cases(import_id, CASES_SHOWN) if created else [],
    )


def _under_way(ledger_import: LedgerImport | None) -> bool:
    """Whether an import is done, or running still (one whose process died is failed)."""
    return ledger_import is not None and ledger_import.state in ("running", "done")


@bp.post("/<id:import_id>/import")
@role_required(Role.ADMIN)
def import_now(import_id: int):
    """Import the file a dry run checked, as it was kept on the server."""
    close_interrupted()
    # Locked (PostgreSQL) so that a second click waits and then finds this import under way.
    checked = db.session.get(LedgerImport, import_id, with_for_update=True)
    if checked is None:
        abort(404)
    require_centre(checked.centre_id)
    data = None
    if may_import_now(checked, _under_way(import_of(checked))):
        data = checked_file(checked)
    if data is None:
        flash(_("This check cannot be imported (any more): upload the file again."), "warning")
        return redirect(url_for("ledger.show", import_id=import_id))
    follow_up = LedgerImport(
        centre_id=checked.centre_id,
        filename=checked.filename,
        dry_run=False,
        create_missing=checked.create_missing,
        checked_import_id=checked.id,
        file_sha256=checked.file_sha256,
    )
    return redirect(url_for("ledger.show", import_id=_queue(follow_up, None)))

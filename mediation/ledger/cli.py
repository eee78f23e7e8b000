"""`flask ledger import FILE [--centre CODE] [--dry-run] [--create-missing]` (SPEC 5, 6)."""

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from mediation.audit.log import record
from mediation.directory.centres import centre_by_code
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.ledger.importer import READING, ImportResult, import_ledger
from mediation.ledger.reader import LedgerFileError
from mediation.web.language import gettext as _

ledger_cli = AppGroup("ledger", help="Import a centre's ledger (台账).")


def _centre(code: str | None) -> Centre:
    if code:
        centre = centre_by_code(code)
        if centre is None:
            raise click.ClickException(_("There is no centre %(code)s.", code=code))
        return centre
    if db.session.scalar(select(func.count()).select_from(Centre)) != 1:
        raise click.ClickException(_("Give the centre with --centre CODE."))
    return db.session.scalar(select(Centre))


@ledger_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--centre", "code", help="The centre's 6-digit code (needed with several centres).")
@click.option("--dry-run", is_flag=True, help="Check and replay everything, write nothing.")
@click.option("--create-missing", is_flag=True, help="Create unknown organisations and mediators.")
def import_command(path: Path, code: str | None, dry_run: bool, create_missing: bool) -> None:
    """Import the ledger in PATH (CSV or XLSX): every row or none."""
    centre = _centre(code)

    def progress(phase: str, done: int, total: int) -> None:
        if phase == READING:
            click.echo(_("%(done)d rows read and checked", done=done), err=True)
        else:
            click.echo(_("%(done)d of %(total)d rows replayed", done=done, total=total), err=True)

    try:
        result = import_ledger(
            centre,
            path.read_bytes(),
            dry_run=dry_run,
            create_missing=create_missing,
            progress=progress,
            free_while_reading=True,
        )
    except LedgerFileError as error:
        raise click.ClickException(str(error)) from None
    if not result.ok:
        for problem in result.problems:
            click.echo(
                _(
                    "row %(row)d, column %(column)s: %(message)s",
                    row=problem.row,
                    column=problem.column or "-",
                    message=problem.message,
                ),
                err=True,
            )
        raise click.ClickException(
            _("%(n)d problems; nothing was imported.", n=len(result.problems))
        )
    _report(result)
    if not dry_run:
        record(
            "ledger.import",
            target=path.name,
            centre_id=centre.id,
            created=result.created,
            skipped=result.skipped,
        )
        db.session.commit()


def _report(result: ImportResult) -> None:
    if result.dry_run:
        click.echo(_("Dry run: nothing was written."))
    click.echo(
        _(
            "%(created)d cases created, %(skipped)d skipped (already imported).",
            created=result.created,
            skipped=result.skipped,
        )
    )
    for name in result.created_organizations:
        click.echo(_("Organisation created: %(name)s", name=name))
    for name in result.created_mediators:
        click.echo(_("Mediator created: %(name)s", name=name))

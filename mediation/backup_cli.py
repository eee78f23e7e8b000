"""`flask backup PATH`: a consistent copy of the embedded database, or how to take one."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from mediation.database import backup_sqlite
from mediation.extensions import db


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path: str) -> None:
    """Copy the database to PATH while the app runs (SQLite), or say how (PostgreSQL)."""
    if db.engine.dialect.name != "sqlite":
        url = db.engine.url.render_as_string(hide_password=True)
        click.echo(
            _(
                "The database is PostgreSQL: back it up with pg_dump, e.g. "
                "pg_dump --format=custom --file %(path)s '%(url)s'",
                path=path,
                url=url,
            )
        )
        click.echo(
            _(
                "Back up the dossier folder %(folder)s as well.",
                folder=current_app.config["DOSSIER_FOLDER"],
            )
        )
        return
    target = Path(path)
    if target.exists():
        raise click.ClickException(_("%(path)s exists already; choose a new file.", path=path))
    if not target.parent.is_dir():
        raise click.ClickException(_("The folder of %(path)s does not exist.", path=path))
    backup_sqlite(db.engine, str(target))
    click.echo(_("Database copied to %(path)s.", path=path))
    click.echo(
        _(
            "Back up the dossier folder %(folder)s as well.",
            folder=current_app.config["DOSSIER_FOLDER"],
        )
    )

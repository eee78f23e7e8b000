"""`flask backup PATH`: a consistent copy of the database, by SQLite's online backup or by
pg_dump."""

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import URL

from mediation.database import backup_sqlite
from mediation.extensions import db
from mediation.web.language import gettext as _


def pg_dump_url(url: URL) -> str:
    """The URL as libpq (pg_dump) reads it: no driver name, no password (that goes in
    PGPASSWORD, never on a command line that `ps` shows)."""
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return plain.render_as_string(hide_password=False)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path: str) -> None:
    """Copy the database to PATH while the app runs: SQLite's online backup, or pg_dump's
    custom format on PostgreSQL (restore it with pg_restore)."""
    target = Path(path)
    if target.exists():
        raise click.ClickException(_("%(path)s exists already; choose a new file.", path=path))
    if not target.parent.is_dir():
        raise click.ClickException(_("The folder of %(path)s does not exist.", path=path))
    if db.engine.dialect.name == "sqlite":
        backup_sqlite(db.engine, str(target))
        click.echo(_("Database copied to %(path)s.", path=path))
    else:
        _dump_postgresql(path, db.engine.url)
    click.echo(
        _(
            "Back up the dossier folder %(folder)s as well.",
            folder=current_app.config["DOSSIER_FOLDER"],
        )
    )


def _dump_postgresql(path: str, url: URL) -> None:
    command = ["pg_dump", "--format=custom", "--file", path, pg_dump_url(url)]
    if shutil.which("pg_dump") is None:
        raise click.ClickException(
            _(
                "pg_dump is not on the PATH: install PostgreSQL's client programs, or run on a "
                "machine that has them (with the password in PGPASSWORD): %(command)s",
                command=shlex.join(command),
            )
        )
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        Path(path).unlink(missing_ok=True)  # a half-written dump must not pass for a backup
        lines = done.stderr.strip().splitlines()
        raise click.ClickException(
            _("pg_dump failed: %(cause)s", cause=lines[-1] if lines else done.returncode)
        )
    click.echo(
        _("Database dumped to %(path)s with pg_dump (restore it with pg_restore).", path=path)
    )

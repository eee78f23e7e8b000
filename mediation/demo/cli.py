import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _

from mediation.demo.data import DEMO_LOGINS, DEMO_PASSWORD, load_demo
from mediation.extensions import db

demo_cli = AppGroup("demo", help="Demo data for trying the product.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database holds a centre.")
def load_command(if_empty: bool) -> None:
    """Create the demo centre and its logins, and print the logins."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException(_("Demo data is never loaded in production."))
    from mediation.directory.models import Centre

    if if_empty and db.session.scalar(db.select(Centre.id).limit(1)) is not None:
        click.echo(_("The database holds data already; demo data not loaded."))
    else:
        centre = load_demo()
        db.session.commit()
        click.echo(_("Demo centre: %(centre)s", centre=centre))
    click.echo(_("Demo logins (the password of each: %(password)s):", password=DEMO_PASSWORD))
    for login in DEMO_LOGINS:
        click.echo(f"  {login.username:<16} {login.role.label}")

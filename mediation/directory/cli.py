import click
from flask.cli import AppGroup

from mediation.audit.log import record
from mediation.directory.centres import CentreError, add_centre
from mediation.extensions import db
from mediation.web.language import gettext as _

centre_cli = AppGroup("centre", help="Manage centres.")


@centre_cli.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--abbr", "abbreviation", required=True, help="Abbreviation used in case numbers.")
@click.option("--timezone", default="Asia/Shanghai", show_default=True)
def add_command(code: str, name: str, abbreviation: str, timezone: str) -> None:
    """Add a centre with its 6-digit region CODE and NAME."""
    try:
        centre = add_centre(code, name, abbreviation, timezone)
    except CentreError as error:
        raise click.ClickException(str(error)) from None
    record("centre.create", target=centre.code, centre_id=centre.id, name=centre.name)
    db.session.commit()
    click.echo(_("Centre %(centre)s added.", centre=centre))

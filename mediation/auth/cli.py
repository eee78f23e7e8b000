import sys

import click
from flask.cli import AppGroup

from mediation.audit.log import record
from mediation.auth.accounts import AccountError, add_user
from mediation.auth.models import Role
from mediation.directory.centres import centre_by_code, region_name
from mediation.extensions import db
from mediation.web.language import gettext as _

user_cli = AppGroup("user", help="Manage users.")


@user_cli.command("add")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice([Role.ADMIN.value, Role.STAFF.value, Role.MEDIATOR.value]),
    required=True,
)
@click.option("--centre", "centre_code", help="Centre code; leave out for a global admin.")
@click.option(
    "--region",
    "region_code",
    help="With --role admin: a regional administrator of this division (e.g. 33 or 3301).",
)
@click.option("--name", "display_name", default="", help="Full name shown in the app.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add_command(username, role, centre_code, region_code, display_name, password_stdin) -> None:
    """Add a user who signs in as USERNAME."""
    role = Role(role)
    if region_code is not None:
        if role != Role.ADMIN:
            raise click.ClickException(_("Only an administrator can have a region."))
        role = Role.REGIONAL_ADMIN
    centre = None
    if centre_code:
        centre = centre_by_code(centre_code)
        if centre is None:
            raise click.ClickException(_("No centre with code %(code)s.", code=centre_code))
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    try:
        user = add_user(username, display_name, role, password, centre, region_code)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    record(
        "user.create",
        target=user.username,
        centre_id=user.centre_id,
        role=user.role,
        **({"region": region_code} if region_code else {}),
    )
    db.session.commit()
    where = str(centre) if centre else _("All centres")
    if region_code:
        where = _("the centres of %(region)s", region=region_name(region_code))
    click.echo(
        _(
            "User %(name)s (%(role)s, %(where)s) added.",
            name=user.username,
            role=user.role_enum.label,
            where=where,
        )
    )

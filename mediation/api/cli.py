import click
from flask.cli import AppGroup

from mediation.api.clients import (
    ClientError,
    add_client,
    all_clients,
    client_named,
    parse_scopes,
    revoke_client,
    set_webhook,
)
from mediation.audit.log import record
from mediation.directory.centres import centre_by_code
from mediation.extensions import db
from mediation.web.language import format_datetime
from mediation.web.language import gettext as _

api_cli = AppGroup("api", help="The integration API (SPEC 9).")
client_cli = AppGroup("client", help="Integration clients: add, list, revoke, webhook.")
api_cli.add_command(client_cli)


def _client(name: str):
    client = client_named(name)
    if client is None:
        raise click.ClickException(_("There is no client named %(name)s.", name=name))
    return client


@client_cli.command("add")
@click.argument("name")
@click.option("--centre", "centre_code", required=True, help="The centre the client acts for.")
@click.option("--scopes", required=True, help="Comma-separated: cases:read,cases:write,stats:read")
def add_command(name: str, centre_code: str, scopes: str) -> None:
    """Add a client NAME and print its token, once."""
    centre = centre_by_code(centre_code)
    if centre is None:
        raise click.ClickException(_("There is no centre %(code)s.", code=centre_code))
    try:
        client, token = add_client(name, centre, parse_scopes(scopes))
    except ClientError as error:
        raise click.ClickException(str(error)) from None
    record("api_client.create", target=client.name, centre_id=centre.id, scopes=client.scopes)
    db.session.commit()
    click.echo(_("Client %(name)s added. Its token, shown only now:", name=client.name))
    click.echo(token)


@client_cli.command("list")
def list_command() -> None:
    """List the clients: centre, scopes, last use, revoked."""
    for client in all_clients():
        used = format_datetime(client.last_used_at, "short") if client.last_used_at else "—"
        state = _("revoked") if client.revoked_at else _("active")
        webhook = client.webhook_url or "—"
        click.echo(
            f"{client.name}\t{client.centre.code}\t{client.scopes}\t{used}\t{state}\t{webhook}"
        )


@client_cli.command("revoke")
@click.argument("name")
def revoke_command(name: str) -> None:
    """Revoke client NAME: its token stops working at once."""
    client = _client(name)
    revoke_client(client)
    record("api_client.revoke", target=client.name, centre_id=client.centre_id)
    db.session.commit()
    click.echo(_("Client %(name)s revoked.", name=client.name))


@client_cli.command("webhook")
@click.argument("name")
@click.argument("url", required=False)
def webhook_command(name: str, url: str | None) -> None:
    """Register client NAME's webhook URL and print its signing secret, once (no URL: remove)."""
    client = _client(name)
    try:
        secret = set_webhook(client, url)
    except ClientError as error:
        raise click.ClickException(str(error)) from None
    record("api_client.webhook", target=client.name, centre_id=client.centre_id, url=url or "")
    db.session.commit()
    if secret is None:
        click.echo(_("Webhook of %(name)s removed.", name=client.name))
        return
    click.echo(_("Webhook of %(name)s registered. Its signing secret, shown only now:", name=name))
    click.echo(secret)

import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from mediation.audit.log import record
from mediation.auth.models import Role, User
from mediation.cases.models import Case
from mediation.demo.cases import add_demo_cases
from mediation.demo.data import (
    ALL_DEMO_LOGINS,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_REGION,
    load_demo,
    load_region_demo,
    neighbour_staff_user,
    staff_user,
)
from mediation.demo.scale import generate_cases
from mediation.directory.models import Centre, Mediator, Organization, RoutingRule
from mediation.extensions import db
from mediation.web.language import gettext as _

demo_cli = AppGroup("demo", help="Demo data for trying the product.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database holds a centre.")
@click.option(
    "--cases",
    "case_count",
    type=click.IntRange(0, 5000),
    default=300,
    show_default=True,
    help="How many cases to create when the demo centre has none.",
)
def load_command(if_empty: bool, case_count: int) -> None:
    """Create the demo centre, its directory, logins and cases, and print the logins."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException(_("Demo data is never loaded in production."))
    if if_empty and db.session.scalar(select(Centre.id).limit(1)) is not None:
        click.echo(_("The database holds data already; demo data not loaded."))
    else:
        _load(case_count)
    click.echo(_("Demo logins (the password of each: %(password)s):", password=DEMO_PASSWORD))
    existing = set(
        db.session.scalars(
            select(User.username).where(User.username.in_([x.username for x in ALL_DEMO_LOGINS]))
        )
    )
    for login in ALL_DEMO_LOGINS:
        if login.username in existing:  # a database loaded by an older version lacks some
            click.echo(f"  {login.username:<16} {_login_label(login)}")


def _login_label(login) -> str:
    """The role, and the centre or region it works in."""
    if login.role == Role.REGIONAL_ADMIN:
        return _(
            "%(role)s (the centres of region %(code)s)", role=login.role.label, code=DEMO_REGION
        )
    if login in DEMO_LOGINS:
        return login.role.label
    return _("%(role)s (the second centre)", role=login.role.label)


@demo_cli.command("generate")
@click.option(
    "--cases",
    "case_count",
    type=click.IntRange(1, 10_000_000),
    required=True,
    help="How many cases to add to the demo centre.",
)
def generate_command(case_count: int) -> None:
    """Add many demo cases at once (for measuring at scale), written in bulk."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException(_("Demo data is never loaded in production."))
    centre = load_demo()
    db.session.commit()
    started = time.perf_counter()
    with click.progressbar(length=case_count, label=_("Cases")) as bar:
        created = generate_cases(
            centre,
            staff_user(),
            case_count,
            progress=lambda done, total: bar.update(done - bar.pos),
        )
    seconds = time.perf_counter() - started
    record("demo.generate", target=centre.code, centre_id=centre.id, cases=created)
    db.session.commit()
    click.echo(
        _(
            "%(count)d cases added to %(centre)s in %(seconds).0f s (%(rate).0f cases/s).",
            count=created,
            centre=centre,
            seconds=seconds,
            rate=created / max(seconds, 0.001),
        )
    )
    click.echo(_("Demo logins (the password of each: %(password)s):", password=DEMO_PASSWORD))
    for login in DEMO_LOGINS:
        click.echo(f"  {login.username:<16} {login.role.label}")


def _load(case_count: int) -> None:
    centre = load_demo()
    db.session.commit()
    click.echo(_("Demo centre: %(centre)s", centre=centre))
    click.echo(
        _(
            "%(organizations)d organisations, %(mediators)d mediators, %(rules)d routing rules.",
            organizations=_count(Organization, centre),
            mediators=_count(Mediator, centre),
            rules=_count(RoutingRule, centre),
        )
    )
    created = 0
    if _count(Case, centre):
        click.echo(_("The demo centre has cases already; no cases added."))
    else:
        created = add_demo_cases(centre, staff_user(), case_count)
        click.echo(_("%(count)d demo cases created over the last 18 months.", count=created))
    record("demo.load", target=centre.code, centre_id=centre.id, cases=created)
    db.session.commit()
    _load_neighbour(max(1, case_count // 4) if case_count else 0)


def _load_neighbour(case_count: int) -> None:
    """The second centre of the region, with fewer cases, so that the regional administrator
    has centres to compare."""
    centre = load_region_demo()
    db.session.commit()
    created = 0
    if not _count(Case, centre):
        created = add_demo_cases(centre, neighbour_staff_user(), case_count)
    click.echo(
        _(
            "Second centre of region %(code)s: %(centre)s, %(count)d cases.",
            code=DEMO_REGION,
            centre=centre,
            count=_count(Case, centre),
        )
    )
    record("demo.load", target=centre.code, centre_id=centre.id, cases=created)
    db.session.commit()


def _count(model, centre: Centre) -> int:
    return db.session.scalar(select(func.count()).select_from(model).filter_by(centre_id=centre.id))

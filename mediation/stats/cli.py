"""`flask stats export`: a month's statistics to a file or stdout (SPEC 4, 6)."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from mediation.directory.centres import centre_by_code, region_centres
from mediation.stats.exports import REGION_TABLES, TABLES, to_csv, to_json, to_xlsx
from mediation.stats.queries import parse_month, region_stats
from mediation.stats.snapshots import published_stats
from mediation.web.language import gettext as _

stats_cli = AppGroup("stats", help="Monthly statistics.")


@stats_cli.command("export")
@click.option("--month", required=True, help="The month, YYYY-MM.")
@click.option("--centre", "centre_code", default=None, help="A centre's code (default: all).")
@click.option(
    "--region",
    "region_code",
    default=None,
    help="A region's code (33, 3301): its centres added up and compared.",
)
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), required=True)
@click.option("--table", default="summary", show_default=True, help="The table, for CSV.")
@click.option("--out", required=True, help="The file to write, or - for stdout (json, csv).")
@click.option(
    "--lang",
    type=click.Choice(["zh_Hans_CN", "en"]),
    default=None,
    help="The language of CSV and XLSX (default: the app's, Chinese).",
)
def export_command(
    month: str,
    centre_code: str | None,
    region_code: str | None,
    fmt: str,
    table: str,
    out: str,
    lang: str | None,
) -> None:
    """Export a month's statistics (its snapshot when it has one; a region's live)."""
    try:
        parse_month(month)
    except ValueError:
        raise click.ClickException(
            _("Bad month %(month)s: give it as YYYY-MM.", month=month)
        ) from None
    if centre_code is not None and region_code is not None:
        raise click.ClickException(_("Give --centre or --region, not both."))
    if region_code is not None and not region_centres(region_code):
        raise click.ClickException(_("No centre's code starts with %(code)s.", code=region_code))
    centre = None
    if centre_code is not None:
        centre = centre_by_code(centre_code)
        if centre is None:
            raise click.ClickException(_("No centre with the code %(code)s.", code=centre_code))
    tables = REGION_TABLES if region_code is not None else TABLES
    if table not in tables:
        raise click.ClickException(
            _("Unknown table %(table)s; one of: %(tables)s.", table=table, tables=", ".join(tables))
        )
    if fmt == "xlsx" and out == "-":
        raise click.ClickException(_("XLSX cannot go to stdout: give a file with --out."))
    if region_code is not None:
        data = region_stats(month, region_code)
    else:
        data = published_stats(month, centre)
    locale = lang or current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN")
    centre_name = centre.name if centre is not None else None
    if fmt == "xlsx":
        content = to_xlsx(data, centre_name, locale)
    else:
        text = to_json(data) + "\n" if fmt == "json" else to_csv(data, centre_name, locale, table)
        if out == "-":
            sys.stdout.write(text)
            return
        content = text.encode("utf-8")
    try:
        with open(out, "wb") as handle:
            handle.write(content)
    except OSError as error:
        raise click.ClickException(
            _("Cannot write %(path)s: %(error)s.", path=out, error=error.strerror)
        ) from None

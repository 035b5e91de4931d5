"""``wangge incidents``: maintenance jobs on the cases."""

from __future__ import annotations

import typer

from api.cli.common import app, engine, load_settings

group = typer.Typer(help="Cases: maintenance jobs.", no_args_is_help=True)
app.add_typer(group, name="incidents")


@group.command("anonymise")
def incidents_anonymise(
    days: int = typer.Option(None, help="Cases closed more than this many days ago (WANGGE_RETENTION_DAYS)."),
) -> None:
    """The retention job: erase reporters' names and phones of cases closed long ago."""
    from layers.cases import privacy

    days = load_settings().retention_days if days is None else days
    with engine().begin() as conn:
        count = privacy.anonymise(conn, days)
    typer.echo(f"wangge: anonymised {count:,} reporters of cases closed more than {days} days ago")

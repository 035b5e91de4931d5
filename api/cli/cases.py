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


@group.command("partitions")
def incidents_partitions(
    retire_before: str = typer.Option(
        None, help="Drop the months before this one, YYYY-MM (default: WANGGE_CASE_RETENTION_MONTHS)."
    ),
) -> None:
    """The partition job: months made ahead, rows in a default partition moved, old months retired."""
    from datetime import UTC, datetime

    from geo.errors import InvalidInput
    from layers.cases import partitions

    before = None
    if retire_before:  # the option is checked before anything is done
        try:
            before = datetime.strptime(retire_before, "%Y-%m").date()
        except ValueError:
            raise InvalidInput(
                f"--retire-before {retire_before!r} is not YYYY-MM", field="retire_before"
            ) from None
    with engine().begin() as conn:
        done = partitions.maintain(
            conn, datetime.now(UTC), None if before else load_settings().case_retention_months
        )
        if before is not None:
            done = partitions.Maintenance(done.made, partitions.retire(conn, before))
        for name, cases, events in partitions.sizes(conn):
            typer.echo(f"{name:>8}  {cases:>10,} cases  {events:>11,} history rows")
    typer.echo(f"wangge: {done.summary()}")

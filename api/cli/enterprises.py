"""``wangge enterprises``: a register extract in, the daily push out."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from api.cli.common import app, engine

group = typer.Typer(help="The enterprise register: imports and the daily push.", no_args_is_help=True)
app.add_typer(group, name="enterprises")


@group.command("import")
def import_register(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A register extract: .csv (UTF-8 or GBK) or .xlsx."
    ),
    district: str = typer.Option(None, help="The register's district (default: the only one loaded)."),
    column: list[str] = typer.Option(
        [], help="FIELD=HEADER for a column the usual headers do not find, e.g. reg_address=住所地址."
    ),
) -> None:
    """Import a register extract all or nothing: each firm's two addresses geocoded and located,
    every bad row named (credit code, industry code, dates, status, duplicates, empty addresses)."""
    from layers.cases.worktime import today
    from layers.enterprises.register_files import import_register as run
    from layers.grid.areas import require_active
    from layers.grid.index import AreaIndex
    from layers.io.area_files import ImportProblems
    from layers.io.imports import loaded_district

    mapping = {}
    for item in column:
        field, sep, header = item.partition("=")
        if not sep or not field or not header:
            raise typer.BadParameter(f"{item!r}: give FIELD=HEADER", param_hint="--column")
        mapping[field.strip()] = header.strip()
    try:
        with engine().begin() as conn:
            code = loaded_district(conn, district)
            index = AreaIndex(conn, require_active(conn))
            result = run(conn, index, file, mapping, code, today())
    except ImportProblems as exc:
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        typer.echo(
            f"wangge: {file.name} was not imported: {len(exc.problems)} bad row(s); nothing written", err=True
        )
        raise typer.Exit(1) from None
    typer.echo(
        f"wangge: imported {result.rows:,} firms from {file.name}: {result.new:,} new, "
        f"{result.updated:,} updated, {result.unresolved:,} address(es) to check (unresolved)"
    )


@group.command("digest")
def make_digest(
    day: datetime = typer.Option(
        None, "--date", formats=["%Y-%m-%d"], help="The day (default: yesterday, Beijing)."
    ),
) -> None:
    """Make the daily push of a day's register changes to the streets and departments (again:
    only what was not pushed yet)."""
    from datetime import timedelta

    from layers.cases.worktime import today
    from layers.enterprises import digest

    now = today()
    chosen = day.date() if day is not None else now - timedelta(days=1)
    with engine().begin() as conn:
        made = digest.make(conn, chosen, now)
    typer.echo(
        f"wangge: digest of {chosen.isoformat()}: {made.events:,} register changes, "
        f"{made.records:,} records pushed now to {made.digests:,} recipients"
    )

"""``wangge layers``, ``import`` and ``export``: grid layers and their generations, files in and out."""

from __future__ import annotations

from pathlib import Path

import typer

from api.cli.common import app, engine, load_settings
from layers.db.vocabulary import PLURAL

group = typer.Typer(help="Grid layers: checks and generations.", no_args_is_help=True)
app.add_typer(group, name="layers")


@group.command("check")
def layers_check(
    generation: int = typer.Option(None, help="Generation to check (default: the active one)."),
) -> None:
    """Check nesting, coverage and overlaps; list every problem with its code."""
    from layers.grid.areas import count_by_level, require_active
    from layers.grid.validate import check_generation

    with engine().connect() as conn:
        generation = require_active(conn) if generation is None else generation
        counts = count_by_level(conn, generation)
        problems = check_generation(conn, generation)
    for problem in problems:
        typer.echo(f"  {problem}")
    summary = ", ".join(f"{n:,} {PLURAL[level]}" for level, n in counts.items())
    if problems:
        typer.echo(f"wangge: generation {generation} has {len(problems)} problem(s) ({summary})", err=True)
        raise typer.Exit(1)
    typer.echo(f"wangge: generation {generation} tiles exactly ({summary})")


@group.command("activate")
def layers_activate(generation: int = typer.Argument(..., help="The draft generation to make live.")) -> None:
    """Check a generation and make it the live one (atomic; the old one is retired)."""
    from layers.grid.areas import activate
    from layers.grid.validate import check_generation

    with engine().begin() as conn:
        problems = check_generation(conn, generation)
        if problems:
            for problem in problems:
                typer.echo(f"  {problem}", err=True)
            typer.echo(f"wangge: generation {generation} not activated: {len(problems)} problem(s)", err=True)
            raise typer.Exit(1)
        activate(conn, generation)
    typer.echo(f"wangge: generation {generation} is now active")


@group.command("generations")
def layers_generations() -> None:
    """List the grid generations and their state."""
    from layers.grid.areas import count_by_level, list_generations

    with engine().connect() as conn:
        for g in list_generations(conn):
            counts = count_by_level(conn, g.id)
            summary = ", ".join(f"{n:,} {PLURAL[level]}" for level, n in counts.items() if n)
            typer.echo(f"{g.id:>4}  {g.status:<8} {g.label}  ({summary})")


@app.command("import")
def import_(
    collection: str = typer.Argument(
        ..., help="streets, communities, grids, micro_grids, or assets: manhole_covers, parking, cameras"
    ),
    file: Path = typer.Argument(..., help="GeoJSON, GeoPackage, zipped Shapefile or CSV (WKT, or lon,lat)"),
    crs: str = typer.Option(None, help="CRS of the file when it does not declare one (default WGS84)."),
    generation: int = typer.Option(None, help="Draft generation to import into (default: a new one)."),
    code_field: str = typer.Option(None, help="Field holding the area code."),
    name_field: str = typer.Option(None, help="Field holding the name."),
    parent_field: str = typer.Option(None, help="Field holding the parent's code (checked)."),
    make_valid: bool = typer.Option(False, help="Repair invalid polygons and say what was repaired."),
    id_field: str = typer.Option(None, help="Assets: the field holding the 16-digit component ID."),
    update: bool = typer.Option(False, help="Assets: update existing assets by ID (still all or nothing)."),
    district: str = typer.Option(
        None,
        help="The district the file is for (grids: the other districts keep theirs); needed with several.",
    ),
    extra: str = typer.Option(
        "keep", help="Assets: columns that are no attribute: keep (exports only) or ignore."
    ),
) -> None:
    """Import a layer: grids into a draft generation, assets added; all rows or none; every problem listed."""
    from layers.io.area_files import ImportProblems
    from layers.io.imports import import_file

    try:
        with engine().begin() as conn:
            result = import_file(
                conn,
                collection,
                file,
                crs=crs,
                generation=generation,
                code_field=code_field,
                name_field=name_field,
                parent_field=parent_field,
                make_valid=make_valid,
                id_field=id_field,
                update=update,
                extra=extra,
                tolerance_m=load_settings().asset_tolerance_m,
                district=district,
            )
    except ImportProblems as exc:
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        typer.echo(
            f"wangge: {file.name} was not imported: {len(exc.problems)} problem(s); nothing written", err=True
        )
        raise typer.Exit(1) from None
    for note in result.notes:
        typer.echo(f"  {note}")
    if result.generation is None:
        typer.echo(
            f"wangge: imported {result.count:,} {collection} from {file.name} ({result.crs}): "
            f"{result.added:,} added, {result.updated:,} updated"
        )
        return
    typer.echo(
        f"wangge: imported {result.count:,} {collection} from {file.name} ({result.crs}) into "
        f"draft generation {result.generation}; check it with `wangge layers check --generation "
        f"{result.generation}` and make it live with `wangge layers activate {result.generation}`"
    )


@app.command("export")
def export(
    collection: str = typer.Argument(
        ..., help="streets, communities, grids, micro_grids, manhole_covers, parking or cameras"
    ),
    file: Path = typer.Argument(..., help="Output: .geojson, .gpkg, .zip (Shapefile) or .csv (WKT)"),
    crs: str = typer.Option(None, help="CRS of the output (default WGS84)."),
    generation: int = typer.Option(None, help="Generation to export (default: the active one)."),
    include_personal: bool = typer.Option(False, help="Include grid workers' phone numbers."),
) -> None:
    """Export a layer in any supported format and CRS."""
    from layers.io.area_files import export_layer
    from layers.io.asset_files import COLLECTIONS, export_assets

    with engine().connect() as conn:
        if collection in COLLECTIONS:
            count = export_assets(conn, collection, file, crs=crs)
        else:
            count = export_layer(
                conn, collection, file, crs=crs, generation=generation, include_personal=include_personal
            )
    typer.echo(f"wangge: exported {count:,} {collection} to {file}")

"""``wangge demo``: the reference district."""

from __future__ import annotations

import typer

from api.cli.common import app, engine, load_settings
from layers.db.vocabulary import PLURAL

group = typer.Typer(help="The reference district (Shibei, generated grids).", no_args_is_help=True)
app.add_typer(group, name="demo")


@group.command("load")
def demo_load(
    seed: int = typer.Option(None, help="Seed of the generated layers (WANGGE_DEMO_SEED)."),
    force: bool = typer.Option(False, help="Generate and load again even if already loaded."),
) -> None:
    """Load Shibei: the real boundary, streets and communities, generated grids."""
    from api.progress import Progress
    from layers.reference.load import load_reference

    seed = load_settings().demo_seed if seed is None else seed
    progress = Progress("generating micro-grids")
    with engine().begin() as conn:
        result = load_reference(
            conn, seed, force=force, progress=progress, case_progress=Progress("generating cases")
        )
    counts = " / ".join(f"{n:,} {PLURAL.get(level, level)}" for level, n in result.counts.items())
    if result.skipped:
        typer.echo(f"wangge: reference district already loaded (generation {result.generation}: {counts})")
    else:
        typer.echo(
            f"wangge: loaded the reference district as generation {result.generation} "
            f"in {progress.elapsed:.1f} s: {counts}"
        )

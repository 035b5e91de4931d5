"""``wangge demo``: the reference district."""

from __future__ import annotations

from datetime import datetime

import typer
from sqlalchemy import text

from api.cli.common import app, engine, load_settings
from layers.db.vocabulary import PLURAL

group = typer.Typer(
    help="The reference districts (Shibei, and 市南区 beside it; generated grids).", no_args_is_help=True
)
app.add_typer(group, name="demo")


@group.command("load")
def demo_load(
    seed: int = typer.Option(None, help="Seed of the generated layers (WANGGE_DEMO_SEED)."),
    district: str = typer.Option(
        "370203", help="The district to load beside those loaded: 370203 市北区 (Shibei) or 370202 市南区."
    ),
    force: bool = typer.Option(False, help="Generate and load again even if already loaded."),
    as_of: datetime = typer.Option(
        None,
        formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d"],
        help="The moment the generated cases end (default now; a date is its Beijing midnight).",
    ),
) -> None:
    """Load a reference district (Shibei unless ``--district``): the real boundary, streets and
    communities, generated grids, assets and the three years of cases up to now (or ``--as-of``)."""
    from api.progress import Progress
    from layers.cases.worktime import BEIJING
    from layers.reference.load import load_reference

    seed = load_settings().demo_seed if seed is None else seed
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=BEIJING)
    progress = Progress("generating micro-grids")
    with engine().begin() as conn:
        result = load_reference(
            conn,
            seed,
            code=district,
            force=force,
            as_of=as_of,
            progress=progress,
            case_progress=Progress("generating cases"),
        )
    if not result.skipped:  # a fresh COPY is not all-visible yet: the searches' index-only scans want it
        with engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE enterprises"))
    counts = " / ".join(f"{n:,} {PLURAL.get(level, level)}" for level, n in result.counts.items())
    if result.skipped:
        typer.echo(f"wangge: district {district} already loaded (generation {result.generation}: {counts})")
    else:
        typer.echo(
            f"wangge: loaded district {district} into generation {result.generation} "
            f"in {progress.elapsed:.1f} s: {counts}"
        )


@group.command("feed")
def demo_feed(
    per_day: float = typer.Option(None, help="New cases a day (WANGGE_DEMO_FEED_PER_DAY, ~60)."),
    tick: float = typer.Option(None, help="Seconds between rounds (WANGGE_DEMO_FEED_TICK_S)."),
    rounds: int = typer.Option(None, help="Stop after this many rounds (default: run until stopped)."),
) -> None:
    """File generated cases at the district's rhythm and work them along, through the real
    intake path and workflow; one feed a database (a second refuses)."""
    from geo.errors import Conflict
    from layers.cases.worktime import WorkHours
    from layers.reference import feed

    settings = load_settings()
    try:
        filed, steps = feed.run(
            engine(),
            settings.demo_seed,
            per_day=per_day or settings.demo_feed_per_day,
            tick_s=tick or settings.demo_feed_tick_s,
            catch_up_days=settings.demo_feed_catch_up_days,
            hours=WorkHours.parse(settings.work_hours),
            rounds=rounds,
            say=typer.echo,
        )
    except Conflict as e:
        typer.echo(f"wangge: {e.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wangge: demo feed done: {filed} cases filed, {steps} steps taken")

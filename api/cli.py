"""The ``wangge`` command line: serve, manage the database, load and move layers.

Every failure the user can fix ends in one line on stderr that says what to do and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from pydantic import ValidationError
from sqlalchemy import Engine

from api.settings import Settings, redact
from geo.errors import WanggeError
from layers.accounts.actors import Actor
from layers.db.vocabulary import PLURAL

app = typer.Typer(
    help="wangge: grid-based urban governance on PostGIS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="The database: embedded cluster and migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
demo_app = typer.Typer(help="The reference district (Shibei, generated grids).", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
layers_app = typer.Typer(help="Grid layers: checks and generations.", no_args_is_help=True)
app.add_typer(layers_app, name="layers")
users_app = typer.Typer(help="Accounts: users, roles, API keys.", no_args_is_help=True)
app.add_typer(users_app, name="users")
incidents_app = typer.Typer(help="Cases: maintenance jobs.", no_args_is_help=True)
app.add_typer(incidents_app, name="incidents")


CLI = Actor("cli", "admin")  # who the command line acts as, in the audit log


def _settings() -> Settings:
    return Settings()


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on (WANGGE_HOST)."),
    port: int = typer.Option(None, help="Port to listen on (WANGGE_PORT)."),
    workers: int = typer.Option(None, help="Worker processes (WANGGE_WORKERS)."),
) -> None:
    """Serve the platform (the database must be up and migrated)."""
    import uvicorn

    from api.cluster import check_port_free
    from api.db import make_engine, require_head

    settings = _settings()
    host, port = host or settings.host, port or settings.port
    check_port_free(host, port, "WANGGE_PORT")
    engine = make_engine(settings, pool_size=1)
    require_head(engine)
    engine.dispose()
    typer.echo(f"wangge: serving on http://{host}:{port}")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers or settings.workers,
        log_level="info",
    )


@db_app.command("up")
def db_up() -> None:
    """Start the embedded cluster (creating it the first time) or check DATABASE_URL."""
    from api.db import check_reachable, make_engine

    settings = _settings()
    if settings.embedded:
        from api.cluster import Cluster

        cluster = Cluster(settings)
        started = cluster.up()
        state = "started" if started else "already running"
        typer.echo(
            f"wangge: embedded PostGIS {state} on port {settings.pg_port} (socket {settings.pg_socket_dir})"
        )
    else:
        engine = make_engine(settings, pool_size=1)
        check_reachable(engine)
        typer.echo(f"wangge: using {redact(settings.sqlalchemy_url())} (DATABASE_URL)")


@db_app.command("down")
def db_down() -> None:
    """Stop the embedded cluster."""
    settings = _settings()
    if not settings.embedded:
        typer.echo("wangge: DATABASE_URL is set; the embedded cluster is not used")
        return
    from api.cluster import Cluster

    stopped = Cluster(settings).down()
    typer.echo("wangge: embedded PostGIS stopped" if stopped else "wangge: it was not running")


@db_app.command("status")
def db_status() -> None:
    """Say where the database is, whether it runs and whether it is migrated."""
    from api.db import current_revision, head_revision, make_engine

    settings = _settings()
    if settings.embedded:
        from api.cluster import Cluster

        status = Cluster(settings).status()
        typer.echo(
            f"cluster:    {status.data_dir} ({'initialised' if status.initialized else 'not initialised'})"
        )
        typer.echo(
            f"server:     {'running, pid ' + str(status.pid) if status.running else 'stopped'}"
            f" (port {status.port}, socket {status.socket_dir})"
        )
        if not status.running:
            raise typer.Exit(3)
    typer.echo(f"database:   {redact(settings.sqlalchemy_url())}")
    engine = make_engine(settings, pool_size=1)
    from api.db import check_reachable

    check_reachable(engine)
    with engine.connect() as conn:
        current = current_revision(conn)
    head = head_revision()
    typer.echo(
        f"migrations: {current or 'none'} (head {head})"
        + ("" if current == head else " — run `wangge db upgrade`")
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Run the migrations up to REVISION (default: head)."""
    from api.db import make_engine, upgrade

    engine = make_engine(_settings(), pool_size=1)
    upgrade(engine, revision)
    typer.echo(f"wangge: database migrated to {revision}")


@db_app.command("downgrade")
def db_downgrade(
    revision: str = typer.Argument(..., help="Target revision, e.g. -1 or base."),
) -> None:
    """Run the migrations down to REVISION."""
    from api.db import check_reachable, downgrade, make_engine

    engine = make_engine(_settings(), pool_size=1)
    check_reachable(engine)
    downgrade(engine, revision)
    typer.echo(f"wangge: database migrated down to {revision}")


@db_app.command("backup")
def db_backup(
    file: Path = typer.Argument(..., help="The backup file to write (pg_dump custom format)."),
) -> None:
    """Back up the whole database (layers, assets, cases, accounts) to FILE."""
    import time

    from api.backup import backup

    start = time.monotonic()
    size = backup(_settings(), file)
    typer.echo(f"wangge: backed up to {file} ({size / 1e6:,.1f} MB) in {time.monotonic() - start:.1f} s")


@db_app.command("restore")
def db_restore(
    file: Path = typer.Argument(..., help="A backup written by `wangge db backup`."),
    yes: bool = typer.Option(False, "--yes", help="Replace the database's contents without asking."),
) -> None:
    """Replace the database's contents with FILE, in one transaction (all or nothing)."""
    import time

    from api.backup import restore

    if not yes:
        typer.confirm(f"replace everything in the database with {file}?", abort=True)
    start = time.monotonic()
    restore(_settings(), file)
    typer.echo(f"wangge: restored {file} in {time.monotonic() - start:.1f} s")


def _engine() -> Engine:
    from api.db import make_engine, require_head

    engine = make_engine(_settings(), pool_size=1)
    require_head(engine)
    return engine


@demo_app.command("load")
def demo_load(
    seed: int = typer.Option(None, help="Seed of the generated layers (WANGGE_DEMO_SEED)."),
    force: bool = typer.Option(False, help="Generate and load again even if already loaded."),
) -> None:
    """Load Shibei: the real boundary, streets and communities, generated grids."""
    from api.progress import Progress
    from layers.reference.load import load_reference

    seed = _settings().demo_seed if seed is None else seed
    progress = Progress("generating micro-grids")
    with _engine().begin() as conn:
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


@app.command()
def report(
    month: str = typer.Option(None, help="YYYY-MM (Beijing); default the last complete month."),
    area: str = typer.Option(None, help="Restrict to an area code (street, community, …)."),
    out: Path = typer.Option(Path("var/reports"), help="Directory to write the HTML and the PDF into."),
    pdf: bool = typer.Option(True, help="Also print the PDF (needs Chromium)."),
) -> None:
    """Write the monthly analysis report: HTML, and a PDF printed by headless Chromium."""
    import time

    from api.printing import html_to_pdf
    from layers.analytics import report as monthly

    start = time.monotonic()
    month = month or monthly.last_complete_month()
    typer.echo(f"wangge: report {month}: computing figures (trends, KPIs, hotspots, coverage) …")
    with _engine().connect() as conn:
        data = monthly.build(conn, month, area)
    html = monthly.render_html(data)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"wangge-report-{month}{'-' + area if area else ''}"
    stem.with_suffix(".html").write_text(html, encoding="utf-8")
    written = [stem.with_suffix(".html")]
    if pdf:
        typer.echo(f"wangge: report {month}: printing the PDF …")
        stem.with_suffix(".pdf").write_bytes(html_to_pdf(html))
        written.append(stem.with_suffix(".pdf"))
    typer.echo(
        f"wangge: report {month}: {data['total']:,} cases, {data['hot']['hot']} hot cells; "
        f"wrote {', '.join(str(p) for p in written)} in {time.monotonic() - start:.1f} s"
    )


@layers_app.command("check")
def layers_check(
    generation: int = typer.Option(None, help="Generation to check (default: the active one)."),
) -> None:
    """Check nesting, coverage and overlaps; list every problem with its code."""
    from layers.grid.areas import count_by_level, require_active
    from layers.grid.validate import check_generation

    with _engine().connect() as conn:
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


@layers_app.command("activate")
def layers_activate(generation: int = typer.Argument(..., help="The draft generation to make live.")) -> None:
    """Check a generation and make it the live one (atomic; the old one is retired)."""
    from layers.grid.areas import activate
    from layers.grid.validate import check_generation

    with _engine().begin() as conn:
        problems = check_generation(conn, generation)
        if problems:
            for problem in problems:
                typer.echo(f"  {problem}", err=True)
            typer.echo(f"wangge: generation {generation} not activated: {len(problems)} problem(s)", err=True)
            raise typer.Exit(1)
        activate(conn, generation)
    typer.echo(f"wangge: generation {generation} is now active")


@layers_app.command("generations")
def layers_generations() -> None:
    """List the grid generations and their state."""
    from layers.grid.areas import count_by_level, list_generations

    with _engine().connect() as conn:
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
) -> None:
    """Import a layer: grids into a draft generation, assets added; all rows or none; every problem listed."""
    from layers.io.area_files import ImportProblems
    from layers.io.imports import import_file

    try:
        with _engine().begin() as conn:
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
            )
    except ImportProblems as exc:
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        typer.echo(
            f"wangge: {file.name} was not imported: {len(exc.problems)} problem(s); nothing written", err=True
        )
        raise typer.Exit(1) from None
    if result.generation is None:
        typer.echo(
            f"wangge: imported {result.count:,} {collection} from {file.name} ({result.crs}), all located"
        )
        return
    for note in result.notes:
        typer.echo(f"  {note}")
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

    with _engine().connect() as conn:
        if collection in COLLECTIONS:
            count = export_assets(conn, collection, file, crs=crs)
        else:
            count = export_layer(
                conn, collection, file, crs=crs, generation=generation, include_personal=include_personal
            )
    typer.echo(f"wangge: exported {count:,} {collection} to {file}")


@app.command()
def locate(
    lon: float = typer.Argument(None, help="Longitude (or x) of one point."),
    lat: float = typer.Argument(None, help="Latitude (or y) of one point."),
    crs: str = typer.Option("wgs84", help="CRS of the input: wgs84, gcj02, bd09, EPSG:4549, …"),
    accuracy_m: float = typer.Option(None, help="GPS accuracy of the point, for the ambiguity flag."),
    file: Path = typer.Option(None, help="CSV with lon,lat columns (UTF-8 or GBK) to locate in bulk."),
    out: Path = typer.Option(None, help="Where to write the bulk answers as CSV (default: stdout)."),
) -> None:
    """Locate one point (JSON answer) or a CSV of points (CSV answer, input order)."""
    import json

    from api.progress import Progress
    from geo import points
    from geo.crs import to_wgs84
    from layers.grid.answers import located_rows, point_answer
    from layers.grid.holder import IndexHolder
    from layers.io.streams import csv_stream

    settings = _settings()
    if file is None and (lon is None or lat is None):
        raise typer.BadParameter("give LON LAT, or --file points.csv")
    index = IndexHolder(_engine(), check_s=settings.index_check_s, cell_m=settings.locate_cell_m).get()
    if file is None:
        wlon, wlat = (float(v) for v in to_wgs84(lon, lat, crs))
        result = point_answer(
            index,
            wlon,
            wlat,
            accuracy_m=accuracy_m,
            min_ambiguous_m=settings.ambiguous_m,
            nearby_assets_m=settings.nearby_assets_m,
        )
        body = {"query": {"lon": lon, "lat": lat, "crs": crs}, **result}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    if not file.is_file():
        raise typer.BadParameter(f"no such file: {file}")
    batch = points.from_csv(file.read_bytes(), limit=settings.file_max_points)
    progress = Progress(f"locating {file.name}")
    rows = located_rows(index, batch, crs, progress=progress)
    sink = out.open("wb") if out else sys.stdout.buffer
    try:
        for chunk in csv_stream(rows, batch):
            sink.write(chunk)
    finally:
        if out:
            sink.close()
    good = len(batch) - len(batch.errors)
    where = f" → {out}" if out else ""
    typer.echo(
        f"wangge: located {good:,} of {len(batch):,} points ({len(batch.errors):,} bad rows) "
        f"in {progress.elapsed:.1f} s{where}",
        err=True,
    )


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Sign-in name."),
    role: str = typer.Option(..., help="admin, dispatcher, planner, field or viewer."),
    unit: str = typer.Option(None, help="Department or area code the user works for (field staff)."),
    machine: bool = typer.Option(False, help="No password: a machine source that uses API keys."),
) -> None:
    """Add a user; the password is asked for (or read from WANGGE_NEW_PASSWORD)."""
    import os

    from layers.accounts import audit, users

    password = None
    if not machine:
        password = os.environ.get("WANGGE_NEW_PASSWORD") or typer.prompt(
            "password", hide_input=True, confirmation_prompt=True
        )
    with _engine().begin() as conn:
        users.add(conn, name, role, password, unit)
        audit.record(conn, CLI, "user.add", f"user:{name}", role=role, unit=unit)
    typer.echo(f"wangge: added {role} {name}" + (f" of {unit}" if unit else ""))


@users_app.command("list")
def users_list() -> None:
    """Every user with role, unit, state and live API keys."""
    from layers.accounts import users

    with _engine().connect() as conn:
        rows = users.listing(conn)
    for r in rows:
        state = "disabled" if r["disabled"] else "active"
        typer.echo(f"{r['name']:<24} {r['role']:<10} {r['unit'] or '-':<20} {state:<8} keys: {r['keys']}")
    typer.echo(f"wangge: {len(rows)} users")


@users_app.command("disable")
def users_disable(name: str = typer.Argument(...)) -> None:
    """Disable a user: sign-in refused, tokens and API keys revoked at once."""
    from layers.accounts import audit, users

    with _engine().begin() as conn:
        users.disable(conn, name)
        audit.record(conn, CLI, "user.disable", f"user:{name}")
    typer.echo(f"wangge: disabled {name}; their tokens and API keys no longer work")


@users_app.command("apikey")
def users_apikey(
    name: str = typer.Argument(...), label: str = typer.Option("", help="What it is for.")
) -> None:
    """Issue an API key for a (machine) user; it is printed once and never stored."""
    from layers.accounts import audit, users

    with _engine().begin() as conn:
        key = users.new_api_key(conn, name, label)
        audit.record(conn, CLI, "user.apikey", f"user:{name}", label=label)
    typer.echo(key)


@incidents_app.command("anonymise")
def incidents_anonymise(
    days: int = typer.Option(None, help="Cases closed more than this many days ago (WANGGE_RETENTION_DAYS)."),
) -> None:
    """The retention job: erase reporters' names and phones of cases closed long ago."""
    from layers.cases import privacy

    days = _settings().retention_days if days is None else days
    with _engine().begin() as conn:
        count = privacy.anonymise(conn, days)
    typer.echo(f"wangge: anonymised {count:,} reporters of cases closed more than {days} days ago")


def main() -> None:
    """Entry point of the ``wangge`` script: domain errors become one line and exit 1."""
    try:
        app()
    except WanggeError as exc:
        typer.echo(f"wangge: {exc.message}", err=True)
        sys.exit(1)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "WANGGE_" + str(first["loc"][0]).upper() if first["loc"] else "?"
        typer.echo(f"wangge: setting {name}: {first['msg']} (got {first.get('input')!r})", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

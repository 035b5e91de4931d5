"""``wangge db``: the embedded cluster, migrations, backups."""

from __future__ import annotations

from pathlib import Path

import typer

from api.cli.common import app, load_settings
from api.settings import redact

group = typer.Typer(help="The database: embedded cluster and migrations.", no_args_is_help=True)
app.add_typer(group, name="db")


@group.command("up")
def db_up() -> None:
    """Start the embedded cluster (creating it the first time) or check DATABASE_URL."""
    from api.db import check_reachable, make_engine

    settings = load_settings()
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


@group.command("down")
def db_down() -> None:
    """Stop the embedded cluster."""
    settings = load_settings()
    if not settings.embedded:
        typer.echo("wangge: DATABASE_URL is set; the embedded cluster is not used")
        return
    from api.cluster import Cluster

    stopped = Cluster(settings).down()
    typer.echo("wangge: embedded PostGIS stopped" if stopped else "wangge: it was not running")


@group.command("status")
def db_status() -> None:
    """Say where the database is, whether it runs and whether it is migrated."""
    from api.db import current_revision, head_revision, make_engine

    settings = load_settings()
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


@group.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Run the migrations up to REVISION (default: head)."""
    from api.db import make_engine, upgrade

    engine = make_engine(load_settings(), pool_size=1)
    upgrade(engine, revision)
    typer.echo(f"wangge: database migrated to {revision}")


@group.command("downgrade")
def db_downgrade(
    revision: str = typer.Argument(..., help="Target revision, e.g. -1 or base."),
) -> None:
    """Run the migrations down to REVISION."""
    from api.db import check_reachable, downgrade, make_engine

    engine = make_engine(load_settings(), pool_size=1)
    check_reachable(engine)
    downgrade(engine, revision)
    typer.echo(f"wangge: database migrated down to {revision}")


@group.command("backup")
def db_backup(
    file: Path = typer.Argument(..., help="The backup file to write (pg_dump custom format)."),
) -> None:
    """Back up the whole database (layers, assets, cases, accounts) to FILE and the photo store
    to FILE.photos.tar (keep the two together; restore reads both)."""
    import time

    from api.backup import backup

    start = time.monotonic()
    size = backup(load_settings(), file)
    took = time.monotonic() - start
    typer.echo(f"wangge: backed up to {file} and {file}.photos.tar ({size / 1e6:,.1f} MB) in {took:.1f} s")


@group.command("restore")
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
    restore(load_settings(), file)
    typer.echo(f"wangge: restored {file} in {time.monotonic() - start:.1f} s")

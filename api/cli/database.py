"""``wangge db``: the embedded cluster, migrations, backups."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from api.cli.common import app, load_settings
from api.settings import Settings, redact

if TYPE_CHECKING:
    from api.cluster import Standby

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

    settings = load_settings()
    engine = make_engine(settings, pool_size=1)
    upgrade(engine, revision)
    typer.echo(f"wangge: database migrated to {revision}")
    if revision == "head":  # the months of cases ahead exist (the worker keeps them so hourly)
        from datetime import UTC, datetime

        from layers.cases import partitions

        with engine.begin() as conn:
            done = partitions.maintain(conn, datetime.now(UTC), settings.case_retention_months)
        typer.echo(f"wangge: case partitions: {done.summary()}")


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


replica = typer.Typer(help="A streaming hot standby of the embedded cluster.", no_args_is_help=True)
group.add_typer(replica, name="replica")


def _standby() -> tuple[Settings, Standby]:
    settings = load_settings()
    if not settings.embedded:
        raise typer.BadParameter(
            "DATABASE_URL is set: make a standby of that server with its own tools and point "
            "WANGGE_REPLICA_URL at it"
        )
    from api.cluster import Standby

    return settings, Standby(settings)


@replica.command("up")
def replica_up() -> None:
    """Copy the embedded cluster with pg_basebackup (the first time) and start it as a hot standby."""
    import time

    settings, standby = _standby()
    start = time.monotonic()
    started = standby.up()
    state = "started" if started else "already running"
    typer.echo(
        f"wangge: standby {state} on port {settings.pg_replica_port} in {time.monotonic() - start:.1f} s"
    )
    typer.echo(f"wangge: read from it with WANGGE_REPLICA_URL={settings.embedded_replica_url()}")


@replica.command("down")
def replica_down() -> None:
    """Stop the standby (it catches up when started again)."""
    _, standby = _standby()
    stopped = standby.down()
    typer.echo("wangge: standby stopped" if stopped else "wangge: the standby was not running")


@replica.command("destroy")
def replica_destroy() -> None:
    """Stop the standby and delete it (the next `up` copies the primary afresh)."""
    _, standby = _standby()
    standby.destroy()
    typer.echo("wangge: standby deleted")


@replica.command("status")
def replica_status() -> None:
    """Whether the standby runs, streams, and how far behind the primary it is."""
    from api.db import Replica, make_engine

    settings, _ = _standby()
    engine = make_engine(settings, url=settings.embedded_replica_url(), pool_size=1)
    check = Replica(engine, settings.replica_max_lag_s, settings.replica_check_s)
    state = check.check()
    engine.dispose()
    typer.echo(f"standby:    {state}, lag {check.lag_s if check.lag_s is not None else '?'} s")
    if state != "ok":
        raise typer.Exit(3)

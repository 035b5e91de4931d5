"""Database engine, migrations and readiness: the one place that knows how to connect.

Works the same against the embedded cluster and against ``DATABASE_URL``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from api.settings import Settings, redact
from geo.errors import SetupError, Unavailable

T = TypeVar("T")
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def make_engine(
    settings: Settings, database: str | None = None, *, url: str | None = None, **options: object
) -> Engine:
    """A pooled engine; connections are checked before use so a restarted server heals.

    With ``WANGGE_PREPARED_STATEMENTS=false`` (PgBouncer in transaction mode) psycopg never
    prepares statements: a server connection is not the same from one transaction to the next.
    """
    connect: dict[str, object] = {
        "connect_timeout": 5,
        "options": f"-c statement_timeout={settings.statement_timeout_ms}",
        "application_name": "wangge",
    }
    if not settings.prepared_statements:
        connect["prepare_threshold"] = None
    params: dict[str, object] = {
        "pool_size": settings.pool_size,
        "max_overflow": settings.pool_size,
        "pool_pre_ping": True,
        "pool_timeout": 10,
        "connect_args": connect,
    }
    params.update(options)
    return create_engine(url or settings.sqlalchemy_url(database), **params)


def alembic_config(url: str) -> Config:
    """Alembic configured in code (no alembic.ini needed) for the database at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("postgresql://"))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def check_reachable(engine: Engine) -> None:
    """Raise ``Unavailable`` with a one-line, password-free message if the server is down."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        raise Unavailable(
            f"cannot reach the database at {engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` on ``engine``'s database."""
    check_reachable(engine)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


@contextmanager
def scratch_database(
    base: Settings, prefix: str, template: str | None = None
) -> Iterator[tuple[Settings, Engine]]:
    """A new database beside ``base``'s, migrated to head and dropped afterwards (benchmarks, test
    modules that need a database of their own): its settings and an engine on it. With
    ``template``, a copy of that database (which nobody may be connected to)."""
    import uuid

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base, pool_size=1, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    settings = base.model_copy(
        update={"db_name": name} if base.embedded else {"database_url": base.sqlalchemy_url(name)}
    )
    engine = make_engine(settings)
    try:
        upgrade(engine)
        yield settings, engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def require_head(engine: Engine) -> None:
    """Refuse to serve a database whose schema is behind the code."""
    check_reachable(engine)
    with engine.connect() as conn:
        current = current_revision(conn)
    head = head_revision()
    if current != head:
        raise SetupError(
            f"the database schema is at migration {current or 'none'}, the code needs {head}: "
            "run `wangge db upgrade`"
        )


def readiness(engine: Engine) -> tuple[bool, dict[str, str | None]]:
    """The /readyz answer: database reachable, PostGIS version, migrations at head."""
    report: dict[str, str | None] = {"database": "ok", "postgis": None, "migrations": None}
    try:
        with engine.connect() as conn:
            try:
                report["postgis"] = conn.execute(text("SELECT postgis_lib_version()")).scalar()
            except DBAPIError:
                conn.rollback()
                report["postgis"] = "missing: the postgis extension is not installed"
            current = current_revision(conn)
    except DBAPIError:
        return False, {
            "database": "unreachable",
            "postgis": "unknown",
            "migrations": "unknown",
        }
    head = head_revision()
    report["migrations"] = "head" if current == head else f"behind: at {current}, head {head}"
    ok = report["migrations"] == "head" and not str(report["postgis"]).startswith("missing")
    return ok, report


# One row: is it a standby, is it streaming, and how far behind (0 when it has replayed all it
# received; otherwise the age of the last transaction it replayed).
_STANDBY = text(
    "SELECT pg_is_in_recovery(), "
    "EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'), "
    "CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0.0) END"
)


class Replica:
    """A streaming hot standby that takes the reads which may be a moment stale.

    Usable while it answers, is in recovery, streams from the primary and is at most
    ``max_lag_s`` behind; checked at most every ``check_s`` seconds (one query). A read
    that loses its connection marks it down until the next check; the read is then done
    on the primary (``Database.read_stale``), so the caller never sees the difference.
    """

    def __init__(self, engine: Engine, max_lag_s: float, check_s: float):
        self.engine = engine
        self.max_lag_s = max_lag_s
        self.check_s = check_s
        self.state = "unchecked"
        self.lag_s: float | None = None
        self.checked = float("-inf")
        self.lock = threading.Lock()

    def check(self) -> str:
        """Ask the standby how it is; its state: ok, lagging, not streaming, down, not a standby."""
        try:
            with self.engine.connect() as conn:
                standby, streaming, lag = conn.execute(_STANDBY).one()
        except DBAPIError:
            self.state, self.lag_s = "down", None
        else:
            self.lag_s = round(float(lag), 3)
            if not standby:
                self.state = "not a standby"
            elif not streaming:
                self.state = "not streaming"
            else:
                self.state = "ok" if self.lag_s <= self.max_lag_s else "lagging"
        self.checked = time.monotonic()
        return self.state

    def usable(self) -> bool:
        """Whether reads go here now (a check when the last one is older than ``check_s``)."""
        if time.monotonic() - self.checked >= self.check_s and self.lock.acquire(blocking=False):
            try:
                self.check()
            finally:
                self.lock.release()
        return self.state == "ok"

    def lost(self) -> None:
        """A read lost its connection: use the primary until the next check."""
        self.state, self.checked = "down", time.monotonic()

    def report(self) -> dict[str, Any]:
        """The replica's part of ``/readyz``."""
        return {"replica": self.state, "replica_lag_s": self.lag_s}


def open_replica(settings: Settings) -> Replica | None:
    """The configured standby (``WANGGE_REPLICA_URL``), or None; a server that is not a
    standby is refused here, at start-up, rather than silently read from."""
    if not settings.replica_url:
        return None
    engine = make_engine(settings, url=settings.replica_url, pool_size=settings.pool_size, pool_timeout=2)
    replica = Replica(engine, settings.replica_max_lag_s, settings.replica_check_s)
    if replica.check() == "not a standby":
        engine.dispose()
        raise SetupError(
            f"WANGGE_REPLICA_URL {redact(settings.replica_url)} is not a standby "
            "(pg_is_in_recovery() is false): point it at a hot standby, or unset it"
        )
    return replica


def lost_connection(exc: DBAPIError) -> bool:
    """A failure of the server or the link (retry elsewhere), not of the SQL (a real error)."""
    return bool(exc.connection_invalidated) or isinstance(exc, OperationalError)


class Database:
    """The one way the routes reach PostgreSQL: read connections and transactions.

    Routes get it through ``api.deps`` (``ReadDep``, ``TxDep``, ``run_read``, ``run_tx``,
    ``run_stale_read``); tests replace it with one bound to a connection whose outer
    transaction is rolled back (``tests/conftest.py``), so HTTP tests leave nothing behind.
    """

    def __init__(self, engine: Engine, replica: Replica | None = None):
        self.engine = engine
        self.replica = replica

    def read_stale(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)`` on the replica when it is usable, else (or when it fails) on the primary.

        For reads that may be a moment stale (tiles, OGC items, analytics, reports, public
        lists): never for a read that must see the caller's own write.
        """
        replica = self.replica
        if replica is not None and replica.usable():
            try:
                with replica.engine.connect() as conn:
                    return fn(conn.execution_options(isolation_level="AUTOCOMMIT"), *args)
            except DBAPIError as exc:
                if not lost_connection(exc):
                    raise
                replica.lost()
        with self.read() as conn:
            return fn(conn, *args)

    def close(self) -> None:
        """Close both pools."""
        self.engine.dispose()
        if self.replica is not None:
            self.replica.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """An autocommit connection: no BEGIN/COMMIT round trips for plain reads."""
        with self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection in a transaction, committed when the block ends without an error."""
        with self.engine.begin() as conn:
            yield conn

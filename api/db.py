"""Database engine, migrations and readiness: the one place that knows how to connect.

Works the same against the embedded cluster and against ``DATABASE_URL``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from api.settings import Settings
from geo.errors import SetupError, Unavailable

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def make_engine(settings: Settings, database: str | None = None, **options: object) -> Engine:
    """A pooled engine; connections are checked before use so a restarted server heals."""
    params: dict[str, object] = {
        "pool_size": settings.pool_size,
        "max_overflow": settings.pool_size,
        "pool_pre_ping": True,
        "pool_timeout": 10,
        "connect_args": {
            "connect_timeout": 5,
            "options": f"-c statement_timeout={settings.statement_timeout_ms}",
            "application_name": "wangge",
        },
    }
    params.update(options)
    return create_engine(settings.sqlalchemy_url(database), **params)


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


class Database:
    """The one way the routes reach PostgreSQL: read connections and transactions.

    Routes get it through ``api.deps`` (``ReadDep``, ``TxDep``, ``run_read``, ``run_tx``);
    tests replace it with one bound to a connection whose outer transaction is rolled
    back (``tests/conftest.py``), so HTTP tests leave nothing behind.
    """

    def __init__(self, engine: Engine):
        self.engine = engine

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

"""Tests own their database: a fresh one per session on the embedded cluster (or on
DATABASE_URL), migrated up, down and up again, dropped at the end. The database that
`make run` serves is never touched.

Layers: ``tests/unit`` needs no PostgreSQL (``make test-unit``); ``tests/db`` runs against
the session database, each test in a rolled-back transaction where it needs no commit
(``conn``, ``bound_client``); ``tests/browser`` drives Debian's Chromium against a live
server. ``tests/zoo.py`` holds the shared geometries and hostile fixtures.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from api.app import create_app
from api.db import Database, downgrade, make_engine, upgrade
from api.settings import Settings

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def _base_settings() -> Settings:
    return Settings()


def pytest_report_header(config: pytest.Config) -> list[str]:
    import shapely

    geos = f"GEOS {shapely.geos_version_string}, shapely {shapely.__version__}"
    engine = make_engine(_base_settings(), pool_size=1, connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as conn:
            server = conn.execute(text("SHOW server_version")).scalar()
            postgis = conn.execute(
                text("SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'")
            ).scalar()
    except DBAPIError:  # unit tests run without a database; the database tests will say so
        return [f"PostgreSQL not reachable, {geos}"]
    finally:
        engine.dispose()
    return [f"PostgreSQL {server}, PostGIS {postgis or 'not installed'}, {geos}"]


@contextmanager
def _throwaway(name: str, template: str | None = None) -> Iterator[None]:
    """A database created for the session (a copy of ``template``, which nobody may be connected
    to, if given) and dropped at its end."""
    admin = make_engine(_base_settings(), pool_size=1, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def test_settings() -> Iterator[Settings]:
    """Settings of a throwaway database created for this test session."""
    base = _base_settings()
    name = f"wangge_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    photos = Path(tempfile.mkdtemp(prefix="wangge-test-photos-"))  # never the served store
    quiet = {"rate_limit_per_min": 0, "report_per_hour": 0, "photo_dir": photos}
    if base.embedded:
        settings = base.model_copy(update={"db_name": name, **quiet})
    else:
        settings = base.model_copy(update={"database_url": base.sqlalchemy_url(name), **quiet})
    try:
        with _throwaway(name):
            yield settings
    finally:
        shutil.rmtree(photos, ignore_errors=True)


@pytest.fixture(scope="session")
def engine(test_settings: Settings) -> Iterator[Engine]:
    """The session database, migrated up, down to base and up again (migrations are code)."""
    eng = make_engine(test_settings)
    upgrade(eng)
    downgrade(eng, "base")
    upgrade(eng)
    yield eng
    eng.dispose()


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back at the end."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with rolled_back(engine) as connection:
        yield connection


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# The moment the session's reference cases end: a fixed past instant, so every test sees
# the same cases whatever the day (tests/db/test_living_demo.py loads them as of now too).
AS_OF = datetime(2026, 11, 1, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="session")
def demo(engine: Engine, test_settings: Settings) -> Iterator[int]:
    """The reference district loaded once into the session database; its generation. A copy of
    the database as loaded is kept as ``demo_template`` (modules that need the district in a
    database of their own start from it instead of loading it again)."""
    from layers.reference.load import load_reference

    with engine.begin() as connection:
        generation = load_reference(connection, test_settings.demo_seed, as_of=AS_OF).generation
    engine.dispose()  # a template may have no one connected to it
    with _throwaway(_template_of(engine), template=engine.url.database):
        yield generation


def _template_of(engine: Engine) -> str:
    return f"{engine.url.database}_demo"


@pytest.fixture(scope="session")
def demo_template(demo: int, engine: Engine) -> str:
    """The name of the copy of the session database as the reference district left it."""
    return _template_of(engine)


@pytest.fixture(scope="session")
def client(test_settings: Settings, engine: Engine, demo: int) -> Iterator[TestClient]:
    """The app on the session database with the reference district, over real HTTP semantics."""
    with TestClient(create_app(test_settings)) as c:
        yield c


@pytest.fixture(scope="session")
def live_server(test_settings: Settings, demo: int) -> Iterator[str]:
    """The app served by a real uvicorn on a free loopback port (for browsers); its base URL."""
    from bench.server import uvicorn_server

    env = {
        "DATABASE_URL": test_settings.sqlalchemy_url(),
        "WANGGE_PHOTO_DIR": str(test_settings.photo_root),
    }
    with uvicorn_server(env) as base:
        yield base


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def accounts(engine: Engine, client: TestClient) -> dict[str, dict[str, str]]:
    """Users of every role, signed in; field staff of 即墨路街道's office and of another street."""
    people = {
        "admin1": ("admin", None),
        "disp1": ("dispatcher", None),
        "disp2": ("dispatcher", None),
        "field1": ("field", "370203020"),
        "field2": ("field", "370203020"),
        "field9": ("field", "370203005"),
        "viewer1": ("viewer", None),
    }
    from layers.accounts import users

    with engine.begin() as conn:
        for name, (role, unit) in people.items():
            users.add(conn, name, role, PASSWORD, unit)
    headers = {}
    for name in people:
        got = client.post("/api/token", data={"username": name, "password": PASSWORD})
        assert got.status_code == 200, got.text
        headers[name] = {"Authorization": f"Bearer {got.json()['access_token']}"}
    return headers


@pytest.fixture(scope="session")
def grids(engine: Engine, demo: int) -> list[dict[str, Any]]:
    """The active generation's grids: code, name, parent and WGS84 geometry."""
    import shapely

    from layers.grid import areas

    with engine.connect() as conn:
        rows = areas.all_features(
            conn, level="grid", generation=demo, columns=("code", "name", "parent_code")
        )
    for r in rows:
        r["geometry"] = shapely.from_geojson(r.pop("geojson"))
    return rows


class BoundDatabase(Database):
    """Every request on one connection inside an outer transaction that the test rolls
    back; a request's own transaction is a SAVEPOINT, so commits and rollbacks behave."""

    def __init__(self, connection: Connection):
        super().__init__(connection.engine)
        self.connection = connection
        self.lock = threading.RLock()  # TestClient's requests are sequential; the lock says so

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.lock:
            yield self.connection

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.lock, self.connection.begin_nested():
            yield self.connection


@pytest.fixture
def bound_client(client: TestClient, engine: Engine) -> Iterator[TestClient]:
    """The session's app with every request bound to a transaction rolled back after the test."""
    worker = client.app.state.worker  # type: ignore[attr-defined]
    real = worker.db
    with engine.connect() as connection:
        outer = connection.begin()
        worker.db = BoundDatabase(connection)
        try:
            yield client
        finally:
            worker.db = real
            outer.rollback()

"""The service endpoints and the JSON error shape, against the real database."""

from __future__ import annotations

import os
import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.db import downgrade, head_revision, make_engine, upgrade
from api.settings import Settings


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_reports_postgis_and_head(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["database"] == "ok"
    assert body["migrations"] == "head"
    assert body["postgis"][0].isdigit()  # e.g. "3.3.2"


def test_readyz_503_names_migrations_behind(engine: Engine, test_settings: Settings) -> None:
    # in a database of its own: downgrading the shared one would drop the data later tests use
    name = f"wangge_behind_{uuid.uuid4().hex[:6]}"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    behind = test_settings.model_copy(update={"database_url": test_settings.sqlalchemy_url(name)})
    other = make_engine(behind, pool_size=1)
    try:
        upgrade(other, "0001")
        with TestClient(create_app(behind)) as c:
            r = c.get("/readyz")
        assert r.status_code == 503
        assert r.json()["migrations"] == f"behind: at 0001, head {head_revision()}"
        assert "Retry-After" in r.headers
        upgrade(other)
        downgrade(other, "0001")  # and the migrations go down again
    finally:
        other.dispose()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_unknown_path_is_json_404(client: TestClient) -> None:
    r = client.get("/no/such/thing")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "no such path: /no/such/thing"}}


def test_wrong_method_is_json_405(client: TestClient) -> None:
    r = client.post("/healthz")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_openapi_and_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/readyz" in spec["paths"]
    assert client.get("/docs").status_code == 200


def _down_app() -> FastAPI:
    # A server that does not exist: a closed port on loopback.
    settings = Settings(database_url="postgresql://wangge@127.0.0.1:9/nowhere", retry_after_s=7)
    app = create_app(settings)

    @app.get("/probe-db")
    def probe() -> dict[str, int]:
        with app.state.worker.db.read() as conn:
            return {"one": conn.exec_driver_sql("SELECT 1").scalar_one()}

    return app


def test_database_down_gives_503_with_retry_after() -> None:
    with TestClient(_down_app()) as c:
        r = c.get("/probe-db")
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "7"
        assert r.json()["error"]["code"] == "database_unavailable"
        ready = c.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {
            "database": "unreachable",
            "postgis": "unknown",
            "migrations": "unknown",
            "worker": os.getpid(),  # the test client answers in this process
        }


def test_unexpected_error_hides_the_exception() -> None:
    app = create_app(Settings(database_url="postgresql://wangge@127.0.0.1:9/nowhere"))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret SQL: SELECT password FROM users")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom", headers={"X-Request-Id": "abc123"})
    assert r.status_code == 500
    assert r.json() == {
        "error": {"code": "internal_error", "message": "internal error; quote request id abc123"}
    }

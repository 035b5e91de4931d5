"""The embedded cluster and the CLI's one-line failures, on real PostgreSQL processes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.cluster import Cluster
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
WANGGE = [sys.executable, "-m", "api.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGGE_") and k != "DATABASE_URL"}
    env.update(extra)
    return env


def _wangge(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WANGGE, *args], capture_output=True, text=True, cwd=ROOT, env=_env(**env), timeout=120
    )


@pytest.fixture
def scratch_home() -> Iterator[tuple[Path, int]]:
    """A second, throwaway project home with its own cluster and port."""
    home = ROOT / "var" / "test-homes" / uuid.uuid4().hex[:8]
    home.mkdir(parents=True)
    port = _free_port()
    yield home, port
    Cluster(Settings(home=home, pg_port=port)).destroy()
    shutil.rmtree(home, ignore_errors=True)


def test_two_racing_starts_leave_one_healthy_cluster(scratch_home: tuple[Path, int]) -> None:
    home, port = scratch_home
    env = _env(WANGGE_HOME=str(home), WANGGE_PG_PORT=str(port))
    procs = [
        subprocess.Popen(
            [*WANGGE, "db", "up"],
            cwd=ROOT,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    said = sorted("started" if "started" in out else "running" for out, _ in outputs)
    assert said == ["running", "started"], outputs
    status = Cluster(Settings(home=home, pg_port=port)).status()
    assert status.running and status.initialized


def test_stale_pid_file_after_crash_is_handled(scratch_home: tuple[Path, int]) -> None:
    home, port = scratch_home
    cluster = Cluster(Settings(home=home, pg_port=port))
    cluster.up()
    pidfile = cluster.data_dir / "postmaster.pid"
    content = pidfile.read_text().splitlines()
    cluster.down()
    # A crash leaves the pid file behind, and the pid may now be some other process.
    pidfile.write_text("\n".join([str(os.getpid()), *content[1:]]) + "\n")
    result = _wangge("db", "up", WANGGE_HOME=str(home), WANGGE_PG_PORT=str(port))
    assert result.returncode == 0, result.stderr
    assert "stale postmaster.pid" in result.stdout
    assert cluster.status().running


def test_busy_port_names_port_and_setting(scratch_home: tuple[Path, int]) -> None:
    home, port = scratch_home
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        result = _wangge("db", "up", WANGGE_HOME=str(home), WANGGE_PG_PORT=str(port))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"wangge: port {port} on 127.0.0.1 is already in use by another program: "
        "set WANGGE_PG_PORT to a free port (environment or .env)"
    )


def test_unreachable_database_url_is_one_line() -> None:
    result = _wangge("db", "up", DATABASE_URL="postgresql://someone:pw@127.0.0.1:9/nowhere")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(
        "wangge: cannot reach the database at postgresql+psycopg://someone:***@127.0.0.1:9/nowhere"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_refuses_a_database_behind_its_migrations() -> None:
    base = Settings()
    name = f"wangge_behind_{uuid.uuid4().hex[:6]}"
    from sqlalchemy import text

    from api.db import make_engine

    admin = make_engine(base, pool_size=1, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        # on a free port: a user may be running `make run` on the default one meanwhile
        result = _wangge("serve", DATABASE_URL=base.sqlalchemy_url(name), WANGGE_PORT=str(_free_port()))
        assert result.returncode == 1
        assert result.stderr.strip().endswith("run `wangge db upgrade`")
        assert "migration none" in result.stderr
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}"'))
        admin.dispose()


def test_bad_setting_is_one_line() -> None:
    result = _wangge("db", "status", WANGGE_PG_PORT="not-a-port")
    assert result.returncode == 1
    assert result.stderr.startswith("wangge: setting WANGGE_PG_PORT")
    assert "Traceback" not in result.stderr


def test_busy_http_port_names_port_and_setting() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = _wangge("serve", WANGGE_PORT=str(port))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"wangge: port {port} on 127.0.0.1 is already in use by another program: "
        "set WANGGE_PORT to a free port (environment or .env)"
    )

"""The platform behind a real PgBouncer (Debian's, 1.18) in transaction mode.

In transaction mode a client's next transaction may run on another server connection,
so psycopg must not prepare statements (``WANGGE_PREPARED_STATEMENTS=false``); PgBouncer
drops the ``options`` start-up parameter (``ignore_startup_parameters``), so the statement
timeout is set on the role or database instead (docs/scale.md).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from api.settings import Settings
from bench.server import free_port, uvicorn_process


@pytest.fixture
def pgbouncer(test_settings: Settings, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """PgBouncer on a free loopback port in front of the session database; its URL and log."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    assert Path(binary).exists(), "pgbouncer is installed by `make test` (Debian package pgbouncer)"
    target = make_url(test_settings.sqlalchemy_url())
    host = target.query.get("host") or target.host or "127.0.0.1"
    server_port = target.query.get("port") or target.port or 5432
    port = free_port()
    folder = tmp_path / "pgbouncer"
    folder.mkdir()
    password = f" password={target.password}" if target.password else ""
    (folder / "users.txt").write_text(f'"{target.username}" "{target.password or ""}"\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"{target.database} = host={host} port={server_port} dbname={target.database}{password}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 3\nmax_client_conn = 200\n"
        "ignore_startup_parameters = extra_float_digits, options\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
    )
    command = [binary, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer will not run as root
        postgres = pwd.getpwnam("postgres")
        for path in (folder, *folder.iterdir()):  # its log is written into the folder
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
        os.chmod(tmp_path, 0o755)
        for parent in tmp_path.parents:
            os.chmod(parent, parent.stat().st_mode | 0o001)
        command = ["runuser", "-u", "postgres", "--", *command]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"postgresql+psycopg://{target.username}@127.0.0.1:{port}/{target.database}"
        yield url, folder / "pgbouncer.log"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_cases_and_reads_through_pgbouncer_in_transaction_mode(
    pgbouncer: tuple[str, Path], engine: Engine, demo: int
) -> None:
    url, log = pgbouncer
    env = {"DATABASE_URL": url, "WANGGE_PREPARED_STATEMENTS": "false", "WANGGE_POOL_SIZE": "8"}
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    codes: Counter[int] = Counter()
    lock = threading.Lock()
    with uvicorn_process(env) as (base, _):

        def work(k: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                for i in range(15):
                    lon, lat = 120.36 + k * 1e-4, 36.10 + i * 1e-4
                    answers = [
                        http.post(
                            "/api/incidents",
                            json={"source": "wechat", "category": "E0501", "description": f"经连接池 {k}-{i}",
                                  "lon": lon, "lat": lat},
                        ),
                        http.get("/api/locate", params={"lon": lon, "lat": lat, "category": "E0501"}),
                        http.get("/collections/micro_grids/items", params={"limit": 3}),
                        http.get("/api/stats/kpi", params={"by": "street"}),
                    ]  # fmt: skip
                    with lock:
                        codes.update(a.status_code for a in answers)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert codes == {201: 90, 200: 270}, codes
    with engine.connect() as conn:
        filed = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one() - before
    assert filed == 90
    assert "login attempt" in log.read_text()  # the server's connections did go through PgBouncer

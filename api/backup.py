"""``wangge db backup FILE`` and ``wangge db restore FILE``: pg_dump custom format, restored atomically.

The client tools come from the newest PostgreSQL installed with PostGIS (the same
``find_bindir`` the embedded cluster uses); the connection from the settings, given to
them as libpq environment variables so no password shows in a process list.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from api.cluster import find_bindir
from api.settings import Settings
from geo.errors import InvalidInput, SetupError


def _environment(settings: Settings) -> dict[str, str]:
    url = make_url(settings.sqlalchemy_url())
    env = {
        **os.environ,
        "PGDATABASE": url.database or "",
        "PGUSER": url.username or "",
        "PGCONNECT_TIMEOUT": "10",
    }
    host = url.query.get("host") or url.host
    if host:
        env["PGHOST"] = str(host)
    port = url.query.get("port") or url.port
    if port:
        env["PGPORT"] = str(port)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return env


def _run(settings: Settings, tool: str, *args: str) -> None:
    done = subprocess.run(
        [str(find_bindir(settings) / tool), *args], env=_environment(settings), capture_output=True, text=True
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise SetupError(f"{tool} failed: {lines[-1] if lines else 'exit code ' + str(done.returncode)}")


def backup(settings: Settings, path: Path) -> int:
    """Dump the platform's database to ``path`` (custom format, compressed); answers its size in bytes."""
    if path.exists():
        raise InvalidInput(f"{path} exists; give a new file name", field="file")
    _run(settings, "pg_dump", "--format=custom", "--no-owner", f"--file={path}")
    return path.stat().st_size


def restore(settings: Settings, path: Path) -> None:
    """Replace the database's contents with a backup, all or nothing (one transaction)."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field="file")
    with path.open("rb") as handle:
        if handle.read(5) != b"PGDMP":
            raise InvalidInput(f"{path} is not a pg_dump custom-format backup", field="file")
    database = make_url(settings.sqlalchemy_url()).database or ""
    options = ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]
    _run(settings, "pg_restore", *options, f"--dbname={database}", str(path))

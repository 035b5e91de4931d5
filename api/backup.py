"""``wangge db backup FILE`` and ``wangge db restore FILE``: pg_dump custom format, restored atomically,
with the photo store beside it in ``FILE.photos.tar``.

The database is dumped first, then the photo store is archived: photos are content-addressed
and never change, so every photo a dumped row names is in the archive (one uploaded
meanwhile is an extra file, which the sweep removes once it is old and unused). Restoring
puts the database back, then unpacks the archive into the store (files already there are
the same bytes, and stay).

The client tools come from the newest PostgreSQL installed with PostGIS (the same
``find_bindir`` the embedded cluster uses); the connection from the settings, given to
them as libpq environment variables so no password shows in a process list.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
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


def photos_of(path: Path) -> Path:
    """The photo archive that goes with the database backup ``path``."""
    return path.with_name(path.name + ".photos.tar")


def backup(settings: Settings, path: Path) -> int:
    """Dump the platform's database to ``path`` (custom format, compressed) and its photo store
    to ``path.photos.tar``; answers their size in bytes."""
    if path.exists() or photos_of(path).exists():
        raise InvalidInput(f"{path} exists; give a new file name", field="file")
    _run(settings, "pg_dump", "--format=custom", "--no-owner", f"--file={path}")
    partial = photos_of(path).with_suffix(".partial")
    with tarfile.open(partial, "w") as archive:
        if settings.photo_root.is_dir():
            archive.add(settings.photo_root, arcname="photos", filter=_files_only)
    partial.rename(photos_of(path))
    return path.stat().st_size + photos_of(path).stat().st_size


def _files_only(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """Photos and their folders; never a half-written temporary file."""
    return None if Path(info.name).name.startswith(".partial-") else info


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
    archive = photos_of(path)
    if archive.is_file():
        settings.photo_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as photos:
            members = [m for m in photos.getmembers() if m.name.startswith("photos/") and m.isfile()]
            for m in members:
                m.name = m.name.removeprefix("photos/")
            photos.extractall(settings.photo_root, members=members, filter="data")

"""The embedded PostGIS cluster: a PostgreSQL data folder inside the project.

Used when no ``DATABASE_URL`` is set. The cluster lives in ``var/pg`` (ignored by
git), listens on a unix socket in ``var/pg/run`` and on 127.0.0.1:``WANGGE_PG_PORT``.
As root the server runs as the ``postgres`` system user (PostgreSQL refuses to run
as root). Every state change happens under an exclusive file lock, so two commands
racing to start it cannot corrupt it; a ``postmaster.pid`` left by a crash is
recognised as stale and removed.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from api.settings import Settings
from geo.errors import SetupError

SUPERUSER = "wangge"
INSTALL_HINT = "sudo apt-get install -y postgresql postgis postgresql-postgis"


def find_bindir(settings: Settings) -> Path:
    """The newest PostgreSQL ``bin`` folder whose server has the PostGIS extension."""
    if settings.pg_bindir is not None:
        if not (settings.pg_bindir / "pg_ctl").exists():
            raise SetupError(f"WANGGE_PG_BINDIR={settings.pg_bindir} has no pg_ctl in it")
        return settings.pg_bindir
    found: list[tuple[int, Path]] = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        version = bindir.parent.name
        control = Path(f"/usr/share/postgresql/{version}/extension/postgis.control")
        if version.isdigit() and (bindir / "pg_ctl").exists() and control.exists():
            found.append((int(version), bindir))
    if not found:
        raise SetupError(
            f"PostgreSQL with PostGIS is not installed: run `{INSTALL_HINT}` "
            "(or set DATABASE_URL to an existing PostGIS server)"
        )
    return max(found)[1]


def check_port_free(host: str, port: int, setting: str) -> None:
    """Fail with one line naming the port and the setting to change when ``port`` is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SetupError(
                f"port {port} on {host} is already in use by another program: "
                f"set {setting} to a free port (environment or .env)"
            ) from exc


@dataclass(frozen=True)
class ClusterStatus:
    """What ``wangge db status`` reports about the embedded cluster."""

    initialized: bool
    running: bool
    pid: int | None
    port: int
    socket_dir: Path
    data_dir: Path


class Cluster:
    """The project-local PostgreSQL cluster described by ``settings``."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = settings.pg_dir
        self.data_dir = self.root / "data"
        self.socket_dir = settings.pg_socket_dir
        self.log_dir = self.root / "log"
        self.port = settings.pg_port
        self.as_root = os.geteuid() == 0

    # -- running commands as the server's user -------------------------------------

    def _server_user(self) -> pwd.struct_passwd | None:
        """The ``postgres`` account when running as root, else None (run as ourselves)."""
        if not self.as_root:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError as exc:
            raise SetupError(
                f"running as root needs the `postgres` system user: run `{INSTALL_HINT}`"
            ) from exc

    def _run(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(a) for a in args]
        if self._server_user() is not None:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            last = detail[-1] if detail else "no output"
            raise SetupError(f"{Path(args[0]).name} failed: {last}")
        return result

    def _give_to_server(self, *paths: Path) -> None:
        user = self._server_user()
        for path in paths:
            path.mkdir(parents=True, exist_ok=True)
            if user is not None:
                os.chown(path, user.pw_uid, user.pw_gid)

    def _ensure_reachable_by_server(self) -> None:
        """Let ``postgres`` traverse to the project folder (e.g. a 0700 temp clone)."""
        if self._server_user() is None:
            return
        probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(self.root)], check=False)
        if probe.returncode == 0:
            return
        for parent in [self.root, *self.root.parents]:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)
                print(f"wangge: allowed the postgres user to traverse {parent} (chmod o+x)")

    # -- locking and pid files --------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the cluster's exclusive lock; a second ``db up`` waits here."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _live_pid(self) -> int | None:
        """The postmaster's pid if one is running on our data folder, else None.

        A ``postmaster.pid`` whose process is gone, or whose pid now belongs to some
        other process (common after a container restart), is stale and removed.
        """
        pidfile = self.data_dir / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            if Path(os.readlink(f"/proc/{pid}/cwd")).resolve() == self.data_dir.resolve():
                return pid
        except OSError:
            pass
        pidfile.unlink(missing_ok=True)
        for lock in self.socket_dir.glob(".s.PGSQL.*"):
            lock.unlink(missing_ok=True)
        print(f"wangge: removed a stale postmaster.pid (pid {pid} is not our server)")
        return None

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def status(self) -> ClusterStatus:
        return ClusterStatus(
            initialized=self.initialized,
            running=self._live_pid() is not None,
            pid=self._live_pid(),
            port=self.port,
            socket_dir=self.socket_dir,
            data_dir=self.data_dir,
        )

    def up(self) -> bool:
        """Initialise and start the cluster and create the database; True if it started."""
        bindir = find_bindir(self.settings)
        with self._locked():
            self._ensure_reachable_by_server()
            self._give_to_server(self.root / "data", self.socket_dir, self.log_dir)
            if not self.initialized:
                self._initdb(bindir)
            started = False
            if self._live_pid() is None:
                check_port_free("127.0.0.1", self.port, "WANGGE_PG_PORT")
                self._start(bindir)
                started = True
            self._ensure_database()
        return started

    def _initdb(self, bindir: Path) -> None:
        if any(self.data_dir.iterdir()):
            raise SetupError(f"{self.data_dir} holds files but no cluster: move it away and run again")
        self._run(
            bindir / "initdb",
            "-D",
            self.data_dir,
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        )

    def _start(self, bindir: Path) -> None:
        # wal_keep_size: a standby (`wangge db replica up`) that stops for a while catches up
        options = (
            f"-k {self.socket_dir} -p {self.port} -c listen_addresses=127.0.0.1 "
            "-c shared_buffers=256MB -c max_connections=200 -c fsync=on -c wal_keep_size=1GB"
        )
        result = self._run(
            bindir / "pg_ctl",
            "-D",
            self.data_dir,
            "-l",
            self.log_dir / "server.log",
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )
        if result.returncode != 0:
            tail = self._log_tail()
            raise SetupError(f"the embedded PostgreSQL did not start: {tail}")

    def _log_tail(self) -> str:
        try:
            lines = (self.log_dir / "server.log").read_text(errors="replace").splitlines()
        except OSError:
            return "no server log"
        errors = [ln for ln in lines if re.search(r"FATAL|ERROR|PANIC", ln)]
        return (errors or lines or ["no server log"])[-1].strip()

    def connect_admin(self) -> psycopg.Connection:
        """An autocommit connection to the maintenance database ``postgres``."""
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        )

    def _ensure_database(self) -> None:
        """Create the platform's database and give the role a password for TCP clients."""
        name = self.settings.db_name
        password_file = self.root / "password"
        with self.connect_admin() as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            if not password_file.exists():
                password = secrets.token_urlsafe(18)
                statement = sql.SQL("ALTER ROLE {} PASSWORD {}")
                conn.execute(statement.format(sql.Identifier(SUPERUSER), sql.Literal(password)))
                password_file.write_text(password + "\n")
                password_file.chmod(0o600)

    def down(self) -> bool:
        """Stop the cluster if it runs; True if it was running."""
        bindir = find_bindir(self.settings)
        with self._locked():
            if self._live_pid() is None:
                return False
            self._run(bindir / "pg_ctl", "-D", self.data_dir, "-m", "fast", "-w", "stop")
            return True

    def destroy(self) -> None:
        """Stop the cluster and delete its data folder (used by ``wangge db reset``)."""
        self.down()
        with self._locked():
            shutil.rmtree(self.data_dir, ignore_errors=True)


class Standby(Cluster):
    """A streaming hot standby of the embedded cluster: ``wangge db replica up``.

    Made once with ``pg_basebackup -X stream -R`` (which writes ``standby.signal`` and the
    primary's connection), then started and stopped like the primary, on its own port and
    socket folder. Read-only; it follows the primary over the replication protocol, and a
    standby that was down catches up from the WAL the primary keeps (``wal_keep_size``).
    """

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.primary = Cluster(settings)
        self.root = settings.pg_replica_dir
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_dir = self.root / "log"
        self.port = settings.pg_replica_port

    def up(self) -> bool:
        """Copy the primary (the first time) and start the standby; True if it started."""
        bindir = find_bindir(self.settings)
        with self._locked():
            self._ensure_reachable_by_server()
            self._give_to_server(self.root, self.socket_dir, self.log_dir)
            if not self.initialized:  # pg_basebackup makes the data folder (0700, the server's)
                if self.primary.status().pid is None:
                    raise SetupError("the embedded cluster is not running: run `wangge db up` first")
                shutil.rmtree(self.data_dir, ignore_errors=True)  # a copy cut short: start again
                self._run(
                    bindir / "pg_basebackup",
                    "-D", self.data_dir, "-h", self.primary.socket_dir, "-p", str(self.primary.port),
                    "-U", SUPERUSER, "-X", "stream", "-R", "-c", "fast",
                )  # fmt: skip
            if self._live_pid() is not None:
                return False
            check_port_free("127.0.0.1", self.port, "WANGGE_PG_REPLICA_PORT")
            self._start(bindir)
        return True

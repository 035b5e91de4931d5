"""The platform served by a real uvicorn in its own process on a free loopback port (tests and bench)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def uvicorn_server(
    env: dict[str, str], warm_path: str = "/api/locate?lon=120.36&lat=36.1", workers: int = 1
) -> Iterator[str]:
    """Serve with ``env`` (naming its ``DATABASE_URL``) on top of ours (rate limits and the report
    throttle off: the client is one caller); yield the base URL once ``/readyz`` answers 200 and
    the locator is warm."""
    with uvicorn_process(env, warm_path, workers) as (base, _):
        yield base


@contextmanager
def uvicorn_process(
    env: dict[str, str], warm_path: str = "/api/locate?lon=120.36&lat=36.1", workers: int = 1, cores: str = ""
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``uvicorn_server`` that also yields the server's process (pinned to ``cores`` if given).
    ``env`` must say its ``DATABASE_URL`` (empty: the embedded cluster of its ``WANGGE_HOME``), so
    that no bench or test serves the developer's own database by leaving it out."""
    if "DATABASE_URL" not in env:
        raise ValueError("uvicorn_process: env must name the DATABASE_URL it serves")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    full = {
        **os.environ,
        "WANGGE_RATE_LIMIT_PER_MIN": "0",
        "WANGGE_REPORT_PER_HOUR": "0",
        "WANGGE_BASE_URL": base,
        **env,
    }
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(port),
               "--log-level", "warning", "--no-access-log", "--workers", str(workers)]  # fmt: skip
    if cores:
        command = ["taskset", "-c", cores, *command]
    proc = subprocess.Popen(command, env=full, cwd=ROOT)
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    httpx.get(f"{base}{warm_path}", timeout=60)
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        else:
            raise RuntimeError("the server did not become ready in 60 s")
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)

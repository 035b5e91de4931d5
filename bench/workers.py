"""Several workers: `GET /api/locate` at saturation with one and two uvicorn workers, the load
generator pinned to a core of its own, and the server's CPU time per request (from /proc), from
which the throughput of a machine with more cores follows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import shapely
from sqlalchemy import Engine

from api.settings import Settings
from bench.server import ROOT, uvicorn_process
from layers.grid.holder import IndexHolder

TICK = os.sysconf("SC_CLK_TCK")
OFFERED = 6000  # req/s offered: above what one core serves, so "achieved" is the capacity
STEADY = 1000  # req/s well below it: the CPU a request costs without a backlog
SECONDS = 10


def _cpu_seconds(root: int) -> float:
    """User + system CPU seconds of ``root`` and every process below it (uvicorn's workers)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        stats[pid] = fields
        children.setdefault(int(fields[1]), []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += (int(stats[pid][11]) + int(stats[pid][12])) / TICK
        todo.extend(children.get(pid, []))
    return total


def _load(port: int, paths: list[str], core: str, rate: int) -> dict[str, float]:
    out = subprocess.run(
        ["taskset", "-c", core, sys.executable, "-m", "bench.loadgen", "127.0.0.1", str(port), str(rate),
         str(SECONDS), *paths],
        capture_output=True, text=True, cwd=ROOT, timeout=SECONDS + 120,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout)


def bench_workers(settings: Settings, engine: Engine) -> list[str]:
    index = IndexHolder(engine, check_s=600, cell_m=settings.locate_cell_m).get()
    rng = np.random.default_rng(21)
    x0, y0, x1, y1 = shapely.total_bounds(index.locator.polygons)
    paths = [
        f"/api/locate?lon={x:.6f}&lat={y:.6f}"
        for x, y in zip(rng.uniform(x0, x1, 2000), rng.uniform(y0, y1, 2000), strict=True)
    ]
    rows = []
    runs = (
        (1, "0", "1", STEADY, f"1 worker on core 0 at {STEADY:,} req/s (below capacity: the CPU cost)"),
        (1, "0", "1", OFFERED, "1 worker on core 0, load generator on core 1 — baseline"),
        (2, "0", "1", OFFERED, "2 workers on core 0, load generator on core 1"),
        (2, "0,1", "1", OFFERED, "2 workers on both cores, load generator sharing core 1"),
    )
    cost = 0.0
    baseline = 0.0
    for workers, cores, load_core, rate, label in runs:
        env = {"DATABASE_URL": settings.sqlalchemy_url()}
        with uvicorn_process(env, workers=workers, cores=cores) as (base, proc):
            for _ in range(4 * workers):  # every worker's index warm
                with httpx.Client(base_url=base, timeout=60) as fresh:
                    fresh.get(paths[0])
            time.sleep(2)
            port = int(base.rsplit(":", 1)[1])
            cpu = _cpu_seconds(proc.pid)
            result = _load(port, paths, load_core, rate)
            cpu = _cpu_seconds(proc.pid) - cpu
        done = result["sent"] - result["errors"]
        achieved = result["achieved_rps"]
        if rate != STEADY and not baseline:
            baseline, cost = achieved, cpu / max(done, 1)
        ratio = f"{achieved / baseline:.2f}×" if rate != STEADY else "—"
        rows.append(
            f"| {label} | {achieved:,.0f} | {ratio} | {result['p50_ms']:.1f} | "
            f"{result['p99_ms']:.0f} | {cpu / max(done, 1) * 1e6:.0f} µs |"
        )
    return [
        f"`GET /api/locate` offered at {OFFERED:,} req/s for {SECONDS} s (open loop; more than one core serves), "
        "random points over the district. Workers share the rate-limit buckets (a memory-mapped file), poll the "
        "active generation and the layer versions (tiles, index), and keep sessions in PostgreSQL.",
        "",
        "| server | achieved req/s | vs 1 worker | p50 ms | p99 ms | server CPU per request |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"This machine has two cores, so the load generator cannot be pinned apart from two busy workers: "
        f"the rows pinned to one core show what a second process costs on the same core, the CPU per request "
        f"what a core buys (at saturation the latencies are the backlog's). At {cost * 1e6:.0f} µs of server CPU "
        f"a request at capacity (more below it: an idle loop wakes for each request), each further core serves about "
        f"{1 / cost:,.0f} locate requests a second; N workers on N free cores ≈ N × that, the database not being "
        "on this path (the index is in each worker's memory).",
    ]

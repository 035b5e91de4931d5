"""A read replica: tile and OGC item reads with one worker on the primary vs on a streaming standby
(`wangge db replica up` of the same cluster, the tile cache off so every tile is a query), and
the standby's lag while cases are filed through the API."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
from sqlalchemy import Engine

from api.cluster import Standby
from api.db import Replica, make_engine
from api.settings import Settings
from bench.server import ROOT, free_port, uvicorn_process
from bench.tiles import district_tiles
from bench.workers import _load

RATE = 250  # req/s offered: below what one worker serves of these reads, so latencies mean something
SECONDS = 10


def _paths(engine: Engine) -> list[str]:
    rng = np.random.default_rng(31)
    tiles = [
        f"/tiles/micro_grids/{z}/{x}/{y}.mvt" for z in (14, 15) for x, y in district_tiles(engine, z, rng)
    ]
    boxes = []
    for _ in range(200):
        x, y = rng.uniform(120.33, 120.40), rng.uniform(36.07, 36.13)
        boxes.append(
            f"/collections/micro_grids/items?bbox={x:.4f},{y:.4f},{x + 0.004:.4f},{y + 0.004:.4f}&limit=20"
        )
    paths = tiles + boxes
    rng.shuffle(paths)
    return paths


def bench_replica(settings: Settings, engine: Engine) -> list[str]:
    here = settings.model_copy(
        update={"pg_replica_port": free_port(), "pg_replica_home": settings.pg_dir / "replica-bench"}
    )
    standby = Standby(here)
    standby.destroy()
    t = time.perf_counter()
    standby.up()
    copy_s = time.perf_counter() - t
    paths = _paths(engine)
    base_env = {"DATABASE_URL": settings.sqlalchemy_url(), "WANGGE_TILE_CACHE_MB": "0"}
    rows = []
    try:
        results = {}
        for label, extra in (
            ("primary only — baseline", {}),
            ("stale reads on the standby", {"WANGGE_REPLICA_URL": here.embedded_replica_url()}),
        ):
            with uvicorn_process({**base_env, **extra}, cores="0") as (base, _):
                port = int(base.rsplit(":", 1)[1])
                _load(port, paths[:50], "1", 50)  # warm
                results[label] = _load(port, paths, "1", RATE)
        first = next(iter(results.values()))
        for label, r in results.items():
            rows.append(
                f"| {label} | {r['achieved_rps']:,.0f} | {r['achieved_rps'] / first['achieved_rps']:.2f}× | "
                f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} |"
            )
        # the standby's lag while cases are filed (writes on the primary), checked every 100 ms
        check = Replica(make_engine(here, url=here.embedded_replica_url(), pool_size=1), 3600, 0.1)
        lags: list[float] = []
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                check.check()
                if check.lag_s is not None:
                    lags.append(check.lag_s)
                time.sleep(0.1)

        env = {**base_env, "WANGGE_REPLICA_URL": here.embedded_replica_url()}
        with uvicorn_process(env, warm_path="/healthz") as (base, _):
            poller = threading.Thread(target=poll)
            poller.start()
            out = subprocess.run(
                [sys.executable, "-m", "bench.intake_load", base, str(SECONDS), "16", f"replica-{time.time_ns()}"],
                capture_output=True, text=True, cwd=ROOT, timeout=SECONDS + 200,
            )  # fmt: skip
            stop.set()
            poller.join()
        check.engine.dispose()
        intake = json.loads(out.stdout)
        filed = len(intake["acknowledged"])
    finally:
        standby.destroy()
    lag = np.array(lags or [float("nan")])
    return [
        f"One worker pinned to a core, the load generator on the other; the standby is a "
        f"`pg_basebackup` copy of the same cluster on the same machine (made in {copy_s:.1f} s), so this "
        "measures the routing, not a second machine's capacity. Tile cache off: every tile is a query. "
        f"{len(paths)} paths: micro-grid tiles at z14–15 and OGC `items` in small boxes, offered at {RATE} req/s "
        f"for {SECONDS} s.",
        "",
        "| reads | achieved req/s | vs primary | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Replica lag while {filed:,} cases were filed through the API in {SECONDS} s "
        f"({filed / SECONDS:,.0f}/s, 16 clients): median {np.median(lag):.2f} s, p99 "
        f"{np.percentile(lag, 99):.2f} s, max {lag.max():.2f} s over {len(lags)} checks "
        "(0 when the standby has replayed all it received).",
    ]

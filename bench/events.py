"""Camera events: batches of 10,000 through `POST /api/events` (acknowledged = stored), then
folded into cases by the worker's fold — beside the bare INSERT of the same rows in the same run."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import numpy as np
import orjson
from sqlalchemy import Engine, text

from api.settings import Settings
from bench.server import uvicorn_server
from layers.accounts import users
from layers.cases import camera_events, categories
from layers.cases.worktime import WorkHours
from layers.grid.holder import IndexHolder

BATCHES, PER_BATCH, CLIENTS = 20, 10_000, 2


def _batches(camera: str, run: str) -> list[bytes]:
    """Bodies already encoded: the client's JSON work is not the server's."""
    rng = np.random.default_rng(8)
    spots = np.c_[rng.uniform(120.35, 120.40, 40), rng.uniform(36.07, 36.12, 40)]  # 40 scenes
    at = datetime.now(UTC).isoformat()
    out = []
    for b in range(BATCHES):
        pick = rng.integers(0, len(spots), PER_BATCH)
        events = [
            {"event_id": f"{run}-{b}-{k}", "camera_id": camera, "category": "E0508", "at": at,
             "lon": float(spots[s, 0]), "lat": float(spots[s, 1]), "confidence": 0.8}
            for k, s in enumerate(pick.tolist())
        ]  # fmt: skip
        out.append(orjson.dumps({"events": events}))
    return out


def bench_events(settings: Settings, engine: Engine) -> list[str]:
    run = f"bench-{time.time_ns()}"
    with engine.begin() as conn:
        camera = conn.execute(
            text(
                "SELECT id FROM assets WHERE kind = 'camera' AND attributes @> '{\"ai\": true}' ORDER BY id LIMIT 1"
            )
        ).scalar_one()
        users.add(conn, run, "viewer", None)
        key = users.new_api_key(conn, run, "bench")
    bodies = _batches(camera, run)
    total = BATCHES * PER_BATCH
    with uvicorn_server({"DATABASE_URL": settings.sqlalchemy_url()}, warm_path="/healthz") as base:

        def post(body: bytes, expect: int = PER_BATCH) -> float:
            with httpx.Client(base_url=base, timeout=120, headers={"X-API-Key": key}) as http:
                t = time.perf_counter()
                r = http.post("/api/events", content=body, headers={"Content-Type": "application/json"})
                r.raise_for_status()
                assert r.json()["stored"] == expect, r.text[:300]
                return time.perf_counter() - t

        post(orjson.dumps({"events": []}), 0)  # warm
        t = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            latencies = list(pool.map(post, bodies))
        http_s = time.perf_counter() - t
    # the bare statement the API ends in, for the same number of rows, without HTTP or checks
    with engine.begin() as conn:
        t = time.perf_counter()
        conn.execute(
            text(
                "INSERT INTO event_inbox (source, event_id, at, camera_id, category, lon, lat, confidence) "
                "SELECT :source, 'bare-' || g, now(), :camera, 'E0508', 120.36, 36.1, 0.8 FROM generate_series(1, :n) g"
            ),
            {"source": f"{run}-bare", "camera": camera, "n": total},
        )
        bare_s = time.perf_counter() - t
        conn.execute(text("DELETE FROM event_inbox WHERE source = :s"), {"s": f"{run}-bare"})
    index = IndexHolder(engine, check_s=600, cell_m=settings.locate_cell_m).get()
    hours = WorkHours.parse(settings.work_hours)
    folded = created = 0
    t = time.perf_counter()
    while True:
        with engine.begin() as conn:
            done = camera_events.fold(conn, index, categories.load(conn), hours, settings.events_batch)
        if not done.events:
            break
        folded += done.folded
        created += done.created
    fold_s = time.perf_counter() - t
    return [
        f"{BATCHES} batches of {PER_BATCH:,} events ({total:,}; 40 scenes in the district) from {CLIENTS} clients, "
        "one uvicorn worker; then the worker's fold over the backlog, "
        f"{settings.events_batch:,} events a transaction.",
        "",
        "| what | events/s | vs bare INSERT |",
        "|---|---:|---:|",
        f"| bare `INSERT … SELECT` of {total:,} inbox rows in one statement — baseline | {total / bare_s:,.0f} | 1.0× |",
        f"| **`POST /api/events`, acknowledged (checked, converted, stored)** | **{total / http_s:,.0f}** | "
        f"**{bare_s / http_s:.2f}×** |",
        f"| **folded into cases** ({created} cases filed, {folded:,} events added to them) | **{total / fold_s:,.0f}** | "
        f"{bare_s / fold_s:.2f}× |",
        "",
        f"A batch of {PER_BATCH:,} took {np.median(latencies):.2f} s (median) to acknowledge.",
    ]

"""Vector tiles over HTTP beside tipg serving the same table in the same run, and the map's first render.

tipg runs from its own virtualenv (``.venv-tipg``, made by ``make bench``: its FastAPI pin
differs from ours) against the same scratch database, with the same tile buffer (64) and
asked for the same properties (code, name) of the same rows (active generation's micro-grids).
"""

from __future__ import annotations

import math
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import Engine, text

from api.settings import Settings
from bench.server import free_port, uvicorn_server

ROOT = Path(__file__).resolve().parents[1]
TIPG = ROOT / ".venv-tipg" / "bin" / "uvicorn"
ZOOMS = range(12, 17)
PER_ZOOM = 150


def district_tiles(engine: Engine, z: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Tiles at ``z`` over the district's bounding box (a random sample of at most PER_ZOOM)."""
    with engine.connect() as conn:
        x0, y0, x1, y1 = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM areas "
                "WHERE level = 'district' AND generation = (SELECT id FROM generations WHERE status = 'active')) s"
            )
        ).one()
    n = 2**z

    def tx(lon: float) -> int:
        return int((lon + 180) / 360 * n)

    def ty(lat: float) -> int:
        return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    tiles = [(x, y) for x in range(tx(x0), tx(x1) + 1) for y in range(ty(y1), ty(y0) + 1)]
    if len(tiles) > PER_ZOOM:
        tiles = [tiles[i] for i in sorted(rng.choice(len(tiles), PER_ZOOM, replace=False))]
    return tiles


def fetch_all(client: httpx.Client, urls: list[str]) -> tuple[list[float], int]:
    times, size = [], 0
    for url in urls:
        t = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
        size += len(r.content)
    return times, size


def tipg_url(settings: Settings, engine: Engine) -> str:
    """A URL tipg (asyncpg, which wants a host) can use: the embedded cluster listens on a Unix
    socket without a password and on 127.0.0.1 with one, so a read-only role with a password is made."""
    if not settings.embedded:
        return settings.sqlalchemy_url().replace("postgresql+psycopg://", "postgresql://")
    password = secrets.token_hex(12)
    database = engine.url.database
    with engine.begin() as conn:
        conn.execute(text("DROP ROLE IF EXISTS wangge_bench_tipg"))
        conn.execute(text(f"CREATE ROLE wangge_bench_tipg LOGIN PASSWORD '{password}'"))
        conn.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO wangge_bench_tipg'))
        conn.execute(text("GRANT USAGE ON SCHEMA public TO wangge_bench_tipg"))
        conn.execute(text("GRANT SELECT ON ALL TABLES IN SCHEMA public TO wangge_bench_tipg"))
    return f"postgresql://wangge_bench_tipg:{password}@127.0.0.1:{settings.pg_port}/{database}"


def drop_tipg_role(settings: Settings, engine: Engine) -> None:
    if settings.embedded:
        with engine.begin() as conn:
            conn.execute(text("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM wangge_bench_tipg"))
            conn.execute(text("REVOKE ALL ON SCHEMA public FROM wangge_bench_tipg"))
            conn.execute(text(f'REVOKE ALL ON DATABASE "{engine.url.database}" FROM wangge_bench_tipg'))
            conn.execute(text("DROP ROLE IF EXISTS wangge_bench_tipg"))


@contextmanager
def tipg_server(settings: Settings, engine: Engine) -> Iterator[str]:
    port = free_port()
    url = tipg_url(settings, engine)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.areas"]',
        "TIPG_TILE_BUFFER": "64",
        "TIPG_MAX_FEATURES_PER_TILE": "100000",
    }
    process = subprocess.Popen(
        [str(TIPG), "tipg.main:app", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/collections", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError(
                "tipg did not start: " + (process.stderr.read(2000) if process.stderr else b"").decode()
            )
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        drop_tipg_role(settings, engine)


def _pct(times: list[float], q: float) -> float:
    return float(np.percentile(times, q))


def bench_tiles(settings: Settings, engine: Engine) -> list[str]:
    rng = np.random.default_rng(14)
    with engine.connect() as conn:
        generation = conn.execute(text("SELECT id FROM generations WHERE status = 'active'")).scalar_one()
    tiles = {z: district_tiles(engine, z, rng) for z in ZOOMS}
    rows = []
    ours: dict[int, dict[str, float]] = {}
    with (
        uvicorn_server({"DATABASE_URL": settings.sqlalchemy_url()}) as base,
        httpx.Client(base_url=base) as client,
    ):
        client.get("/tiles").raise_for_status()
        for z in ZOOMS:
            urls = [f"/tiles/micro_grids/{z}/{x}/{y}.mvt" for x, y in tiles[z]]
            cold, size = fetch_all(client, urls)
            cached, _ = fetch_all(client, urls)
            ours[z] = {"cold": cold, "cached": cached, "size": size}  # type: ignore[dict-item]
    theirs: dict[int, dict[str, float]] = {}
    if not TIPG.exists():
        note = "tipg was not measured: `.venv-tipg` is missing (`make bench` makes it)."
    else:
        note = ""
        query = f"properties=code,name&geom-column=geom&level=micro_grid&generation={generation}"
        with tipg_server(settings, engine) as base, httpx.Client(base_url=base, timeout=60) as client:
            for z in ZOOMS:
                urls = [
                    f"/collections/public.areas/tiles/WebMercatorQuad/{z}/{x}/{y}?{query}"
                    for x, y in tiles[z]
                ]
                fetch_all(client, urls[:5])  # its connection pool and catalogue warm
                first, size = fetch_all(client, urls)
                theirs[z] = {"times": first, "size": size}  # type: ignore[dict-item]
    for z in ZOOMS:
        o = ours[z]
        line = (
            f"| z{z} ({len(tiles[z])} tiles) | {_pct(o['cold'], 50):.2f} | {_pct(o['cold'], 95):.2f} | "
            f"{_pct(o['cached'], 50):.2f} | {_pct(o['cached'], 95):.2f} | {o['size'] / 1024:,.0f} |"
        )
        if z in theirs:
            t = theirs[z]
            line += (
                f" {_pct(t['times'], 50):.2f} | {_pct(t['times'], 95):.2f} | {t['size'] / 1024:,.0f} | "
                f"{_pct(o['cold'], 95) / _pct(t['times'], 95):.2f}× |"
            )
        else:
            line += " – | – | – | – |"
        rows.append(line)
    return [
        "Micro-grid tiles (7,082 polygons) over the district's bounding box, at most "
        f"{PER_ZOOM} per zoom, fetched one after another over HTTP (keep-alive) from one worker; "
        "cold = first request of each tile (rendered by PostGIS), cached = the same tiles again. "
        "tipg 1.6.1 serves the same table (`public.areas`, filtered to the same rows, "
        "`properties=code,name`, buffer 64) in the same run; it has no tile cache.",
        "",
        "| zoom | wangge cold p50 ms | cold p95 | cached p50 | cached p95 | wangge KiB | tipg p50 ms | "
        "tipg p95 | tipg KiB | cold p95 / tipg p95 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        *([note] if note else []),
        "wangge simplifies polygons to half a screen pixel of the zoom and reads a pre-projected, indexed "
        "`geom_3857`; tipg transforms every geometry per request.",
    ]


def bench_first_render(settings: Settings) -> list[str]:
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    out = {}
    with uvicorn_server({"DATABASE_URL": settings.sqlalchemy_url()}) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        for label, path, ready in (
            ("map `/` (dispatcher view, z13)", "/#z=13", "body[data-map-ready='true']"),
            (
                "asset page `/a/3702030102000123` — baseline",
                "/a/3702030102000123",
                "body[data-map-ready='true']",
            ),
        ):
            times = []
            for _ in range(5):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                t = time.perf_counter()
                page.goto(base + path)
                page.wait_for_selector(ready, timeout=30_000)
                page.wait_for_load_state("networkidle")
                times.append((time.perf_counter() - t) * 1000)
                page.close()
            out[label] = float(np.median(times))
        browser.close()
    return [
        "Headless Chromium on the same machine, a fresh page each time, median of 5: from navigation to "
        "the page's data drawn and the network idle (tiles included).",
        "",
        "| page | ms |",
        "|---|---:|",
        *[f"| {label} | {ms:,.0f} |" for label, ms in out.items()],
    ]

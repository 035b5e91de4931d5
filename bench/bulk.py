"""Point files in bulk, end to end: a million-point CSV over HTTP, Parquet through ``wangge locate
--file``, and a hundred million points on Dask — each beside the in-process shapely STRtree and the
in-process ``Locator`` on the same points, measured in the same run."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely
from sqlalchemy import Engine

from api.settings import Settings
from bench.server import ROOT, uvicorn_server
from bench.timing import median_time
from layers.grid.holder import IndexHolder
from layers.grid.index import AreaIndex

HTTP_POINTS = 1_000_000
CLI_POINTS = 10_000_000
DASK_POINTS = 100_000_000
_SUMMARY = re.compile(
    r"located ([\d,]+) of ([\d,]+) points .* in ([\d.]+) s \(([\d,]+) points/s; the index took ([\d.]+) s"
)


def _points(index: AreaIndex, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points where cases happen: uniform over the district's micro-grids, one in a hundred
    moved ~100 m (some then fall outside and get the nearest micro-grid and the metres)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = shapely.total_bounds(index.locator.polygons)
    lon, lat = np.empty(0), np.empty(0)
    while len(lon) < n:
        x, y = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
        keep = index.locator.locate(x, y) >= 0
        lon, lat = np.r_[lon, x[keep]], np.r_[lat, y[keep]]
    lon, lat = lon[:n], lat[:n]
    lon[::100] += 0.0012
    return lon, lat


def _baselines(index: AreaIndex, lon: np.ndarray, lat: np.ndarray) -> tuple[float, float]:
    """Seconds for the in-process STRtree (`query(predicate='intersects')`) and the Locator."""
    tree = shapely.STRtree(index.locator.polygons)
    pts = shapely.points(lon, lat)
    tree_s = median_time(lambda: tree.query(pts, predicate="intersects"), repeat=3)
    locator_s = median_time(lambda: index.locator.locate(lon, lat), repeat=3)
    return tree_s, locator_s


def _healthz_poll(base: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            t = time.perf_counter()
            client.get(f"{base}/healthz")
            out.append(time.perf_counter() - t)
            time.sleep(0.02)


def _http(settings: Settings, lon: np.ndarray, lat: np.ndarray, work: Path) -> tuple[float, int, float, int]:
    """Median seconds of a 1M-point CSV in, CSV out over HTTP (served from the bench's database),
    the answer's bytes, /healthz p99 during.

    The client is curl (C): a Python client reading 100 MB would measure itself, not the server.
    """
    pacsv.write_csv(pa.table({"lon": lon, "lat": lat}), work / "http.csv")
    times: list[float] = []
    health: list[float] = []
    size = 0
    with uvicorn_server({"DATABASE_URL": settings.sqlalchemy_url()}) as base:
        curl = ["curl", "-sS", "-o", str(work / "answer.csv"), "-w", "%{size_download}", "-H", "Content-Type: text/csv",
                "-H", "Accept: text/csv", "--data-binary", f"@{work / 'http.csv'}", f"{base}/api/locate/batch"]  # fmt: skip
        subprocess.run(curl, check=True, capture_output=True)
        stop = threading.Event()
        poller = threading.Thread(target=_healthz_poll, args=(base, stop, health))
        poller.start()
        try:
            for _ in range(3):
                t = time.perf_counter()
                size = int(subprocess.run(curl, check=True, capture_output=True, text=True).stdout)
                times.append(time.perf_counter() - t)
        finally:
            stop.set()
            poller.join()
    return statistics.median(times), size, float(np.percentile(health, 99)), len(health)


def _cli(settings: Settings, *args: str, cores: str | None = None) -> tuple[float, float, float]:
    """Run ``wangge locate``; its locating seconds, index seconds, and the whole process's seconds."""
    command = [sys.executable, "-m", "api.cli", "locate", *args]
    if cores is not None:
        command = ["taskset", "-c", cores, *command]
    env = {**os.environ, "DATABASE_URL": settings.sqlalchemy_url()}
    t = time.perf_counter()
    run = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT, timeout=3600)
    wall = time.perf_counter() - t
    found = _SUMMARY.search(run.stderr)
    if run.returncode != 0 or found is None:
        raise RuntimeError(f"wangge locate failed: {run.stderr[-2000:]}")
    return float(found.group(3)), float(found.group(5)), wall


def _same_answers(one: Path, many: Path) -> int:
    """Rows compared between a Parquet answer and a Dask dataset of parts (streamed, bounded memory)."""
    parts = sorted(many.glob("*.parquet"))
    left = pq.ParquetFile(one).iter_batches(batch_size=1_000_000, columns=["micro_grid", "distance_m"])
    right = (
        b
        for p in parts
        for b in pq.ParquetFile(p).iter_batches(batch_size=1_000_000, columns=["micro_grid", "distance_m"])
    )
    compared = 0
    buffer: list[pa.RecordBatch] = []
    for batch in left:
        need = batch.num_rows
        while sum(b.num_rows for b in buffer) < need:
            buffer.append(next(right))
        joined = pa.Table.from_batches(buffer).combine_chunks()
        head, rest = joined.slice(0, need), joined.slice(need)
        buffer = rest.to_batches()
        for column in ("micro_grid", "distance_m"):
            a = batch.column(column)
            b = head.column(column).combine_chunks()
            if pa.types.is_dictionary(a.type):
                a = a.dictionary_decode()
            if pa.types.is_dictionary(b.type):
                b = b.dictionary_decode()
            if not a.equals(b):
                raise AssertionError(f"Dask answers differ from the single process near row {compared:,}")
        compared += need
    return compared


def bench_bulk(settings: Settings, engine: Engine) -> list[str]:
    index = IndexHolder(engine, check_s=600, cell_m=settings.locate_cell_m).get()
    lon, lat = _points(index, HTTP_POINTS, 18)
    tree_s, locator_s = _baselines(index, lon, lat)
    with tempfile.TemporaryDirectory(prefix="wangge-http-") as tmp:
        http_s, size, healthz_p99, polls = _http(settings, lon, lat, Path(tmp))

    def rate(n: int, s: float) -> str:
        return f"{n / s / 1e6:.2f}M"

    lines = [
        f"{HTTP_POINTS:,} points where cases happen (uniform over the micro-grids, one in a hundred moved "
        "~100 m: some outside, answered with the nearest micro-grid and metres); one uvicorn worker.",
        "",
        "| what | points/s | vs STRtree | vs Locator |",
        "|---|---:|---:|---:|",
        f"| in-process shapely STRtree `query(predicate='intersects')` — baseline | {rate(HTTP_POINTS, tree_s)} | "
        f"1.0× | {locator_s / tree_s:.2f}× |",
        f"| in-process `Locator.locate` — baseline | {rate(HTTP_POINTS, locator_s)} | {tree_s / locator_s:.1f}× | 1.0× |",
        f"| **`POST /api/locate/batch`, CSV in, CSV out ({size / 1e6:.0f} MB), end to end** | "
        f"**{rate(HTTP_POINTS, http_s)}** | **{tree_s / http_s:.2f}×** | **{locator_s / http_s:.2f}×** |",
        "",
        f"`/healthz` during the batches: p99 {healthz_p99 * 1000:.0f} ms over {polls} calls "
        "(target ≤ 100 ms; the batch's blocks run in the threadpool, pyarrow and numpy release the GIL).",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="wangge-bulk-") as tmp:
        work = Path(tmp)
        big_lon, big_lat = _points(index, CLI_POINTS, 19)
        pq.write_table(
            pa.table({"lon": big_lon, "lat": big_lat}), work / "in.parquet", row_group_size=500_000
        )
        del big_lon, big_lat
        parquet_s, index_s, wall = _cli(
            settings, "--file", str(work / "in.parquet"), "--out", str(work / "out.parquet")
        )
        pacsv.write_csv(pq.read_table(work / "in.parquet"), work / "in.csv")
        csv_s, _, _ = _cli(settings, "--file", str(work / "in.csv"), "--out", str(work / "out.csv"))
        lines += [
            f"`wangge locate --file`, {CLI_POINTS:,} points, one process (the locating time the command reports, "
            f"without its start and the index build: {index_s:.1f} s to build, {wall:.1f} s for the whole command "
            "with Parquet):",
            "",
            "| file | points/s | vs STRtree | vs Locator |",
            "|---|---:|---:|---:|",
            f"| Parquet in, Parquet out | **{rate(CLI_POINTS, parquet_s)}** | {tree_s / HTTP_POINTS * CLI_POINTS / parquet_s:.2f}× | "
            f"{locator_s / HTTP_POINTS * CLI_POINTS / parquet_s:.2f}× |",
            f"| CSV in, CSV out | {rate(CLI_POINTS, csv_s)} | {tree_s / HTTP_POINTS * CLI_POINTS / csv_s:.2f}× | "
            f"{locator_s / HTTP_POINTS * CLI_POINTS / csv_s:.2f}× |",
            "",
        ]
        (work / "in.csv").unlink()
        print(f"bench: writing {DASK_POINTS:,} points for Dask …", flush=True)
        with pq.ParquetWriter(
            work / "big.parquet", pa.schema([("lon", pa.float64()), ("lat", pa.float64())])
        ) as w:
            part = pq.read_table(work / "in.parquet")
            for _ in range(DASK_POINTS // CLI_POINTS):
                w.write_table(part, row_group_size=1_000_000)
        single_s, _, _ = _cli(
            settings, "--file", str(work / "big.parquet"), "--out", str(work / "one.parquet")
        )
        core_s, _, _ = _cli(
            settings, "--file", str(work / "big.parquet"), "--out", str(work / "core.parquet"), cores="0"
        )
        (work / "core.parquet").unlink()
        dask_s, _, dask_wall = _cli(
            settings,
            "--file",
            str(work / "big.parquet"),
            "--out",
            str(work / "many.parquet"),
            "--dask",
            "local:2",
        )
        compared = _same_answers(work / "one.parquet", work / "many.parquet")
    lines += [
        f"{DASK_POINTS:,} points from Parquet (1,000,000-row groups), Parquet out:",
        "",
        "| how | points/s | vs one process |",
        "|---|---:|---:|",
        f"| one process (reads on a thread, answers on one a core, writes on a third) — baseline | {rate(DASK_POINTS, single_s)} | 1.0× |",
        f"| one process pinned to one core (`taskset -c 0`) | {rate(DASK_POINTS, core_s)} | {single_s / core_s:.2f}× |",
        f"| **`--dask local:2`** (`LocalCluster(n_workers=2)`, `read_parquet(...).map_partitions(...)`) | "
        f"**{rate(DASK_POINTS, dask_s)}** | **{single_s / dask_s:.2f}×** |",
        "",
        f"Dask's figure includes starting the cluster's work and each worker building its index; the whole "
        f"command took {dask_wall:.0f} s. Answers: the Dask dataset equals the single process on all "
        f"{compared:,} rows. Against the pinned single process (one core, as each Dask worker has), two Dask "
        f"workers give {core_s / dask_s:.2f}×.",
    ]
    return lines

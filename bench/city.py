"""A generated city of ~100,000 micro-grids (a ten-district city's): the locator's build time
and memory and the memory of a worker that holds it, each in a fresh process (``python -m
bench.city``).

The city is the reference district's micro-grids laid out fifteen times side by side (three
rows of five, each copy shifted by the district's width or height plus a street's gap), so
every copy is a real tiling of the real boundary's shape: 106,230 micro-grids. Baseline in
the same run: the one district, built the same way in its own fresh process. Then a second fresh process loads the
saved index as the workers of a machine do (``Locator.load``: arrays mapped read-only from
``var/index``), timed with its memory growth.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

from geo import parallel
from geo.locate import Locator
from layers.grid.index import Nearest

ROOT = Path(__file__).resolve().parents[1]
COPIES = (5, 3)  # columns, rows
GAP_DEG = 0.002


def city(polys: np.ndarray, copies: tuple[int, int] = COPIES) -> np.ndarray:
    """The micro-grids of ``copies`` districts side by side."""
    x0, y0, x1, y1 = shapely.total_bounds(polys)
    out = []
    for row in range(copies[1]):
        for col in range(copies[0]):
            dx, dy = col * (x1 - x0 + GAP_DEG), row * (y1 - y0 + GAP_DEG)
            out.append(shapely.transform(polys, lambda xy, dx=dx, dy=dy: xy + np.array([dx, dy])))
    return np.concatenate(out)


def _peak_mb() -> float:
    """The process's peak resident memory so far (``VmHWM``: its own since exec, where
    ``ru_maxrss`` keeps the peak of the process it was forked from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _smaps(*keys: str) -> float:
    """MB of the given ``/proc/self/smaps_rollup`` lines (Linux)."""
    total = 0
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in keys:
            total += int(value.split()[0])
    return total / 1024


def _private_mb() -> float:
    """The process's own (anonymous) memory."""
    return _smaps("Anonymous")


def _shared_mb() -> float:
    """Resident pages of mapped files: the page cache that every worker mapping them shares."""
    return _smaps("Rss") - _smaps("Anonymous")


def _rate(locator: Locator, polys: np.ndarray) -> float:
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = shapely.total_bounds(polys)
    lon, lat = rng.uniform(x0, x1, 1_000_000), rng.uniform(y0, y1, 1_000_000)
    locator.locate(lon, lat)
    t = time.perf_counter()
    locator.locate(lon, lat)
    return 1_000_000 / (time.perf_counter() - t)


def _load(path: str, folder: str) -> dict[str, float]:
    """In this (fresh) process: map the index saved in ``folder``; time, memory, speed."""
    polys = shapely.from_wkb(np.load(path, allow_pickle=True))
    before_private, before_shared = _private_mb(), _shared_mb()
    t = time.perf_counter()
    locator = Locator.load(Path(folder), polys)
    load_s = time.perf_counter() - t
    rate = _rate(locator, polys)  # touches the pages a million lookups need
    rest = Nearest(polys)  # the rest of a worker's index (nearest micro-grid, edges), its own
    private = _private_mb()
    del rest
    return {"load_s": load_s, "mapped_points_per_s": rate, "private_mb": private - before_private,
            "shared_mb": _shared_mb() - before_shared}  # fmt: skip


def _build(path: str, folder: str) -> dict[str, float]:
    """In this (fresh) process: build the index of the polygons in ``path``; time and memory;
    then save it into ``folder``."""
    from layers.grid.index import DEGREES_PER_M

    polys = shapely.from_wkb(np.load(path, allow_pickle=True))
    Path("/proc/self/clear_refs").write_text("5")  # the peak so far is now what is resident (Linux)
    before = _peak_mb()
    t = time.perf_counter()
    locator = Locator(polys, cell=2.5 * DEGREES_PER_M)
    build_s = time.perf_counter() - t
    peak = _peak_mb()
    rate = _rate(locator, polys)
    locator.save(Path(folder))
    held = locator.nbytes + sum(getattr(locator.rings, f).nbytes for f in locator.rings.__dataclass_fields__)
    return {"n": len(polys), "build_s": build_s, "peak_mb": peak - before, "held_mb": held / 2**20,
            "points_per_s": rate}  # fmt: skip


def measure(polys: np.ndarray) -> dict[str, float]:
    """``_build`` in a fresh interpreter, so the peak memory is the build's own; ``_load`` in another."""
    answer: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "polys.npy"
        np.save(path, np.array(shapely.to_wkb(polys), dtype=object), allow_pickle=True)
        for step in ("build", "load"):
            out = subprocess.run(
                [sys.executable, "-m", "bench.city", step, str(path), str(Path(tmp) / "index")],
                capture_output=True, text=True, cwd=ROOT, timeout=900, check=True,
            )  # fmt: skip
            answer.update(json.loads(out.stdout.strip().splitlines()[-1]))
    return answer


def bench_city(polys: np.ndarray) -> list[str]:
    one = measure(polys)
    whole = measure(city(polys))
    cores = parallel.cores()
    return [
        "The locator of a generated city of ~100,000 micro-grids, as many as a ten-district city holds (the "
        "reference district's micro-grids laid out fifteen times, three rows of five) beside the one district, "
        f"each built in a fresh process (its bands of tiles on the machine's {cores} cores); memory is the process's peak "
        "resident growth during the build and the arrays the index then holds. A worker that starts after the "
        "first build maps the saved arrays (`var/index`, shared by the machine's workers through the page cache): "
        "its load time, its speed on the mapped index, and after a million lookups and the rest of a worker's "
        "index (the nearest micro-grid and the edges, in the local plane, `layers.grid.index.Nearest`) its own "
        "memory growth (what each further worker costs) beside the mapped pages it touched (shared by all workers).",
        "",
        "| index | micro-grids | build s | peak memory MB | held MB | points/s located | worker load s "
        "(mapped) | points/s (mapped) | worker's private MB | mapped, shared MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| the reference district — baseline | {one['n']:,} | {one['build_s']:.1f} | {one['peak_mb']:,.0f} | "
        f"{one['held_mb']:,.0f} | {one['points_per_s'] / 1e6:.1f}M | {one['load_s']:.2f} | "
        f"{one['mapped_points_per_s'] / 1e6:.1f}M | {one['private_mb']:,.0f} | {one['shared_mb']:,.0f} |",
        f"| **the city** | {whole['n']:,} | {whole['build_s']:.1f} ({whole['build_s'] / one['build_s']:.1f}×) | "
        f"{whole['peak_mb']:,.0f} | {whole['held_mb']:,.0f} | {whole['points_per_s'] / 1e6:.1f}M | "
        f"**{whole['load_s']:.2f}** | {whole['mapped_points_per_s'] / 1e6:.1f}M | **{whole['private_mb']:,.0f}** | "
        f"{whole['shared_mb']:,.0f} |",
    ]


if __name__ == "__main__":
    print(json.dumps((_build if sys.argv[1] == "build" else _load)(sys.argv[2], sys.argv[3])))

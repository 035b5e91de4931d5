"""The answers of locating, the same for HTTP and the CLI: one point in full, many in rows.

``answer`` is the single-point answer of API.md (chain, worker, boundary distance,
ambiguity); ``located_rows`` the compact row per point of a batch, located a chunk at a
time so a million points never need a million answers in memory at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from geo import points
from layers.grid.index import AreaIndex, Located


def answer(
    index: AreaIndex,
    located: Located,
    k: int,
    lon: float,
    lat: float,
    accuracy_m: float | None,
    min_ambiguous_m: float,
) -> dict[str, Any]:
    """The full single-point answer of API.md for row ``k`` of ``located``."""
    i = int(located.index[k])
    inside = bool(located.inside[k])
    edge = index.boundary_distance_m(i, lon, lat) if inside else 0.0
    threshold = max(accuracy_m or 0.0, min_ambiguous_m)
    return {
        "inside": inside,
        "distance_m": round(float(located.distance_m[k]), 2),
        "boundary_distance_m": round(edge, 2),
        "ambiguous": bool(inside and edge < threshold),
        **index.chain(i),
        "generation": index.generation,
        "nearest_assets": [],
        "nearby_incidents": [],
    }


def nearest_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``nearest_assets`` entries of a locate answer."""
    return [
        {
            "id": r["id"],
            "kind": r["kind"],
            "subclass": r["subclass"],
            "distance_m": round(float(r["distance_m"]), 2),
        }
        for r in rows
    ]


def located_rows(
    index: AreaIndex,
    batch: points.PointBatch,
    crs: str,
    chunk: int = 100_000,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Answers for every row of ``batch`` in input order, located ``chunk`` rows at a time."""
    lon, lat = points.to_wgs84_rows(batch, crs)
    ok = np.isfinite(lon) & np.isfinite(lat)
    for k in batch.errors:
        ok[k] = False
    n = len(batch)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        good = ok[start:stop]
        located = index.locate(np.where(good, lon[start:stop], 0.0), np.where(good, lat[start:stop], 0.0))
        for j in range(stop - start):
            if not good[j]:
                yield {"error": batch.errors[start + j]}
                continue
            code = index.codes[int(located.index[j])]
            yield {
                "inside": bool(located.inside[j]),
                "distance_m": round(float(located.distance_m[j]), 2),
                "street": code[:9],
                "community": code[:12],
                "grid": code[:15],
                "micro_grid": code,
            }
        if progress is not None:
            progress(stop, n)


def point_answer(
    index: AreaIndex,
    lon: float,
    lat: float,
    *,
    accuracy_m: float | None,
    min_ambiguous_m: float,
    nearby_assets_m: float,
) -> dict[str, Any]:
    """The single-point answer with the nearest asset of each kind, all from memory."""
    located = index.locate(np.atleast_1d(lon), np.atleast_1d(lat))
    body = answer(index, located, 0, lon, lat, accuracy_m, min_ambiguous_m)
    near = index.assets.nearest_each(lon, lat, nearby_assets_m) if index.assets else []
    body["nearest_assets"] = nearest_summary(near)
    return body

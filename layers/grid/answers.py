"""The answer of locating one point, the same for HTTP and the CLI.

``answer`` is the single-point answer of API.md (chain, worker, boundary distance,
ambiguity), ``point_answer`` the same with the nearest assets; batches are answered
column-wise by ``layers.io.pointfiles``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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

"""Coverage: which micro-grids (and households) lie within a straight-line radius of a
layer's assets, by area, with the uncovered micro-grids as GeoJSON.

Distances come from ``geo.coverage`` (a k-d tree in the local Gauss-Krüger plane,
checked against geodesics); this module gathers the inputs and shapes the answer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import Connection

from geo import coverage
from layers.analytics import aggregates

GROUP_LENGTH = {"district": 6, "street": 9, "community": 12, "grid": 15}


def area_coverage(
    conn: Connection, kind: str, status: str | None, ev: bool, radius_m: float, by: str
) -> dict[str, Any]:
    """Coverage of the active generation's micro-grids by the assets of ``kind``."""
    grids = aggregates.micro_grids(conn)
    sites = aggregates.facilities(conn, kind, status, ev)
    answer = compute(grids, sites, radius_m, by)
    codes = [g[by] for g in answer["groups"]] + [u["code"] for u in answer["uncovered"]]
    names = aggregates.area_names(conn, codes)
    for g in answer["groups"]:
        g["name"] = names.get(g[by])
    shapes = aggregates.geometries(conn, [u["code"] for u in answer["uncovered"]])
    answer["uncovered"] = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": u["code"],
                "geometry": shapes[u["code"]]["geometry"],
                "properties": {**u, "name": shapes[u["code"]]["name"]},
            }
            for u in answer["uncovered"]
        ],
    }
    return answer


def compute(
    grids: list[dict[str, Any]], sites: list[tuple[str, float, float]], radius_m: float, by: str
) -> dict[str, Any]:
    """Coverage of ``grids`` (micro-grids with a point inside) by ``sites`` within ``radius_m``:
    totals, a row per ``by`` area, the micro-grids not covered with their nearest site."""
    lon = np.array([g["lon"] for g in grids])
    lat = np.array([g["lat"] for g in grids])
    households = np.array([g["households"] for g in grids], dtype=np.int64)
    distance, nearest = coverage.nearest_m(lon, lat, [s[1] for s in sites], [s[2] for s in sites])
    covered = distance <= radius_m
    keys = np.array([g["code"][: GROUP_LENGTH[by]] for g in grids])
    groups = []
    for key in np.unique(keys).tolist():
        m = keys == key
        groups.append(
            {
                by: key,
                "micro_grids": int(m.sum()),
                "covered": int(covered[m].sum()),
                "share": round(float(covered[m].mean()), 6),
                "households": int(households[m].sum()),
                "households_covered": int(households[m & covered].sum()),
                "households_share": round(
                    float(households[m & covered].sum() / max(households[m].sum(), 1)), 6
                ),
            }
        )
    uncovered = [
        {
            "code": grids[i]["code"],
            "households": int(households[i]),
            "distance_m": round(float(distance[i]), 1) if np.isfinite(distance[i]) else None,
            "nearest": sites[int(nearest[i])][0] if nearest[i] >= 0 else None,
        }
        for i in np.flatnonzero(~covered).tolist()
    ]
    return {
        "facilities": len(sites),
        "micro_grids": {
            "total": len(grids),
            "covered": int(covered.sum()),
            "share": round(float(covered.mean()), 6),
        },
        "households": {
            "total": int(households.sum()),
            "covered": int(households[covered].sum()),
            "share": round(float(households[covered].sum() / max(households.sum(), 1)), 6),
        },
        "groups": groups,
        "uncovered": uncovered,
    }

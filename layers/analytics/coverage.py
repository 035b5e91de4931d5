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
    names = aggregates.area_names(conn, [g[by] for g in answer["groups"]])
    for g in answer["groups"]:
        g["name"] = names.get(g[by])
    answer["uncovered"] = feature_collection(describe(conn, answer["uncovered"]))
    return answer


def uncovered(
    conn: Connection, kind: str, status: str | None, ev: bool, radius_m: float
) -> list[dict[str, Any]]:
    """The micro-grids farther than ``radius_m`` from every qualifying asset, described (:func:`describe`)."""
    grids = aggregates.micro_grids(conn)
    sites = aggregates.facilities(conn, kind, status, ev)
    return describe(conn, compute(grids, sites, radius_m, "district")["uncovered"])


UNCOVERED_COLUMNS = (
    "code", "name", "street", "street_name", "community", "community_name", "households",
    "distance_m", "nearest", "nearest_name",
)  # fmt: skip
UNCOVERED_HEADERS = (
    "微网格编码 code", "微网格 name", "街道编码 street", "街道 street_name", "社区编码 community",
    "社区 community_name", "户数 households", "最近距离(米) distance_m", "最近设施编码 nearest",
    "最近设施 nearest_name",
)  # fmt: skip


def describe(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Uncovered micro-grids with their names, street and community, the nearest asset's name and
    the micro-grid's geometry (GeoJSON, 7 decimals)."""
    codes = [r["code"] for r in rows]
    parents = sorted({c[:n] for c in codes for n in (9, 12)})
    names = aggregates.area_names(conn, parents)
    shapes = aggregates.geometries(conn, codes)
    assets = aggregates.asset_names(conn, sorted({r["nearest"] for r in rows if r["nearest"]}))
    return [
        {
            **r,
            "name": shapes[r["code"]]["name"],
            "street": r["code"][:9],
            "street_name": names.get(r["code"][:9]),
            "community": r["code"][:12],
            "community_name": names.get(r["code"][:12]),
            "nearest_name": assets.get(r["nearest"]) if r["nearest"] else None,
            "geometry": shapes[r["code"]]["geometry"],
        }
        for r in rows
    ]


def feature_collection(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Described uncovered micro-grids as a GeoJSON FeatureCollection."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": r["code"],
                "geometry": r["geometry"],
                "properties": {k: r[k] for k in UNCOVERED_COLUMNS},
            }
            for r in rows
        ],
    }


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

"""The planners' queries: hotspot counts, repeat locations, trends, coverage inputs, patrol load.

Aggregation happens in PostgreSQL (GROUP BY, DBSCAN) and the statistics in ``geo/`` on
numpy arrays; nothing here walks cases row by row. Duplicates merged into another case
are not counted again anywhere (status ``duplicate``).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from h3.api import basic_int as h3i
from sqlalchemy import Connection, text

from geo import hexes, hotspots
from geo.errors import InvalidInput, NotFound
from layers.analytics import kpi
from layers.cases import worktime
from layers.grid import areas

COUNTED = "status <> 'duplicate'"
WEIGHTS_KEPT = 16  # study areas with their weights kept per worker
TREND_KEYS = {
    "category": "category",
    "street": "street",
    "community": "community",
    "grid": "grid",
}


@dataclass(frozen=True)
class Window:
    """Cases received in [start, end) (aware datetimes), optionally of some categories."""

    start: datetime
    end: datetime
    categories: tuple[str, ...] = ()
    area: str | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        sql = f"{COUNTED} AND received_at >= :start AND received_at < :end"
        params: dict[str, Any] = {"start": self.start, "end": self.end}
        if self.categories:
            sql += " AND category = ANY(:categories)"
            params["categories"] = list(self.categories)
        if self.area:
            sql += " AND micro_grid LIKE :area_prefix"
            params["area_prefix"] = self.area + "%"
        return sql, params


def check_categories(conn: Connection, codes: list[str]) -> tuple[str, ...]:
    """The codes as given, or ``InvalidInput`` naming the unknown ones."""
    if not codes:
        return ()
    known = set(
        conn.execute(text("SELECT code FROM categories WHERE code = ANY(:c)"), {"c": codes}).scalars()
    )
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput(f"unknown category {', '.join(unknown)} (see /api/categories)", field="category")
    return tuple(codes)


def check_area(conn: Connection, code: str | None) -> str | None:
    if code is None:
        return None
    generation = areas.require_active(conn)
    found = conn.execute(
        text("SELECT 1 FROM areas WHERE generation = :g AND code = :c"), {"g": generation, "c": code}
    ).first()
    if found is None:
        raise InvalidInput(f"no area with code {code!r} in the active generation", field="area")
    return code


def cell_counts(conn: Connection, window: Window, res: int) -> tuple[np.ndarray, np.ndarray]:
    """(cells, counts) of the located cases in the window at H3 resolution ``res``."""
    where, params = window.where()
    rows = conn.execute(
        text(
            f"SELECT {hexes.parent_sql('h3', res)} AS cell, count(*) FROM incidents "
            f"WHERE h3 IS NOT NULL AND {where} GROUP BY 1"
        ),
        params,
    ).all()
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    cells, counts = zip(*rows, strict=True)
    return np.asarray(cells, dtype=np.int64), np.asarray(counts, dtype=np.int64)


def study_area(conn: Connection, code: str | None = None) -> shapely.Geometry:
    """The active generation's district (or the area ``code``) as a shapely geometry (WGS84)."""
    generation = areas.require_active(conn)
    sql = "SELECT ST_AsBinary(geom) FROM areas WHERE generation = :g AND " + (
        "code = :c" if code else "level = 'district'"
    )
    wkb = conn.execute(text(sql), {"g": generation, "c": code}).scalar()
    if wkb is None:
        raise NotFound("no active district to analyse")
    return shapely.from_wkb(bytes(wkb))


def repeats(
    conn: Connection, window: Window, radius_m: float, min_cases: int, limit: int = 500
) -> list[dict[str, Any]]:
    """Clusters of same-category cases within ``radius_m`` of each other (DBSCAN in metres)."""
    where, params = window.where()
    rows = conn.execute(
        text(
            f"""
WITH located AS (
  SELECT id, number, category, micro_grid, received_at, point,
    ST_ClusterDBSCAN(ST_Transform(point, 4549), eps => :radius, minpoints => :min_cases)
      OVER (PARTITION BY category) AS cluster
  FROM incidents WHERE point IS NOT NULL AND {where}
)
SELECT category, count(*) AS cases, ST_X(ST_Centroid(ST_Collect(point))) AS lon,
  ST_Y(ST_Centroid(ST_Collect(point))) AS lat, min(received_at) AS first, max(received_at) AS last,
  mode() WITHIN GROUP (ORDER BY micro_grid) AS micro_grid,
  (array_agg(number ORDER BY received_at))[1:20] AS numbers
FROM located WHERE cluster IS NOT NULL
GROUP BY category, cluster ORDER BY cases DESC, category, first LIMIT :limit
"""
        ),
        {**params, "radius": radius_m, "min_cases": min_cases, "limit": limit},
    ).mappings()
    return [dict(r) for r in rows]


def trends(
    conn: Connection, by: str, month: str, categories: tuple[str, ...] = (), area: str | None = None
) -> dict[str, Any]:
    """Counts per key for ``month``, the month before and the same month a year before."""
    if by not in TREND_KEYS:
        raise InvalidInput(f"by {by!r}: one of {', '.join(TREND_KEYS)}", field="by")
    first, end = kpi.month_range(month)
    today = datetime.now(worktime.BEIJING).date()
    if first > today:
        raise InvalidInput(f"month {month} is in the future", field="month")
    prev = _shift(first, -1)
    last_year = date(first.year - 1, first.month, 1)
    bounds = [
        datetime.combine(d, datetime.min.time(), worktime.BEIJING)
        for d in (first, end, prev, last_year, _shift(last_year, 1))
    ]
    window = Window(bounds[3], bounds[1], categories, area)
    where, params = window.where()
    rows = conn.execute(
        text(
            f"""
SELECT {TREND_KEYS[by]} AS key,
  count(*) FILTER (WHERE received_at >= :m0 AND received_at < :m1) AS count,
  count(*) FILTER (WHERE received_at >= :p0 AND received_at < :m0) AS previous,
  count(*) FILTER (WHERE received_at >= :start AND received_at < :y1) AS last_year
FROM incidents WHERE {where} GROUP BY 1 ORDER BY 2 DESC, 1
"""
        ),
        {**params, "m0": bounds[0], "m1": bounds[1], "p0": bounds[2], "y1": bounds[4]},
    ).mappings()
    results = []
    for r in rows:
        results.append(
            {
                by: r["key"],
                "count": r["count"],
                "previous": r["previous"],
                "last_year": r["last_year"],
                "change": r["count"] - r["previous"],
                "change_pct": _pct(r["count"], r["previous"]),
                "yoy_pct": _pct(r["count"], r["last_year"]),
            }
        )
    return {
        "month": month,
        "previous_month": f"{prev:%Y-%m}",
        "same_month_last_year": f"{last_year:%Y-%m}",
        "partial": end > today,
        "results": results,
    }


def seasonal_profile(
    conn: Connection, categories: tuple[str, ...] = (), until: date | None = None
) -> dict[str, list[float]]:
    """Per category: the mean count of each calendar month (Jan..Dec) over the complete months held."""
    until = until or datetime.now(worktime.BEIJING).date().replace(day=1)
    params: dict[str, Any] = {"until": datetime.combine(until, datetime.min.time(), worktime.BEIJING)}
    extra = ""
    if categories:
        extra = " AND category = ANY(:categories)"
        params["categories"] = list(categories)
    rows = conn.execute(
        text(
            f"""
WITH monthly AS (
  SELECT category, date_trunc('month', received_at AT TIME ZONE 'Asia/Shanghai') AS month, count(*) AS n
  FROM incidents WHERE {COUNTED} AND received_at < :until{extra} GROUP BY 1, 2
), months AS (
  SELECT DISTINCT date_trunc('month', received_at AT TIME ZONE 'Asia/Shanghai') AS month
  FROM incidents WHERE received_at < :until
), grid AS (
  SELECT c.category, m.month, coalesce(x.n, 0) AS n
  FROM (SELECT DISTINCT category FROM monthly) c CROSS JOIN months m
  LEFT JOIN monthly x ON x.category = c.category AND x.month = m.month
)
SELECT category, extract(month FROM month)::int AS m, avg(n)::float AS mean
FROM grid GROUP BY 1, 2 ORDER BY 1, 2
"""
        ),
        params,
    ).all()
    profile: dict[str, list[float]] = {}
    for category, m, mean in rows:
        profile.setdefault(category, [0.0] * 12)[m - 1] = round(mean, 2)
    return profile


def micro_grids(conn: Connection) -> list[dict[str, Any]]:
    """Every micro-grid of the active generation: code, name, households, a point inside it
    (WGS84) and its perimeter in metres (the streets a patrol walks round it)."""
    generation = areas.require_active(conn)
    rows = conn.execute(
        text(
            "SELECT code, name, coalesce(households, 0) AS households, ST_X(p) AS lon, ST_Y(p) AS lat, "
            "perimeter_m FROM (SELECT code, name, households, ST_PointOnSurface(geom) AS p, "
            "ST_Perimeter(geom::geography) AS perimeter_m FROM areas "
            "WHERE generation = :g AND level = 'micro_grid') m ORDER BY code"
        ),
        {"g": generation},
    ).mappings()
    return [dict(r) for r in rows]


def facilities(conn: Connection, kind: str, status: str | None, ev: bool) -> list[tuple[str, float, float]]:
    """(id, lon, lat) of the assets of ``kind`` (with EV charging, of a status, when asked)."""
    sql = "SELECT id, ST_X(point), ST_Y(point) FROM assets WHERE kind = :kind"
    if status:
        sql += " AND attributes->>'status' = :status"
    if ev:
        sql += " AND coalesce((attributes->>'ev_spaces')::int, 0) > 0"
    return [
        tuple(r) for r in conn.execute(text(sql + " ORDER BY id"), {"kind": kind, "status": status}).all()
    ]


def geometries(conn: Connection, codes: list[str]) -> dict[str, dict[str, Any]]:
    """GeoJSON geometries of active-generation areas by code."""
    generation = areas.require_active(conn)
    rows = conn.execute(
        text(
            "SELECT code, name, ST_AsGeoJSON(geom, 7)::json FROM areas "
            "WHERE generation = :g AND code = ANY(:codes) ORDER BY code"
        ),
        {"g": generation, "codes": codes},
    ).all()
    return {code: {"name": name, "geometry": geom} for code, name, geom in rows}


def category_names(conn: Connection, codes: list[str]) -> dict[str, str]:
    return dict(
        conn.execute(text("SELECT code, name FROM categories WHERE code = ANY(:c)"), {"c": codes}).all()
    )


def area_names(conn: Connection, codes: list[str]) -> dict[str, str]:
    generation = areas.require_active(conn)
    rows = conn.execute(
        text("SELECT code, name FROM areas WHERE generation = :g AND code = ANY(:codes)"),
        {"g": generation, "codes": codes},
    ).all()
    return dict(rows)


def inspection_coverage(conn: Connection, days: int, by: str) -> list[dict[str, Any]]:
    """Per area: manhole covers, how many were inspected in the last ``days`` days, the share."""
    length = {"street": 9, "community": 12, "grid": 15, "micro_grid": 18}.get(by)
    if length is None:
        raise InvalidInput(f"by {by!r}: one of street, community, grid, micro_grid", field="by")
    rows = conn.execute(
        text(
            """
SELECT left(a.micro_grid, :len) AS code, count(*) AS covers,
  count(*) FILTER (WHERE EXISTS (SELECT 1 FROM inspections i WHERE i.asset_id = a.id
    AND i.inspected_at >= now() - make_interval(days => :days))) AS inspected
FROM assets a WHERE a.kind = 'manhole_cover' AND a.micro_grid IS NOT NULL
GROUP BY 1 ORDER BY 1
"""
        ),
        {"len": length, "days": days},
    ).mappings()
    return [{**r, "share": round(r["inspected"] / r["covers"], 6)} for r in rows]


def _shift(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _pct(now: int, before: int) -> float | None:
    return round((now - before) / before * 100, 1) if before else None


def study(
    kept: MutableMapping[tuple[Any, ...], Any], conn: Connection, area: str | None, res: int, k: int
) -> tuple[np.ndarray, Any]:
    """The cells of the study area (centres within two cell edges of it) and their ring weights,
    kept in ``kept`` (each worker's LRU cache) by generation, area, resolution and rings."""
    generation = areas.require_active(conn)
    key = (generation, area, res, k)
    if key not in kept:
        shape = study_area(conn, area)
        pad = 2 * h3i.average_hexagon_edge_length(res, unit="m") / 111_000
        cells = hexes.cover(shapely.buffer(shape, pad), res)
        if cells.size < 7:  # a cell and its ring at the least, or Gi* has nothing to compare
            message = f"the area holds {cells.size} H3 cells at resolution {res}: choose a finer resolution"
            raise InvalidInput(message, field="res")
        kept[key] = (cells, hexes.ring_weights(cells, k))  # an LRU cache: it forgets by itself
    return kept[key]


def hotspot_cells(
    kept: MutableMapping[tuple[Any, ...], Any],
    conn: Connection,
    window: Window,
    area: str | None,
    res: int,
    k: int = 1,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Gi* of the window's case counts over the study area's cells, as a GeoJSON FeatureCollection."""
    cells, weights = study(kept, conn, area, res, k)
    found, counts = cell_counts(conn, window, res)
    position = np.searchsorted(cells, found)
    inside = (position < cells.size) & (cells[np.minimum(position, cells.size - 1)] == found)
    values = np.zeros(cells.size)
    values[position[inside]] = counts[inside]
    stats = hotspots.gi_star(values, weights, alpha)
    shown = np.flatnonzero((values > 0) | (stats.label != "none"))
    rings = hexes.boundaries(cells[shown])
    features = [
        {
            "type": "Feature",
            "id": hexes.to_hex(cells[i]),
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {
                "cell": hexes.to_hex(cells[i]),
                "count": int(values[i]),
                "z": round(float(stats.z[i]), 6),
                "p": float(stats.p[i]),
                "q": float(stats.q[i]),
                "class": str(stats.label[i]),
            },
        }
        for i, ring in zip(shown.tolist(), rings, strict=True)
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "summary": {
            "res": res,
            "k": k,
            "alpha": alpha,
            "since": window.start.date().isoformat(),
            "until": (window.end.date() - timedelta(days=1)).isoformat(),
            "categories": list(window.categories),
            "cells": int(cells.size),
            "cases": int(values.sum()),
            "cases_outside_study_area": int(counts[~inside].sum()),
            "hot": int((stats.label == "hot").sum()),
            "cold": int((stats.label == "cold").sum()),
        },
    }

"""The planners' queries: hotspot counts, repeat locations, trends, coverage inputs, patrol load.

Aggregation happens in PostgreSQL (GROUP BY, DBSCAN) and the statistics in ``geo/`` on
numpy arrays; nothing here walks cases row by row. Duplicates merged into another case
are not counted again anywhere (status ``duplicate``).
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from geoalchemy2 import Geography
from h3.api import basic_int as h3i
from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Integer,
    and_,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from geo import hexes, hotspots
from geo.crs import LocalPlane
from geo.errors import InvalidInput, NotFound
from layers.analytics import months
from layers.cases import worktime
from layers.db import sql
from layers.db.models import AREAS, ASSETS, CATEGORIES, INCIDENTS, INSPECTIONS
from layers.grid import areas

INC = INCIDENTS.c
COUNTED = INC.status != "duplicate"
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

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE conditions of the window on ``incidents``."""
        where = [COUNTED, INC.received_at >= self.start, INC.received_at < self.end]
        if self.categories:
            where.append(INC.category.in_(self.categories))
        if self.area:
            where.append(sql.area_prefix(INC.micro_grid, self.area))
        return where


def check_categories(conn: Connection, codes: list[str]) -> tuple[str, ...]:
    """The codes as given, or ``InvalidInput`` naming the unknown ones."""
    if not codes:
        return ()
    known = set(conn.execute(select(CATEGORIES.c.code).where(CATEGORIES.c.code.in_(codes))).scalars())
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput(f"unknown category {', '.join(unknown)} (see /api/categories)", field="category")
    return tuple(codes)


def check_area(conn: Connection, code: str | None) -> str | None:
    """The code as given if it names an area of the active generation (``None`` passes)."""
    if code is None:
        return None
    generation = areas.require_active(conn)
    found = conn.execute(
        select(AREAS.c.code).where(AREAS.c.generation == generation, AREAS.c.code == code)
    ).first()
    if found is None:
        raise InvalidInput(f"no area with code {code!r} in the active generation", field="area")
    return code


def cell_counts(conn: Connection, window: Window, res: int) -> tuple[np.ndarray, np.ndarray]:
    """(cells, counts) of the located cases in the window at H3 resolution ``res``."""
    # the parent cell by bit arithmetic on the stored res-12 cell (``geo.hexes.parent_sql``)
    cell: ColumnElement[int] = literal_column(hexes.parent_sql("h3", res)).label("cell")
    query = select(cell, func.count()).where(INC.h3.is_not(None), *window.conditions()).group_by(cell)
    rows = conn.execute(query).all()
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    cells, counts = zip(*rows, strict=True)
    return np.asarray(cells, dtype=np.int64), np.asarray(counts, dtype=np.int64)


def study_area(conn: Connection, code: str | None = None) -> shapely.Geometry:
    """The active generation's districts, the city (or the area ``code``), as a shapely geometry (WGS84)."""
    generation = areas.require_active(conn)
    which = AREAS.c.code == code if code else AREAS.c.level == "district"
    wkb = conn.execute(
        select(func.ST_AsBinary(func.ST_Union(AREAS.c.geom))).where(AREAS.c.generation == generation, which)
    ).scalar()
    if wkb is None:
        raise NotFound("no active district to analyse")
    return shapely.from_wkb(bytes(wkb))


def repeats(
    conn: Connection, window: Window, radius_m: float, min_cases: int, limit: int = 500
) -> list[dict[str, Any]]:
    """Clusters of same-category cases within ``radius_m`` of each other (DBSCAN in metres)."""
    cluster = func.ST_ClusterDBSCAN(func.ST_Transform(INC.point, 4549), radius_m, min_cases)
    located = (
        select(INC.id, INC.number, INC.category, INC.micro_grid, INC.received_at, INC.point)
        .add_columns(cluster.over(partition_by=INC.category).label("cluster"))
        .where(INC.point.is_not(None), *window.conditions())
        .cte("located")
    )
    c = located.c
    centre = func.ST_Centroid(func.ST_Collect(c.point))
    first = func.min(c.received_at)
    cases = func.count().label("cases")
    query = (
        select(c.category, cases, func.ST_X(centre).label("lon"), func.ST_Y(centre).label("lat"))
        .add_columns(first.label("first"), func.max(c.received_at).label("last"))
        .add_columns(func.mode().within_group(c.micro_grid).label("micro_grid"))
        .add_columns(func.array_agg(aggregate_order_by(c.number, c.received_at))[1:20].label("numbers"))
        .where(c.cluster.is_not(None))
        .group_by(c.category, c.cluster)
        .order_by(cases.desc(), c.category, first)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def months_with_data(conn: Connection) -> list[dict[str, Any]]:
    """Every Beijing month that has cases, oldest first: its cases and whether it is over."""
    month = func.to_char(func.timezone(worktime.BEIJING.key, INC.received_at), "YYYY-MM")
    rows = conn.execute(select(month, func.count()).group_by(month).order_by(month)).all()
    current = f"{datetime.now(worktime.BEIJING):%Y-%m}"
    return [{"month": m, "cases": int(n), "complete": m < current} for m, n in rows]


def default_month(listed: list[dict[str, Any]]) -> str:
    """The month a comparison shows unless asked: the last complete month that has cases.

    >>> default_month([{"month": "2026-10", "complete": True}, {"month": "2026-11", "complete": False}])
    '2026-10'
    >>> default_month([])
    Traceback (most recent call last):
    ...
    geo.errors.NotFound: no cases yet: there is no month to compare
    """
    complete = [m["month"] for m in listed if m["complete"]]
    if not complete:
        raise NotFound("no cases yet: there is no month to compare", field="month")
    return str(complete[-1])


def check_month(listed: list[dict[str, Any]], month: str) -> None:
    """A month asked for must be past or current and have cases; the refusal says which months do."""
    months.shift(months.first_day(month), -12)  # a comparison needs a year before: 0001-01 has none
    if month > f"{datetime.now(worktime.BEIJING):%Y-%m}":
        raise InvalidInput(f"month {month} is in the future", field="month")
    if not any(m["month"] == month for m in listed):
        span = "there are no cases"
        if listed:
            span = f"cases run from {listed[0]['month']} to {listed[-1]['month']}"
        raise NotFound(f"no cases in {month}: {span}", field="month")


def trends(
    conn: Connection, by: str, month: str, categories: tuple[str, ...] = (), area: str | None = None
) -> dict[str, Any]:
    """Counts per key for ``month``, the month before and the same month a year before."""
    if by not in TREND_KEYS:
        raise InvalidInput(f"by {by!r}: one of {', '.join(TREND_KEYS)}", field="by")
    first, end = months.month_range(month)
    today = datetime.now(worktime.BEIJING).date()
    if first > today:
        raise InvalidInput(f"month {month} is in the future", field="month")
    prev = months.shift(first, -1)
    last_year = months.shift(first, -12)
    bounds = [
        datetime.combine(d, datetime.min.time(), worktime.BEIJING)
        for d in (first, end, prev, last_year, months.shift(last_year, 1))
    ]
    window = Window(bounds[3], bounds[1], categories, area)
    key = INC[TREND_KEYS[by]]

    def between(start: datetime, end: datetime) -> Any:
        return func.count().filter(INC.received_at >= start, INC.received_at < end)

    counted = between(bounds[0], bounds[1]).label("count")
    query = (
        select(key.label("key"), counted)
        .add_columns(between(bounds[2], bounds[0]).label("previous"))
        .add_columns(between(bounds[3], bounds[4]).label("last_year"))
        .where(*window.conditions())
        .group_by(key)
        .order_by(counted.desc(), key)
    )
    rows = conn.execute(query).mappings()
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
    before = INC.received_at < datetime.combine(until, datetime.min.time(), worktime.BEIJING)
    month = func.date_trunc("month", INC.received_at.op("AT TIME ZONE")("Asia/Shanghai"))
    chosen = [COUNTED, before, *([INC.category.in_(categories)] if categories else [])]
    monthly = (
        select(INC.category, month.label("month"), func.count().label("n"))
        .where(*chosen)
        .group_by(INC.category, month)
        .cte("monthly")
    )
    months = select(month.label("month")).where(before).distinct().cte("months")
    kinds = select(monthly.c.category).distinct().subquery("c")
    grid = (  # every category × every month held, zero where a category had none
        select(kinds.c.category, months.c.month, func.coalesce(monthly.c.n, 0).label("n"))
        .select_from(kinds.join(months, true()))
        .outerjoin(monthly, and_(monthly.c.category == kinds.c.category, monthly.c.month == months.c.month))
        .cte("grid")
    )
    calendar_month = cast(func.extract("month", grid.c.month), Integer)
    rows = conn.execute(
        select(grid.c.category, calendar_month, cast(func.avg(grid.c.n), Float))
        .group_by(grid.c.category, calendar_month)
        .order_by(grid.c.category, calendar_month)
    ).all()
    profile: dict[str, list[float]] = {}
    for category, m, mean in rows:
        profile.setdefault(category, [0.0] * 12)[m - 1] = round(mean, 2)
    return profile


def micro_grids(conn: Connection) -> list[dict[str, Any]]:
    """Every micro-grid of the active generation: code, name, households, a point inside it
    (WGS84) and its perimeter in metres (the streets a patrol walks round it)."""
    generation = areas.require_active(conn)
    a = AREAS.c
    inside = func.ST_PointOnSurface(a.geom)
    query = (
        select(a.code, a.name, func.coalesce(a.households, 0).label("households"))
        .add_columns(func.ST_X(inside).label("lon"), func.ST_Y(inside).label("lat"))
        .add_columns(func.ST_Perimeter(cast(a.geom, Geography)).label("perimeter_m"))
        .where(a.generation == generation, a.level == "micro_grid")
        .order_by(a.code)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def facilities(
    conn: Connection, kind: str, status: str | None, ev: bool, finished_by: date | None = None
) -> list[tuple[str, float, float]]:
    """(id, lon, lat) of the assets of ``kind`` (with EV charging, of a status, when asked; finished
    by a day: their ``due_date``, the completion of a project, not after it, when they have one)."""
    a = ASSETS.c
    query = select(a.id, func.ST_X(a.point), func.ST_Y(a.point)).where(a.kind == kind).order_by(a.id)
    if finished_by is not None:
        due = a.attributes["due_date"].astext
        query = query.where(or_(due.is_(None), due <= finished_by.isoformat()))  # ISO dates sort as text
    if status:
        query = query.where(a.attributes["status"].astext == status)
    if ev:
        query = query.where(func.coalesce(cast(a.attributes["ev_spaces"].astext, Integer), 0) > 0)
    return [(str(i), float(x), float(y)) for i, x, y in conn.execute(query)]


def geometries(conn: Connection, codes: list[str]) -> dict[str, dict[str, Any]]:
    """GeoJSON geometries of active-generation areas by code."""
    generation = areas.require_active(conn)
    query = (
        select(AREAS.c.code, AREAS.c.name, func.ST_AsGeoJSON(AREAS.c.geom, 7))
        .where(AREAS.c.generation == generation, AREAS.c.code.in_(codes))
        .order_by(AREAS.c.code)
    )
    return {code: {"name": name, "geometry": json.loads(g)} for code, name, g in conn.execute(query)}


def asset_names(conn: Connection, ids: list[str]) -> dict[str, str | None]:
    """Names of assets by ID."""
    return {
        i: name for i, name in conn.execute(select(ASSETS.c.id, ASSETS.c.name).where(ASSETS.c.id.in_(ids)))
    }


def category_names(conn: Connection, codes: list[str]) -> dict[str, str]:
    """Category names by code."""
    query = select(CATEGORIES.c.code, CATEGORIES.c.name).where(CATEGORIES.c.code.in_(codes))
    return {code: name for code, name in conn.execute(query)}


def area_names(conn: Connection, codes: list[str]) -> dict[str, str]:
    """Names of active-generation areas by code."""
    generation = areas.require_active(conn)
    query = select(AREAS.c.code, AREAS.c.name).where(
        AREAS.c.generation == generation, AREAS.c.code.in_(codes)
    )
    return {code: name for code, name in conn.execute(query)}


def inspection_coverage(
    conn: Connection, days: int, by: str, window: tuple[datetime, datetime] | None = None
) -> list[dict[str, Any]]:
    """Per area: manhole covers, how many were inspected in the last ``days`` days (or in
    ``window``, [start, end)), the share."""
    length = {"street": 9, "community": 12, "grid": 15, "micro_grid": 18}.get(by)
    if length is None:
        raise InvalidInput(f"by {by!r}: one of street, community, grid, micro_grid", field="by")
    a, i = ASSETS.c, INSPECTIONS.c
    start, end = (func.now() - timedelta(days=days), func.now()) if window is None else map(literal, window)
    recent = exists().where(i.asset_id == a.id, i.inspected_at >= start, i.inspected_at < end)
    code = func.left(a.micro_grid, length).label("code")
    query = (
        select(code, func.count().label("covers"), func.count().filter(recent).label("inspected"))
        .where(a.kind == "manhole_cover", a.micro_grid.is_not(None))
        .group_by(code)
        .order_by(code)
    )
    rows = conn.execute(query).mappings()
    return [{**r, "share": round(r["inspected"] / r["covers"], 6)} for r in rows]


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
        # two cell edges in metres, in a local metric plane (degrees differ east and north)
        plane = LocalPlane(*shapely.centroid(shape).coords[0])
        pad_m = 2 * h3i.average_hexagon_edge_length(res, unit="m")
        cells = hexes.cover(plane.to_lonlat(shapely.buffer(plane.to_plane(shape), pad_m)), res)
        inside = hexes.cover(shape, res).size
        if cells.size < 7 or inside == 0:  # the area holds a cell centre and the study area a cell
            # and its ring at the least, or Gi* has nothing to compare
            message = (
                f"the area holds {inside} H3 cell centres at resolution {res}: choose a finer resolution"
            )
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

"""Geocoding (address → point and area chain) and reverse geocoding (point → nearest addresses)."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Query, Request

from api.deps import READERS, IndexDep, run_read
from api.params import CRS, CRS_HELP, TEXT
from api.schemas import locate as locate_schema
from geo.crs import to_wgs84
from layers.addresses import gazetteer
from layers.grid.index import AreaIndex

router = APIRouter(prefix="/api", tags=["addresses"], dependencies=READERS)


def _with_chain(index: AreaIndex, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each address with its point and the located street, community, grid and micro-grid."""
    if not rows:
        return []
    lon, lat = (np.array(v, dtype=float) for v in gazetteer.points_of(rows))
    located = index.locate(lon, lat)
    out = []
    for k, row in enumerate(rows):
        chain = index.chain(int(located.index[k]))
        entry = {
            "address": row["address"],
            "road": row["road"],
            "house_number": row["house_number"],
            "building": row["building"] or None,
            "point": gazetteer.as_point(row),
            "inside": bool(located.inside[k]),
            **{level: chain[level] for level in ("street", "community", "grid", "micro_grid")},
        }
        for key in ("match", "number_difference", "place"):
            if row.get(key) is not None:
                entry[key] = row[key]
        if "score" in row:
            entry["score"] = round(float(row["score"]), 3)
        if "distance_m" in row:
            entry["distance_m"] = row["distance_m"]
        out.append(entry)
    return out


@router.get("/geocode", response_model=locate_schema.Geocoded, response_model_exclude_unset=True)
async def geocode(
    request: Request,
    index: IndexDep,
    q: str = Query(
        ..., min_length=1, max_length=200, pattern=TEXT, description="An address, e.g. 恩县路64号"
    ),
    limit: int = Query(5, ge=1, le=50),
) -> dict[str, Any]:
    """Standard addresses and named places matching ``q``, best first, each saying how it matched.

    Chinese numerals, full-width digits, 號, sub-numbers (64-1号, 甲64号), building/unit/room
    and missing prefixes are read; an address of another district is not offered (``outside``)."""
    found = await run_read(request, gazetteer.geocode, q, limit)
    p = found.parsed
    return {
        "query": q,
        "parsed": {
            "road": p.road, "number": p.door or None, "building": p.building, "unit": p.unit,
            "room": p.room, "place": p.place, "unread": p.rest,
        },
        "ambiguous": found.ambiguous,
        "trusted": found.trusted is not None,
        "outside": found.outside,
        "outside_district": found.elsewhere,
        "results": _with_chain(index, found.results),
    }  # fmt: skip


@router.get("/reverse", response_model=locate_schema.Reversed, response_model_exclude_unset=True)
async def reverse(
    request: Request,
    index: IndexDep,
    lon: float = Query(...),
    lat: float = Query(...),
    crs: str = Query("wgs84", pattern=CRS, description=CRS_HELP),
    limit: int = Query(5, ge=1, le=50),
) -> dict[str, Any]:
    """The nearest standard addresses to a point, with ``distance_m``."""
    wlon, wlat = (float(v) for v in to_wgs84(lon, lat, crs))
    return {
        "query": {"lon": lon, "lat": lat, "crs": crs},
        "results": _with_chain(index, await run_read(request, gazetteer.reverse, wlon, wlat, limit)),
    }

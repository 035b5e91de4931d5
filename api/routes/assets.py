"""Assets: one asset with its area chain, and the nearest assets to a point in metres."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request

from api.deps import run_read
from api.routes.locate import IndexDep
from geo.crs import to_wgs84
from layers import assets
from layers.asset_kinds import KINDS, parse_asset_id
from layers.index import AreaIndex

router = APIRouter(prefix="/api/assets", tags=["assets"])


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    kind = KINDS[row["kind"]]
    out = {
        "id": row["id"],
        "kind": row["kind"],
        "subclass": row["subclass"],
        "subclass_name": kind.subclasses.get(row["subclass"][2:]),
        "point": {"type": "Point", "coordinates": [round(row["lon"], 8), round(row["lat"], 8)]},
        "micro_grid": row["micro_grid"],
    }
    if "distance_m" in row:
        out["distance_m"] = round(float(row["distance_m"]), 2)
    return out


@router.get("/nearest")
async def nearest(
    request: Request,
    lon: float = Query(...),
    lat: float = Query(...),
    crs: str = Query("wgs84"),
    kind: str | None = Query(None, description=f"One of: {', '.join(KINDS)}"),
    k: int = Query(5, ge=1, le=100),
    radius_m: float = Query(500.0, gt=0, le=20_000),
) -> dict[str, Any]:
    """The ``k`` nearest assets within ``radius_m`` (spheroidal metres), nearest first."""
    wlon, wlat = (float(v) for v in to_wgs84(lon, lat, crs))
    rows = await run_read(
        request, lambda conn: assets.nearest(conn, wlon, wlat, kind=kind, k=k, radius_m=radius_m)
    )
    return {"query": {"lon": lon, "lat": lat, "crs": crs}, "results": [_summary(r) for r in rows]}


def asset_feature(row: dict[str, Any], index: AreaIndex) -> dict[str, Any]:
    """An asset as a GeoJSON Feature with its attributes and its area chain."""
    position = index.position.get(row["micro_grid"] or "")
    chain = index.chain(position) if position is not None else None
    properties = {
        **_summary(row),
        "name": row["name"] or None,
        "attributes": row["attributes"],
        "generation": row["generation"],
        "areas": chain,
        "inspections": [],
        "incidents": [],
    }
    del properties["point"]
    geometry = (
        json.loads(row["site"])
        if row.get("site")
        else {"type": "Point", "coordinates": [round(row["lon"], 8), round(row["lat"], 8)]}
    )
    return {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": properties}


@router.get("/{asset_id}")
async def asset(asset_id: str, request: Request, index: IndexDep) -> dict[str, Any]:
    """One asset: attributes, the street → micro-grid chain and grid worker, its history."""
    parse_asset_id(asset_id)
    row = await run_read(request, assets.get_asset, asset_id)
    return asset_feature(row, index)

"""Assets: one asset with its area chain, and the nearest assets to a point in metres."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from sqlalchemy import Connection

from api.deps import ConnDep, run_read
from api.routes.locate import IndexDep
from geo.crs import to_wgs84
from layers import assets, inspections
from layers.asset_kinds import KINDS, parse_asset_id
from layers.index import AreaIndex
from layers.inspections import InspectionIn

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
        "inspections": row.get("inspections", []),
        "incidents": [],
    }
    del properties["point"]
    geometry = (
        json.loads(row["site"])
        if row.get("site")
        else {"type": "Point", "coordinates": [round(row["lon"], 8), round(row["lat"], 8)]}
    )
    return {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": properties}


def _asset_with_history(conn: Connection, asset_id: str) -> dict[str, Any]:
    row = assets.get_asset(conn, asset_id)
    row["inspections"] = inspections.history(conn, asset_id, limit=20)
    return row


@router.get("/{asset_id}")
async def asset(asset_id: str, request: Request, index: IndexDep) -> dict[str, Any]:
    """One asset: attributes, the street → micro-grid chain and grid worker, its history."""
    parse_asset_id(asset_id)
    row = await run_read(request, _asset_with_history, asset_id)
    return jsonable_encoder(asset_feature(row, index))


@router.get("/{asset_id}/inspections")
async def asset_inspections(asset_id: str, request: Request, limit: int = Query(50, ge=1, le=500)) -> Any:
    """The asset's patrol records, newest first."""
    parse_asset_id(asset_id)
    await run_read(request, assets.get_asset, asset_id)
    return {"results": jsonable_encoder(await run_read(request, inspections.history, asset_id, limit))}


@router.post("/{asset_id}/inspections", status_code=201)
def record_inspection(asset_id: str, body: InspectionIn, conn: ConnDep) -> Any:
    """Record a patrol of the asset; the asset's status and last inspection follow it."""
    parse_asset_id(asset_id)
    return jsonable_encoder(inspections.record(conn, asset_id, body))

"""Assets: one asset with its area chain, and the nearest assets to a point in metres."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from sqlalchemy import Connection

from api.auth import READERS, HandlerDep
from api.deps import ConnDep, run_read
from api.routes.locate import IndexDep
from geo.crs import to_wgs84
from geo.errors import InvalidInput
from layers import assets, audit, categories, incident_queries, incidents, inspections
from layers.asset_kinds import KINDS, parse_asset_id
from layers.incidents import IncidentIn
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


@router.get("/nearest", dependencies=READERS)
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
        "incidents": row.get("incidents", []),
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
    row["incidents"] = incident_summaries(conn, asset_id)
    return row


def incident_summaries(conn: Connection, asset_id: str) -> list[dict[str, Any]]:
    """The asset's cases, newest first (no personal data)."""
    rows, _ = incident_queries.listing(
        conn, incident_queries.Filters(asset_id=asset_id), limit=20, offset=0, sort="-received_at"
    )
    keys = ("id", "number", "category", "category_name", "status", "received_at", "closed_at", "overdue")
    return [{k: r[k] for k in keys} for r in rows]


@router.get("/{asset_id}", dependencies=READERS)
async def asset(asset_id: str, request: Request, index: IndexDep) -> dict[str, Any]:
    """One asset: attributes, the street → micro-grid chain and grid worker, its history."""
    parse_asset_id(asset_id)
    row = await run_read(request, _asset_with_history, asset_id)
    return jsonable_encoder(asset_feature(row, index))


@router.get("/{asset_id}/inspections", dependencies=READERS)
async def asset_inspections(asset_id: str, request: Request, limit: int = Query(50, ge=1, le=500)) -> Any:
    """The asset's patrol records, newest first."""
    parse_asset_id(asset_id)
    await run_read(request, assets.get_asset, asset_id)
    return {"results": jsonable_encoder(await run_read(request, inspections.history, asset_id, limit))}


@router.post("/{asset_id}/inspections", status_code=201)
def record_inspection(
    asset_id: str, body: InspectionIn, conn: ConnDep, request: Request, index: IndexDep, actor: HandlerDep
) -> Any:
    """Record a patrol of the asset (field staff); its status and last inspection follow it.

    With ``open_incident`` a defect also files a case linked to the asset, in the same
    transaction: the category is the one kept for the asset's kind (C0100 for covers).
    """
    parse_asset_id(asset_id)
    recorded = inspections.record(conn, asset_id, body)
    audit.record(
        conn, actor, "inspection.create", f"asset:{asset_id}", result=body.result, defect=body.defect
    )
    if body.open_incident and body.result == "defect":
        catalogue = categories.load(conn)
        kind = assets.get_asset(conn, asset_id)["kind"]
        category = next((c for c in catalogue.categories.values() if c.asset_kind == kind and c.active), None)
        if category is None:
            raise InvalidInput(f"no case category is kept for {kind} defects", field="open_incident")
        report = IncidentIn(
            source="grid_worker", category=category.code, asset_id=asset_id,
            description=f"巡查发现：{body.defect}. {body.note}".strip(),
            photos=[body.photo_url] if body.photo_url else [],
        )  # fmt: skip
        case_id, _ = incidents.create(
            conn, index, catalogue, report, actor=actor, work_hours=request.app.state.work_hours
        )
        recorded["incident_id"] = case_id
    return jsonable_encoder(recorded)

"""Assets: one asset with its area chain, and the nearest assets to a point in metres."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder

from api.deps import (
    READERS,
    ActorDep,
    HandlerDep,
    IndexDep,
    TxDep,
    action_key,
    get_settings,
    get_state,
    run_read,
)
from api.params import CRS, CRS_HELP, AssetIdPath, one_of
from api.photo_uploads import store_inline
from api.schemas import assets as assets_schema
from geo.crs import to_wgs84
from geo.errors import InvalidInput
from layers.accounts import audit
from layers.assets import features, inspections, store
from layers.assets.inspections import InspectionIn
from layers.assets.kinds import KINDS, parse_asset_id
from layers.cases import categories, intake
from layers.cases.intake import IncidentIn
from layers.db import keys

router = APIRouter(prefix="/api/assets", tags=["assets"])


@router.get(
    "/nearest", dependencies=READERS, response_model=assets_schema.Nearest, response_model_exclude_unset=True
)
async def nearest(
    request: Request,
    lon: float = Query(...),
    lat: float = Query(...),
    crs: str = Query("wgs84", pattern=CRS, description=CRS_HELP),
    kind: str | None = Query(None, pattern=one_of(KINDS), description=f"One of: {', '.join(KINDS)}"),
    k: int = Query(5, ge=1, le=100),
    radius_m: float = Query(500.0, gt=0, le=20_000),
) -> dict[str, Any]:
    """The ``k`` nearest assets within ``radius_m`` (spheroidal metres), nearest first."""
    wlon, wlat = (float(v) for v in to_wgs84(lon, lat, crs))
    rows = await run_read(
        request, lambda conn: store.nearest(conn, wlon, wlat, kind=kind, k=k, radius_m=radius_m)
    )
    return {"query": {"lon": lon, "lat": lat, "crs": crs}, "results": [features.summary(r) for r in rows]}


@router.get(
    "/{asset_id}",
    dependencies=READERS,
    response_model=assets_schema.AssetFeature,
    response_model_exclude_unset=True,
)
async def asset(request: Request, asset_id: AssetIdPath, index: IndexDep, actor: ActorDep) -> dict[str, Any]:
    """One asset: attributes, the street → micro-grid chain and grid worker, its history."""
    parse_asset_id(asset_id)
    row = await run_read(request, features.with_history, asset_id)
    row["inspections"] = inspections.as_seen_by(row["inspections"], actor)
    return jsonable_encoder(features.asset_feature(row, index))


@router.get(
    "/{asset_id}/inspections",
    dependencies=READERS,
    response_model=assets_schema.Inspections,
    response_model_exclude_unset=True,
)
async def asset_inspections(
    request: Request, asset_id: AssetIdPath, actor: ActorDep, limit: int = Query(50, ge=1, le=500)
) -> Any:
    """The asset's patrol records, newest first (the public: without who inspected, nor their photos)."""
    parse_asset_id(asset_id)
    await run_read(request, store.get_asset, asset_id)
    found = await run_read(request, inspections.history, asset_id, limit)
    return {"results": jsonable_encoder(inspections.as_seen_by(found, actor))}


@router.post(
    "/{asset_id}/inspections",
    status_code=201,
    response_model=assets_schema.Inspection,
    response_model_exclude_unset=True,
)
def record_inspection(
    asset_id: str, body: InspectionIn, conn: TxDep, request: Request, index: IndexDep, actor: HandlerDep
) -> Any:
    """Record a patrol of the asset (field staff); its status and last inspection follow it.

    With ``open_incident`` a defect also files a case linked to the asset, in the same
    transaction: the category is the one kept for the asset's kind (C0100 for covers).
    """
    parse_asset_id(asset_id)
    key = action_key(request)
    if key is not None:  # the phone's queue sending again: answered as the first time, not recorded twice
        first = keys.claim(conn, key, f"asset:{asset_id}", actor.name)
        if first is not keys.NEW:
            return first
    if body.photo_url is not None:  # a photo sent with the form or inline is stored first
        refs, _ = store_inline(conn, request, [body.photo_url], actor, field="photo_url")
        body = body.model_copy(update={"photo_url": refs[0]})
    recorded = inspections.record(conn, asset_id, body, actor, get_settings(request).backdate_days)
    audit.record(
        conn, actor, "inspection.create", f"asset:{asset_id}", result=body.result, defect=body.defect
    )
    if body.open_incident and body.result == "defect":
        catalogue = categories.load(conn)
        kind = store.get_asset(conn, asset_id)["kind"]
        category = next((c for c in catalogue.categories.values() if c.asset_kind == kind and c.active), None)
        if category is None:
            raise InvalidInput(f"no case category is kept for {kind} defects", field="open_incident")
        report = IncidentIn(
            source="grid_worker", category=category.code, asset_id=asset_id,
            description=f"巡查发现：{body.defect}. {body.note}".strip(),
            photos=[body.photo_url] if body.photo_url else [],
        )  # fmt: skip
        case_id = intake.create(
            conn, index, catalogue, report, actor=actor, work_hours=get_state(request).work_hours
        ).id
        recorded["incident_id"] = case_id
    answer = jsonable_encoder(recorded)
    if key is not None:
        keys.keep(conn, key, answer)
    return answer

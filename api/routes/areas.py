"""``/api/areas/{code}``: an area with its parent chain, children and figures."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.deps import READERS, ActorDep, ReadDep
from api.params import AREA_CODE
from api.schemas import areas as areas_schema
from layers.accounts import audit
from layers.assets import store
from layers.cases import queries
from layers.db.vocabulary import PRIVILEGED
from layers.grid import areas

router = APIRouter(prefix="/api/areas", tags=["areas"], dependencies=READERS)


@router.get("/{code}", response_model=areas_schema.Area, response_model_exclude_unset=True)
def area(
    code: Annotated[str, Path(pattern=AREA_CODE, description="An area code: 6, 9, 12, 15 or 18 digits.")],
    conn: ReadDep,
    actor: ActorDep,
    generation: int | None = Query(
        None, ge=1, le=2**31 - 1, description="Grid generation (default: the active one)."
    ),
    geometry: bool = Query(True, description="Include the boundary (GeoJSON, WGS84)."),
) -> dict[str, Any]:
    """The area, its ancestors from the district down, its children and its figures."""
    gen = areas.require_active(conn) if generation is None else generation
    privileged = actor.role in PRIVILEGED  # personal data: the grid worker's phone
    columns = (*areas.PUBLIC_COLUMNS, "worker_phone") if privileged else areas.PUBLIC_COLUMNS
    row = areas.get_area(conn, code, gen, columns=columns, with_geometry=geometry)
    worker = {"name": row["worker_name"]} if row["worker_name"] else None
    if worker and privileged and row.get("worker_phone"):
        worker["phone"] = row["worker_phone"]
        audit.record(conn, actor, "personal.read", f"area:{code}", field="worker_phone")
    kids = areas.children(conn, code, gen)
    return {
        "code": row["code"],
        "name": row["name"],
        "level": row["level"],
        "generation": gen,
        "parents": areas.chain(conn, code, gen),
        "children": kids,
        "figures": {
            "area_m2": round(row["area_m2"], 1),
            "households": row["households"],
            "population": row["population"],
            "children": len(kids),
            "assets": store.count_by_kind(conn, code),
            "open_incidents": queries.open_by_category(conn, code),
        },
        "grid_worker": worker,
        "party_branch": row["party_branch"],
        "geometry": json.loads(row["geojson"]) if row.get("geojson") else None,
    }

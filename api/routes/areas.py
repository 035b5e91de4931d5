"""``/api/areas/{code}``: an area with its parent chain, children and figures."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query

from api.deps import ReadConnDep
from layers import areas, assets, incident_queries

router = APIRouter(prefix="/api/areas", tags=["areas"])


@router.get("/{code}")
def area(
    code: str,
    conn: ReadConnDep,
    generation: int | None = Query(None, description="Grid generation (default: the active one)."),
    geometry: bool = Query(True, description="Include the boundary (GeoJSON, WGS84)."),
) -> dict[str, Any]:
    """The area, its ancestors from the district down, its children and its figures."""
    areas.level_of(code)
    gen = areas.require_active(conn) if generation is None else generation
    row = areas.get_area(conn, code, gen, with_geometry=geometry)
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
            "assets": assets.count_by_kind(conn, code),
            "open_incidents": incident_queries.open_by_category(conn, code),
        },
        "grid_worker": {"name": row["worker_name"]} if row["worker_name"] else None,
        "party_branch": row["party_branch"],
        "geometry": json.loads(row["geojson"]) if row.get("geojson") else None,
    }

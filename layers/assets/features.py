"""An asset as the API and the asset page show it: a GeoJSON Feature with its chain and history."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from layers.assets import inspections, store
from layers.assets.kinds import KINDS
from layers.cases import queries
from layers.grid.index import AreaIndex


def summary(row: dict[str, Any]) -> dict[str, Any]:
    """An asset's short form: id, kind, subclass and its name, point, micro-grid."""
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


def asset_feature(row: dict[str, Any], index: AreaIndex) -> dict[str, Any]:
    """An asset as a GeoJSON Feature with its attributes and its area chain."""
    position = index.position.get(row["micro_grid"] or "")
    chain = index.chain(position) if position is not None else None
    properties = {
        **summary(row),
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


def with_history(conn: Connection, asset_id: str) -> dict[str, Any]:
    """The asset row with its last inspections and cases."""
    row = store.get_asset(conn, asset_id)
    row["inspections"] = inspections.history(conn, asset_id, limit=20)
    row["incidents"] = incident_summaries(conn, asset_id)
    return row


def incident_summaries(conn: Connection, asset_id: str) -> list[dict[str, Any]]:
    """The asset's cases, newest first (no personal data)."""
    rows, _ = queries.listing(
        conn, queries.Filters(asset_id=asset_id), limit=20, offset=0, sort="-received_at"
    )
    keys = ("id", "number", "category", "category_name", "status", "received_at", "closed_at", "overdue")
    return [{k: r[k] for k in keys} for r in rows]

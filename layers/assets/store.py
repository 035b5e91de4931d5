"""Database access for assets: writing (IDs and attributes checked), reading, nearest by distance.

Location is the database's job (triggers of migration 0004): every written asset
gets its micro-grid in the active generation, and every asset is re-located when
another generation is activated.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import shapely
from sqlalchemy import Connection, bindparam, text

from geo.crs import reach_deg
from geo.errors import Conflict, InvalidInput, NotFound
from layers.assets.kinds import kind_named, kind_of, parse_asset_id


@dataclass
class AssetRecord:
    """An asset to write: WGS84 point (and site polygon for area-like kinds)."""

    id: str
    kind: str
    name: str
    lon: float
    lat: float
    attributes: dict[str, Any] = field(default_factory=dict)
    site: shapely.MultiPolygon | None = None


def checked(record: AssetRecord, district: str) -> dict[str, Any]:
    """The insert row of ``record``; raises naming the ID, the kind or the attribute at fault."""
    parsed = parse_asset_id(record.id, district)
    kind = kind_named(record.kind)
    if kind_of(parsed).name != kind.name:
        raise InvalidInput(f"{record.id} is a {kind_of(parsed).name} ID, not a {kind.name}", field="id")
    return {
        "id": record.id,
        "kind": kind.name,
        "subclass": parsed.subclass,
        "name": record.name,
        "lon": record.lon,
        "lat": record.lat,
        "site": shapely.to_wkb(record.site) if record.site is not None else None,
        "attributes": json.dumps(kind.validate(record.attributes), ensure_ascii=False),
    }


_INSERT = text("""
INSERT INTO assets (id, kind, subclass, name, point, site, attributes)
VALUES (:id, :kind, :subclass, :name, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), ST_GeomFromWKB(:site, 4326),
        CAST(:attributes AS jsonb))
""")


def write_assets(conn: Connection, records: Iterable[AssetRecord], district: str, batch: int = 5000) -> int:
    """Insert new assets (all checked first within each batch); a duplicate ID is a ``Conflict``."""
    rows: list[dict[str, Any]] = []
    count = 0

    def flush() -> None:
        ids = [r["id"] for r in rows]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise Conflict(f"asset {dup} appears twice", field="id")
        taken = conn.execute(
            text("SELECT id FROM assets WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)),
            {"ids": ids},
        ).first()
        if taken is not None:
            raise Conflict(f"asset {taken[0]} exists already", field="id")
        conn.execute(_INSERT, rows)

    for record in records:
        rows.append(checked(record, district))
        if len(rows) >= batch:
            flush()
            count, rows = count + len(rows), []
    if rows:
        flush()
        count += len(rows)
    return count


def delete_kind(conn: Connection, kind: str) -> None:
    conn.execute(text("DELETE FROM assets WHERE kind = :k"), {"k": kind})


_COLUMNS = (
    "id, kind, subclass, name, attributes, generation, micro_grid, ST_X(point) AS lon, ST_Y(point) AS lat, "
    "ST_AsGeoJSON(site, 7) AS site"
)


def get_asset(conn: Connection, asset_id: str) -> dict[str, Any]:
    """One asset by ID; ``NotFound`` when there is none (the ID itself must be well-formed)."""
    parse_asset_id(asset_id)
    row = (
        conn.execute(text(f"SELECT {_COLUMNS} FROM assets WHERE id = :id"), {"id": asset_id})
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no asset {asset_id}", field="id")
    return dict(row)


# Exact by construction: an envelope that surely holds the radius (GiST-assisted ``&&``),
# then spheroidal metres decide both the radius and the order.
_NEAREST = f"""
SELECT {_COLUMNS},
       ST_Distance(point::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m
FROM assets
WHERE point && ST_MakeEnvelope(:lon - :dlon, :lat - :dlat, :lon + :dlon, :lat + :dlat, 4326)
  AND (CAST(:kind AS text) IS NULL OR kind = :kind)
  AND ST_DWithin(point::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius)
ORDER BY distance_m, id LIMIT :k
"""


def nearest(
    conn: Connection, lon: float, lat: float, *, kind: str | None = None, k: int = 5, radius_m: float = 1000.0
) -> list[dict[str, Any]]:
    """The ``k`` nearest assets (of ``kind``) within ``radius_m`` of a WGS84 point, nearest first."""
    if kind is not None:
        kind_named(kind)
    dlon, dlat = reach_deg(lat, radius_m)
    params = {"lon": lon, "lat": lat, "kind": kind, "k": k, "radius": radius_m, "dlat": dlat, "dlon": dlon}
    return [dict(r) for r in conn.execute(text(_NEAREST), params).mappings()]


def count_by_kind(conn: Connection, area_code: str) -> dict[str, int]:
    """How many assets of each kind lie in an area (by their micro-grid's code prefix)."""
    rows = conn.execute(
        text("SELECT kind, count(*) FROM assets WHERE micro_grid LIKE :p GROUP BY kind ORDER BY kind"),
        {"p": area_code + "%"},
    )
    return {kind: int(n) for kind, n in rows}


_FEATURE_COLUMNS = (
    "id, subclass, name, micro_grid, attributes, ST_AsGeoJSON(coalesce(site, point), :digits) AS geojson"
)


def query_features(
    conn: Connection,
    *,
    kind: str,
    bbox: tuple[float, float, float, float] | None,
    subclass: str | None,
    status: str | None,
    limit: int,
    offset: int,
    digits: int = 7,
) -> tuple[list[dict[str, Any]], int]:
    """Assets of a kind as (feature rows with attributes flattened, number matched), ordered by ID.

    Coordinates carry ``digits`` decimals: 7 (~1 cm) for the API, 15 for a lossless export."""
    where = ["kind = :kind"]
    params: dict[str, Any] = {"kind": kind, "limit": limit, "offset": offset, "digits": digits}
    if bbox is not None:
        # && uses float4 boxes (a few metres loose); ST_Intersects makes it exact
        where.append("point && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)")
        where.append("ST_Intersects(point, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))")
        params.update(zip(("x0", "y0", "x1", "y1"), bbox, strict=True))
    if subclass is not None:
        where.append("subclass = :subclass")
        params["subclass"] = subclass
    if status is not None:
        where.append("attributes->>'status' = :status")
        params["status"] = status
    clause = " AND ".join(where)
    matched = conn.execute(text(f"SELECT count(*) FROM assets WHERE {clause}"), params).scalar_one()
    rows = conn.execute(
        text(f"SELECT {_FEATURE_COLUMNS} FROM assets WHERE {clause} ORDER BY id LIMIT :limit OFFSET :offset"),
        params,
    ).mappings()
    return [_flat(dict(r)) for r in rows], int(matched)


def feature_row(conn: Connection, kind: str, asset_id: str) -> dict[str, Any]:
    row = (
        conn.execute(
            text(f"SELECT {_FEATURE_COLUMNS} FROM assets WHERE id = :id AND kind = :kind"),
            {"id": asset_id, "kind": kind, "digits": 7},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no {kind} {asset_id}", field="featureId")
    return _flat(dict(row))


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """Attributes as top-level properties (GIS clients show them as columns)."""
    attributes = row.pop("attributes") or {}
    return {**row, **attributes}

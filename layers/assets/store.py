"""Database access for assets: writing (IDs and attributes checked), reading, nearest by distance.

Location is the database's job (triggers of migration 0004): every written asset
gets its micro-grid in the active generation, and every asset is re-located when
another generation is activated.

SQL: reads are Core (``layers.db.sql`` helpers); the insert stays written out because it is
run with executemany over thousands of row dicts, building each point in the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import shapely
from sqlalchemy import Connection, delete, func, select, text, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from geo.errors import Conflict, InvalidInput, NotFound
from geo.snapping import SERVED_GRID
from layers.assets.kinds import AssetId, Kind, kind_named, kind_of, parse_asset_id
from layers.db import sql
from layers.db.models import ASSETS


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


def check_id(asset_id: str, kind_name: str, district: str) -> tuple[AssetId, Kind]:
    """The parsed ID and the kind of an asset; raises naming the ID or the kind at fault."""
    parsed = parse_asset_id(asset_id, district)
    kind = kind_named(kind_name)
    if kind_of(parsed).name != kind.name:
        raise InvalidInput(f"{asset_id} is a {kind_of(parsed).name} ID, not a {kind.name}", field="id")
    return parsed, kind


def checked(record: AssetRecord, district: str) -> dict[str, Any]:
    """The insert row of ``record``; raises naming the ID, the kind or the attribute at fault."""
    parsed, kind = check_id(record.id, record.kind, district)
    # on the grid the areas are stored at (geo.snapping): a point on an edge stays on it
    point = shapely.set_precision(shapely.Point(record.lon, record.lat), SERVED_GRID)
    site = None if record.site is None else shapely.set_precision(record.site, SERVED_GRID)
    return {
        "id": record.id,
        "kind": kind.name,
        "subclass": parsed.subclass,
        "name": record.name,
        "lon": float(point.x),
        "lat": float(point.y),
        "site": shapely.to_wkb(shapely.MultiPolygon(shapely.get_parts(site))) if site is not None else None,
        "attributes": json.dumps(kind.validate(record.attributes), ensure_ascii=False),
    }


_INSERT = text("""
INSERT INTO assets (id, kind, subclass, name, point, site, attributes)
VALUES (:id, :kind, :subclass, :name, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), ST_GeomFromWKB(:site, 4326),
        CAST(:attributes AS jsonb))
""")


_UPSERT = text(f"""{_INSERT.text}
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, point = EXCLUDED.point, site = EXCLUDED.site,
  attributes = EXCLUDED.attributes, updated_at = now()
""")


def write_assets(
    conn: Connection, records: Iterable[AssetRecord], district: str, batch: int = 5000, replace: bool = False
) -> int:
    """Insert new assets (all checked first within each batch); a duplicate ID is a ``Conflict``,
    or with ``replace`` the stored asset of that ID is replaced (relocated if it moved)."""
    rows: list[dict[str, Any]] = []
    count = 0

    def flush() -> None:
        ids = [r["id"] for r in rows]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise Conflict(f"asset {dup} appears twice", field="id")
        if replace:
            conn.execute(_UPSERT, rows)
            return
        taken = conn.execute(select(ASSETS.c.id).where(ASSETS.c.id.in_(ids))).first()
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


def attributes_of(conn: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored attributes of those of ``ids`` that exist."""
    query = select(ASSETS.c.id, ASSETS.c.attributes).where(ASSETS.c.id.in_(ids))
    return {asset_id: dict(attributes) for asset_id, attributes in conn.execute(query)}


def delete_kind(conn: Connection, kind: str, district: str) -> None:
    """Delete every asset of ``kind`` in ``district`` (the reference loader replaces a kind whole)."""
    conn.execute(delete(ASSETS).where(ASSETS.c.kind == kind, ASSETS.c.id.like(f"{district}%")))


# What the public reads: the attributes without ``extra`` (a file's other columns, which may
# hold anything a data steward had in a sheet; docs/security.md).
PUBLIC_ATTRIBUTES = type_coerce(ASSETS.c.attributes.op("-")("extra"), JSONB).label("attributes")

_COLUMNS = (
    ASSETS.c.id,
    ASSETS.c.kind,
    ASSETS.c.subclass,
    ASSETS.c.name,
    PUBLIC_ATTRIBUTES,
    ASSETS.c.generation,
    ASSETS.c.micro_grid,
    func.ST_X(ASSETS.c.point).label("lon"),
    func.ST_Y(ASSETS.c.point).label("lat"),
    func.ST_AsGeoJSON(ASSETS.c.site, 7).label("site"),
)


def get_asset(conn: Connection, asset_id: str) -> dict[str, Any]:
    """One asset by ID; ``NotFound`` when there is none (the ID itself must be well-formed: 16
    digits; one with serial 000000 or no registered class is well-formed and names no asset)."""
    if len(asset_id) != 16 or not asset_id.isdigit():
        parse_asset_id(asset_id)  # says what is wrong with it
    row = conn.execute(select(*_COLUMNS).where(ASSETS.c.id == asset_id)).mappings().first()
    if row is None:
        raise NotFound(f"no asset {asset_id}", field="id")
    return dict(row)


def nearest(
    conn: Connection, lon: float, lat: float, *, kind: str | None = None, k: int = 5, radius_m: float = 1000.0
) -> list[dict[str, Any]]:
    """The ``k`` nearest assets (of ``kind``) within ``radius_m`` of a WGS84 point, nearest first.

    Exact by construction: spheroidal metres decide both the radius and the order."""
    distance = sql.distance_m(ASSETS.c.point, lon, lat).label("distance_m")
    query = select(*_COLUMNS, distance).where(sql.within_m(ASSETS.c.point, lon, lat, radius_m))
    if kind is not None:
        query = query.where(ASSETS.c.kind == kind_named(kind).name)
    query = query.order_by(distance, ASSETS.c.id).limit(k)
    return [dict(r) for r in conn.execute(query).mappings()]


def count_by_kind(conn: Connection, area_code: str) -> dict[str, int]:
    """How many assets of each kind lie in an area (by their micro-grid's code prefix)."""
    query = (
        select(ASSETS.c.kind, func.count())
        .where(sql.area_prefix(ASSETS.c.micro_grid, area_code))
        .group_by(ASSETS.c.kind)
        .order_by(ASSETS.c.kind)
    )
    return {kind: int(n) for kind, n in conn.execute(query)}


def _feature_columns(digits: int, extra: bool = False) -> tuple[Any, ...]:
    geojson = func.ST_AsGeoJSON(func.coalesce(ASSETS.c.site, ASSETS.c.point), digits).label("geojson")
    attributes = ASSETS.c.attributes if extra else PUBLIC_ATTRIBUTES
    return (ASSETS.c.id, ASSETS.c.subclass, ASSETS.c.name, ASSETS.c.micro_grid, attributes, geojson)


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
    extra: bool = False,
    district: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Assets of a kind as (feature rows with attributes flattened, number matched), ordered by ID.

    Coordinates carry ``digits`` decimals: 7 (~1 cm) for the API, 15 for a lossless export;
    ``extra`` attributes (a file's other columns) come as their own columns, for exports."""
    where = [ASSETS.c.kind == kind]
    if bbox is not None:
        where.append(sql.bbox_filter(ASSETS.c.point, bbox))
    if district is not None:  # an asset's ID begins with its district's code
        where.append(ASSETS.c.id.like(f"{district}%"))
    if subclass is not None:
        where.append(ASSETS.c.subclass == subclass)
    if status is not None:
        where.append(ASSETS.c.attributes["status"].astext == status)
    matched = conn.execute(select(func.count()).select_from(ASSETS).where(*where)).scalar_one()
    columns = _feature_columns(digits, extra)
    query = select(*columns).where(*where).order_by(ASSETS.c.id).limit(limit).offset(offset)
    return [_flat(dict(r)) for r in conn.execute(query).mappings()], int(matched)


def feature_row(conn: Connection, kind: str, asset_id: str) -> dict[str, Any]:
    """One asset of ``kind`` as a feature row (``NotFound`` when there is none)."""
    query = select(*_feature_columns(7)).where(ASSETS.c.id == asset_id, ASSETS.c.kind == kind)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no {kind} {asset_id}", field="featureId")
    return _flat(dict(row))


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """Attributes as top-level properties (GIS clients show them as columns), extra ones too."""
    attributes = dict(row.pop("attributes") or {})
    return {**row, **attributes.pop("extra", {}), **attributes}


def extent(conn: Connection, kind: str) -> list[float] | None:
    """The bounding box of the assets of ``kind`` (None when there are none)."""
    return sql.extent(conn, ASSETS.c.point, ASSETS.c.kind == kind)


def covers_of_grid(conn: Connection, generation: int, grid_code: str) -> list[dict[str, Any]]:
    """The manhole covers located in a grid of ``generation`` (id, subclass), by ID."""
    query = (
        select(ASSETS.c.id, ASSETS.c.subclass)
        .where(ASSETS.c.kind == "manhole_cover", ASSETS.c.generation == generation)
        .where(sql.area_prefix(ASSETS.c.micro_grid, grid_code))
        .order_by(ASSETS.c.id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]

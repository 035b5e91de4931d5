"""Import and export of asset layers (manhole covers, car parks, cameras) through the layers' file path.

Files are read and written by ``layers.io`` (formats, GBK ``.dbf``, zip safety, the CRS
rules, CSV with WKT or lon/lat columns); this module maps rows to assets: the 16-digit
ID, the kind's attribute schema, the geometry the kind needs. All or nothing: every bad
row is listed with its number and ID, and an asset that lands outside every micro-grid
of the district is refused too.

SQL: the few checks after a bulk write (which IDs exist, which were not located) and
``ANALYZE`` stay written out; the writes themselves go through ``layers.assets.store``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from sqlalchemy import Connection, text

from geo.crs import from_wgs84, parse_crs
from geo.errors import InvalidInput
from layers.assets import store
from layers.assets.kinds import KINDS
from layers.grid.validate import Problem
from layers.io import area_files

COLLECTIONS = {"manhole_covers": "manhole_cover", "parking": "parking", "cameras": "camera"}
ID_FIELDS = ("id", "ID", "ObjID", "OBJID", "objid", "部件标识码", "部件编码", "bsm", "BSM")
NOT_ATTRIBUTES = {"kind", "subclass", "subclass_name", "micro_grid", "generation", "updated_at", "fid"}
ENTRANCE = ("entrance_lon", "entrance_lat")


def shapefile_names(kind: str) -> dict[str, str]:
    """The short field names of a kind's Shapefile (export writes them, import reads them back)."""
    return area_files.short_names(["id", "name", *KINDS[kind].attributes.model_fields, *ENTRANCE])


def collection_kind(collection: str) -> str:
    if collection not in COLLECTIONS:
        raise InvalidInput(
            f"unknown asset collection {collection!r}; use {', '.join(COLLECTIONS)}", field="collection"
        )
    return COLLECTIONS[collection]


@dataclass(frozen=True)
class AssetImport:
    count: int
    crs: str


def _value(value: Any) -> Any:
    """A cell as an attribute value: blanks dropped, whole floats as integers (``.dbf`` numbers)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def read_assets(
    path: Path, kind: str, *, crs: str | None = None, id_field: str | None = None, district: str = "370203"
) -> tuple[list[store.AssetRecord], str]:
    """The assets of a file as checked records (WGS84), or ``ImportProblems`` listing every bad row."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field="file")
    spec = KINDS[kind]
    frame, geoms, declared = area_files.read_file(path)
    frame = frame.rename(
        columns={
            short: full
            for full, short in shapefile_names(kind).items()
            if short in frame.columns and full not in frame.columns
        }
    )
    used_crs = area_files.resolve_crs(declared, crs)
    id_col = area_files.find_field(frame, id_field, ID_FIELDS, "id", required=True)
    name_col = area_files.find_field(
        frame, None, (*area_files.NAME_FIELDS, "ObjName"), "name", required=False
    )
    skip = {id_col, name_col, *NOT_ATTRIBUTES, *ENTRANCE}
    problems: list[Problem] = []
    records: list[store.AssetRecord] = []
    seen: dict[str, int] = {}
    for i, (row, geom) in enumerate(zip(frame.to_dict("records"), geoms, strict=True), start=1):
        asset_id = area_files.cell_text(row.get(id_col))
        if asset_id in seen:
            problems.append(Problem(asset_id, f"duplicate ID {asset_id} (also row {seen[asset_id]})", row=i))
            continue
        seen[asset_id or ""] = i
        if geom is None or isinstance(geom, str) or geom.is_empty:
            problems.append(Problem(asset_id, "has no geometry", row=i))
            continue
        wanted = (Point,) if spec.geometry == "Point" else (Polygon, MultiPolygon)
        if not isinstance(geom, wanted):
            problems.append(
                Problem(asset_id, f"is a {geom.geom_type}; {kind} needs a {spec.geometry}", row=i)
            )
            continue
        if shapely.get_num_coordinates(geom) > area_files.MAX_VERTICES:
            problems.append(
                Problem(asset_id, f"has more than {area_files.MAX_VERTICES:,} vertices (simplify it)", row=i)
            )
            continue
        geom, problem = area_files.in_wgs84(geom, used_crs)
        if problem is not None:
            problems.append(Problem(asset_id, problem, row=i))
            continue
        site = None
        if spec.geometry == "Polygon":
            site = geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])
            entrance = [_value(row.get(c)) for c in ENTRANCE]
            geom = shapely.point_on_surface(site)
            if None not in entrance:
                geom, problem = area_files.in_wgs84(Point(*entrance), used_crs)
                if problem is not None:
                    problems.append(Problem(asset_id, f"entrance {problem}", row=i))
                    continue
        attributes = {
            str(k): v for k, v in ((k, _value(v)) for k, v in row.items() if k not in skip) if v is not None
        }
        name = area_files.cell_text(row.get(name_col)) or "" if name_col else ""
        record = store.AssetRecord(
            id=asset_id or "", kind=kind, name=name,
            lon=float(geom.x), lat=float(geom.y), attributes=attributes, site=site,
        )  # fmt: skip
        try:
            store.checked(record, district)
        except InvalidInput as exc:
            problems.append(Problem(asset_id, exc.message, row=i))
            continue
        records.append(record)
    if not records and not problems:
        problems.append(Problem(None, "the file has no features"))
    if problems:
        raise area_files.ImportProblems(problems, path.name)
    return records, used_crs


def import_assets(
    conn: Connection,
    collection: str,
    path: Path,
    *,
    crs: str | None = None,
    id_field: str | None = None,
    district: str = "370203",
) -> AssetImport:
    """Add the assets of a file, all or nothing (in the caller's transaction); IDs must be new."""
    kind = collection_kind(collection)
    records, used_crs = read_assets(path, kind, crs=crs, id_field=id_field, district=district)
    taken = (
        conn.execute(
            text("SELECT id FROM assets WHERE id = ANY(:ids) ORDER BY id"), {"ids": [r.id for r in records]}
        )
        .scalars()
        .all()
    )
    if taken:
        rows = {r.id: i for i, r in enumerate(records, start=1)}
        raise area_files.ImportProblems(
            [Problem(t, f"asset {t} exists already", row=rows[t]) for t in taken], path.name
        )
    store.write_assets(conn, records, district)  # located by the database as they are written
    outside = (
        conn.execute(
            text("SELECT id FROM assets WHERE id = ANY(:ids) AND micro_grid IS NULL ORDER BY id"),
            {"ids": [r.id for r in records]},
        )
        .scalars()
        .all()
    )
    if outside:
        raise area_files.ImportProblems(
            [Problem(a, "lies outside every micro-grid of the district") for a in outside], path.name
        )
    conn.execute(text("ANALYZE assets"))
    return AssetImport(len(records), used_crs)


def export_assets(conn: Connection, collection: str, path: Path, *, crs: str | None = None) -> int:
    """Write an asset collection (attributes as columns) in any supported format and CRS."""
    kind = collection_kind(collection)
    if path.suffix.lower() not in area_files.FORMATS:
        raise InvalidInput(
            f"{path.name}: unsupported format; use {', '.join(area_files.FORMATS)}", field="file"
        )
    out_crs = parse_crs(crs, field="crs")
    rows, _ = store.query_features(
        conn, kind=kind, bbox=None, subclass=None, status=None, limit=10_000_000, offset=0, digits=15
    )
    if KINDS[kind].geometry == "Polygon":
        entrances: dict[str, list[float]] = dict(
            conn.execute(
                text("SELECT id, ARRAY[ST_X(point), ST_Y(point)] FROM assets WHERE kind = :k"), {"k": kind}
            ).all()
        )
        for r in rows:
            elon, elat = entrances[r["id"]]
            x, y = from_wgs84(elon, elat, out_crs)  # in the file's CRS, as the geometry
            r["entrance_lon"], r["entrance_lat"] = float(x), float(y)
    for r in rows:
        r.pop("micro_grid", None)
    return area_files.write_rows(rows, path, out_crs, shapefile_names(kind))

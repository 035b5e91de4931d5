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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from sqlalchemy import Connection, func, select, text

from geo.crs import METRIC, WGS84, from_wgs84, parse_crs, transform
from geo.errors import InvalidInput, NotFound
from layers.assets import store
from layers.assets.kinds import KINDS
from layers.db import sql
from layers.db.models import AREAS
from layers.grid.validate import Problem
from layers.io import area_files
from layers.io.streams import unquote_cell

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
    added: int = 0
    updated: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AssetRows:
    """A file's assets as checked records (WGS84), the CRS it was read in and what was said of it."""

    records: list[store.AssetRecord]
    crs: str
    notes: list[str]
    rows: dict[str, int]  # ID → row number


def _value(value: Any) -> Any:
    """A cell as an attribute value: blanks dropped, whole floats as integers (``.dbf`` numbers)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return unquote_cell(value.strip()) or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _columns(frame: pd.DataFrame, kind: str, skip: set[str]) -> tuple[dict[str, str], list[str]]:
    """(file column → attribute, for the kind's fields by name or Chinese label; the other columns)."""
    spec = KINDS[kind]
    known: dict[str, str] = {}
    other: list[str] = []
    for column in map(str, frame.columns):
        if column in skip:
            continue
        name = spec.field_of(column)
        if name is not None and name not in known.values():
            known[column] = name
        else:
            other.append(column)
    return known, other


def _outside_m(boundary: Any, lon: float, lat: float) -> float:
    """Metres from the district (0 inside), in the local Gauss–Krüger plane."""
    x, y = transform(lon, lat, WGS84, METRIC)
    return float(shapely.distance(boundary, shapely.Point(float(x), float(y))))


def read_assets(
    path: Path,
    kind: str,
    *,
    crs: str | None = None,
    id_field: str | None = None,
    district: str,
    extra: str = "keep",
    boundary: Any = None,
    tolerance_m: float = 30.0,
) -> AssetRows:
    """The assets of a file as checked records, or ``ImportProblems`` listing every problem of every row.

    Columns are the kind's attributes by name or Chinese label (docs/assets.md); enumerations
    take their Chinese labels too. Other columns are kept as ``extra`` attributes (for exports, never served),
    or with ``extra="ignore"`` left out, each named in the notes. With ``boundary`` (the
    district in EPSG:4549), a point more than ``tolerance_m`` outside it is refused."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field="file")
    if extra not in ("keep", "ignore"):
        raise InvalidInput(f"extra {extra!r}: keep or ignore", field="extra")
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
    known, other = _columns(frame, kind, {id_col or "", name_col or "", *NOT_ATTRIBUTES, *ENTRANCE})
    notes = []
    if other:
        what = "kept as extra attributes (exports only)" if extra == "keep" else "ignored"
        notes.append(f"columns {', '.join(other)} are not {kind} attributes: {what}")
    problems: list[Problem] = []
    records: list[store.AssetRecord] = []
    seen: dict[str, int] = {}
    for i, (row, geom) in enumerate(zip(frame.to_dict("records"), geoms, strict=True), start=1):
        asset_id = area_files.cell_text(row.get(id_col))
        said = len(problems)

        def problem(reason: str, row_number: int = i, who: str | None = asset_id) -> None:
            problems.append(Problem(who, reason, row=row_number))

        if asset_id in seen:
            problem(f"duplicate ID {asset_id} (also row {seen[asset_id]})")
        seen.setdefault(asset_id or "", i)
        try:
            store.check_id(asset_id or "", kind, district)
        except InvalidInput as exc:
            problem(exc.message)
        point, site = _geometry(geom, row, kind, used_crs, problem)
        if point is not None and boundary is not None:
            away = _outside_m(boundary, point.x, point.y)
            if away > tolerance_m:
                far = f"{away / 1000:,.1f} km" if away >= 1000 else f"{away:.0f} m"
                problem(f"lies {far} outside the district (tolerance {tolerance_m:g} m); check its CRS")
        attributes = {a: v for c, a in known.items() if (v := _value(row.get(c))) is not None}
        extras = {c: v for c in other if (v := _value(row.get(c))) is not None}
        _, found = spec.problems(attributes)
        for where, message in found:
            problem(f"{where}: {message}")
        name = (area_files.cell_text(row.get(name_col)) or "") if name_col else ""
        if point is None or len(problems) > said:
            continue
        if extras and extra == "keep":
            attributes["extra"] = {k: str(v) for k, v in extras.items()}
        records.append(store.AssetRecord(asset_id or "", kind, name, point.x, point.y, attributes, site))
    if not records and not problems:
        problems.append(Problem(None, "the file has no features"))
    if problems:
        raise area_files.ImportProblems(problems, path.name)
    return AssetRows(records, used_crs, notes, {r.id: seen[r.id] for r in records})


def _geometry(
    geom: Any, row: dict[Any, Any], kind: str, crs: str, problem: Callable[[str], None]
) -> tuple[Point | None, MultiPolygon | None]:
    """(WGS84 point, site polygon for area-like kinds) of a row, or (None, None) with the problem said."""
    spec = KINDS[kind]
    if geom is None or isinstance(geom, str) or geom.is_empty:
        problem("has no geometry")
        return None, None
    wanted = (Point,) if spec.geometry == "Point" else (Polygon, MultiPolygon)
    if not isinstance(geom, wanted):
        problem(f"is a {geom.geom_type}; {kind} needs a {spec.geometry}")
        return None, None
    if shapely.get_num_coordinates(geom) > area_files.MAX_VERTICES:
        problem(f"has more than {area_files.MAX_VERTICES:,} vertices (simplify it)")
        return None, None
    geom, reason = area_files.in_wgs84(geom, crs)
    if reason is not None:
        problem(reason)
        return None, None
    if spec.geometry == "Point":
        return geom, None
    site = geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])
    entrance = [_value(row.get(c)) for c in ENTRANCE]
    if None in entrance:
        return shapely.point_on_surface(site), site
    point, reason = area_files.in_wgs84(Point(*entrance), crs)
    if reason is not None:
        problem(f"entrance {reason}")
        return None, None
    return point, site


def district_boundary(conn: Connection, district: str) -> Any:
    """The district of the active generation in EPSG:4549 (metres), for the distance check."""
    wkb = conn.execute(
        select(func.ST_AsBinary(AREAS.c.geom)).where(
            AREAS.c.generation == sql.active_generation(), AREAS.c.code == district
        )
    ).scalar()
    if wkb is None:
        raise NotFound(f"district {district} is not in the active generation: import the grids first")
    shape = shapely.from_wkb(bytes(wkb))
    coords = shapely.get_coordinates(shape)
    x, y = transform(coords[:, 0], coords[:, 1], WGS84, METRIC)
    return shapely.set_coordinates(shape, np.column_stack([x, y]))


def import_assets(
    conn: Connection,
    collection: str,
    path: Path,
    *,
    crs: str | None = None,
    id_field: str | None = None,
    district: str,
    update: bool = False,
    extra: str = "keep",
    tolerance_m: float = 30.0,
) -> AssetImport:
    """Add the assets of a file, all or nothing (in the caller's transaction). IDs must be new, or
    with ``update`` existing assets are updated by ID: each row is a whole asset (every required
    column), its columns replace the stored ones and optional attributes it leaves out keep
    their values (e.g. last_inspected)."""
    kind = collection_kind(collection)
    read = read_assets(
        path, kind, crs=crs, id_field=id_field, district=district, extra=extra,
        boundary=district_boundary(conn, district), tolerance_m=tolerance_m,
    )  # fmt: skip
    existing = store.attributes_of(conn, [r.id for r in read.records])
    if existing and not update:
        raise area_files.ImportProblems(
            [Problem(t, f"asset {t} exists already (import with --update to update it)", row=read.rows[t])
             for t in sorted(existing)],
            path.name,
        )  # fmt: skip
    problems = []
    for r in read.records:
        if r.id in existing:
            before = existing[r.id]
            extras = {**before.get("extra", {}), **r.attributes.get("extra", {})}
            r.attributes = {**before, **r.attributes, **({"extra": extras} if extras else {})}
            try:
                store.checked(r, district)
            except InvalidInput as exc:
                problems.append(
                    Problem(r.id, f"with its stored attributes: {exc.message}", row=read.rows[r.id])
                )
    if problems:
        raise area_files.ImportProblems(problems, path.name)
    store.write_assets(conn, read.records, district, replace=update)  # located as they are written
    outside = (
        conn.execute(
            text("SELECT id FROM assets WHERE id = ANY(:ids) AND micro_grid IS NULL ORDER BY id"),
            {"ids": [r.id for r in read.records]},
        )
        .scalars()
        .all()
    )
    notes = list(read.notes)
    if outside:
        notes.append(
            f"{len(outside)} within {tolerance_m:g} m outside the district belong to no micro-grid: "
            + ", ".join(outside[:10])
        )
    conn.execute(text("ANALYZE assets"))
    updated = len(existing)
    return AssetImport(len(read.records), read.crs, len(read.records) - updated, updated, notes)


def export_assets(conn: Connection, collection: str, path: Path, *, crs: str | None = None) -> int:
    """Write an asset collection (attributes as columns) in any supported format and CRS."""
    kind = collection_kind(collection)
    if path.suffix.lower() not in area_files.FORMATS:
        raise InvalidInput(
            f"{path.name}: unsupported format; use {', '.join(area_files.FORMATS)}", field="file"
        )
    out_crs = parse_crs(crs, field="crs")
    rows, _ = store.query_features(
        conn,
        kind=kind,
        bbox=None,
        subclass=None,
        status=None,
        limit=10_000_000,
        offset=0,
        digits=15,
        extra=True,
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

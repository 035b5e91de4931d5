"""Reading and writing layer files (GeoJSON, GeoPackage, zipped Shapefile, CSV); the grid layers.

Reading goes through pyogrio (GDAL). What GDAL does not decide for us is decided
here, explicitly and never by guessing coordinates: the text encoding of a
Shapefile's ``.dbf`` (its ``.cpg`` if present, else UTF-8 if the bytes decode as
UTF-8, else GB18030, the superset of GBK that Chinese GIS tools write), the CRS (the
file's declaration, or ``--crs``, or WGS84 — and a conflict between the two is an
error), and whether the coordinates are plausible for that CRS. Every problem is
collected with its row number and code; an import writes nothing unless all rows
are good and the new layer nests exactly (``layers.validate``).

SQL: only ``ANALYZE`` after a bulk import is written out; writes go through
``layers.grid.areas``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import Connection, text

from geo.crs import from_wgs84, parse_crs, to_wgs84
from geo.errors import Conflict, InvalidInput, TooLarge, UnknownCRS
from layers.db.vocabulary import CODE_LENGTH, LEVELS
from layers.grid import areas
from layers.grid.areas import AreaRecord
from layers.grid.validate import Problem, check_generation
from layers.io.streams import spreadsheet_safe, unquote_cell

FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".zip": "ESRI Shapefile",
    ".csv": "CSV",
}
MAX_UNZIPPED = 512 * 1024 * 1024
MAX_VERTICES = 100_000  # one geometry; the reference district's largest area has ~2,000
MAX_RATIO = 200  # compressed → uncompressed, beyond which a zip is treated as a bomb
CODE_FIELDS = ("code", "CODE", "Code", "编码", "代码", "网格编码", "bm", "BM")
NAME_FIELDS = ("name", "NAME", "Name", "名称", "网格名称", "mc", "MC")
PARENT_FIELDS = ("parent_code", "parent", "PARENT", "上级编码")
WKT_FIELDS = ("wkt", "WKT", "geometry", "geom", "the_geom")
LONLAT_FIELDS = (("lon", "lat"), ("lng", "lat"), ("longitude", "latitude"), ("x", "y"), ("经度", "纬度"))
OPTIONAL = ("households", "population", "worker_name", "worker_phone", "party_branch")
# Shapefile field names stop at 10 characters: the short names used on export, accepted on import.
SHAPEFILE_NAMES = {
    "parent_code": "parent",
    "worker_name": "worker",
    "worker_phone": "phone",
    "party_branch": "branch",
}


def short_names(fields: Sequence[str]) -> dict[str, str]:
    """Unique Shapefile field names (≤ 10 characters) for ``fields``, deterministic so that an
    import can undo them; only the names that change are listed.

    >>> short_names(["entrance_lon", "entrance_lat", "status"])
    {'entrance_lon': 'entrance_l', 'entrance_lat': 'entranc_01'}
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    for name in fields:
        short, n = SHAPEFILE_NAMES.get(name) or name[:10], 1
        while short in taken:
            short, n = f"{name[:7]}_{n:02d}", n + 1
        taken.add(short)
        if short != name:
            names[name] = short
    return names


class ImportProblems(InvalidInput):
    """A file that cannot be imported as it is; ``problems`` lists every reason."""

    code = "import_failed"

    def __init__(self, problems: Sequence[Problem], what: str = "the file"):
        self.problems = list(problems)
        first = self.problems[0]
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{what} was not imported: {first}{more}")

    def as_dict(self) -> dict[str, Any]:
        """The error body with every problem listed (the API shows them all, as the CLI does)."""
        return {**super().as_dict(), "problems": [str(p) for p in self.problems[:1000]]}


@dataclass
class ReadLayer:
    """What was read from a file: rows as WGS84 records, the CRS used, notes on repairs."""

    records: list[AreaRecord]
    crs: str
    notes: list[str] = field(default_factory=list)


# -- encodings and containers ---------------------------------------------------------------

_CPG = {
    "gbk": "GB18030",
    "936": "GB18030",
    "cp936": "GB18030",
    "gb2312": "GB18030",
    "gb18030": "GB18030",
    "utf-8": "UTF-8",
    "utf8": "UTF-8",
    "65001": "UTF-8",
}


def dbf_encoding(dbf: bytes, cpg: str | None) -> str:
    """The encoding of a ``.dbf``: its ``.cpg`` if given, else UTF-8 if it decodes, else GB18030.

    >>> dbf_encoding("名称".encode("gbk"), None), dbf_encoding("名称".encode(), None)
    ('GB18030', 'UTF-8')
    >>> dbf_encoding(b"abc", "936")
    'GB18030'
    """
    if cpg:
        key = cpg.strip().lower()
        if key in _CPG:
            return _CPG[key]
        raise InvalidInput(
            f"the .cpg names an encoding the platform does not read: {cpg.strip()!r}", field="file"
        )
    try:
        dbf.decode("utf-8")
    except UnicodeDecodeError:
        return "GB18030"
    return "UTF-8"


def _open_zip(path: Path) -> tuple[str, str]:
    """The ``/vsizip/`` path of the one Shapefile inside ``path`` and its encoding."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InvalidInput(f"{path.name} is not a readable zip file", field="file") from None
    with archive:
        infos = archive.infolist()
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        if total > MAX_UNZIPPED or total / packed > MAX_RATIO:
            raise TooLarge(
                f"{path.name} unpacks to {total:,} bytes ({total / packed:.0f}× its size): refused",
                field="file",
            )
        for info in infos:
            name = PurePosixPath(info.filename)
            if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
                raise InvalidInput(
                    f"{path.name} holds an unsafe path {info.filename!r}: refused", field="file"
                )
        shps = [i.filename for i in infos if i.filename.lower().endswith(".shp")]
        if len(shps) != 1:
            raise InvalidInput(f"{path.name} must hold exactly one .shp (it holds {len(shps)})", field="file")
        stem = shps[0][:-4]
        names = {i.filename.lower(): i.filename for i in infos}
        dbf_name = names.get(f"{stem}.dbf".lower())
        if dbf_name is None:
            raise InvalidInput(f"{path.name} has no {stem}.dbf beside the .shp", field="file")
        cpg_name = names.get(f"{stem}.cpg".lower())
        cpg = archive.read(cpg_name).decode("ascii", "replace") if cpg_name else None
        encoding = dbf_encoding(archive.read(dbf_name), cpg)
    return f"/vsizip/{path}/{shps[0]}", encoding


def read_text(path: Path) -> str:
    """A text file as UTF-8 (with or without a BOM) or GBK (GB18030) — what Excel and registers write."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(f"{path.name} is neither UTF-8 nor GBK text", field="file")


def _read_csv(path: Path) -> tuple[pd.DataFrame, np.ndarray, None]:
    rows = list(csv.DictReader(io.StringIO(read_text(path))))
    if not rows:
        raise InvalidInput(f"{path.name} has no rows", field="file")
    frame = pd.DataFrame(rows)
    column = next((c for c in WKT_FIELDS if c in frame.columns), None)
    lonlat = next(((x, y) for x, y in LONLAT_FIELDS if x in frame.columns and y in frame.columns), None)
    if column is None and lonlat is not None:  # a point layer (assets) may come as two columns
        x, y = (pd.to_numeric(frame.pop(c), errors="coerce").to_numpy() for c in lonlat)
        geoms = np.array(
            [None if np.isnan(a) or np.isnan(b) else shapely.Point(a, b) for a, b in zip(x, y, strict=True)]
        )
        return frame, geoms, None
    if column is None:
        raise InvalidInput(
            f"{path.name} needs a WKT column ({', '.join(WKT_FIELDS[:3])}) or lon,lat columns; "
            f"it has {', '.join(frame.columns)}",
            field="file",
        )
    geoms = np.empty(len(frame), dtype=object)
    for i, wkt in enumerate(frame.pop(column)):
        try:
            geoms[i] = shapely.from_wkt(wkt) if wkt else None
        except shapely.errors.GEOSException:
            geoms[i] = "bad"
    return frame, geoms, None


_PATH = re.compile(r"(/vsi\w+)?/[^\s'\":]+")
_SQL = re.compile(r"\b(SELECT|INSERT|PRAGMA|sqlite3?_\w+)\b", re.IGNORECASE)


def reader_reason(exc: Exception) -> str:
    """GDAL's complaint about a file, without the paths and SQL it adds (the user sent a
    file; where it was unpacked and what GDAL asked SQLite are not theirs to read).

    >>> reader_reason(ValueError("sqlite3_exec(SELECT * FROM gpkg) failed: /vsizip//tmp/x/up.zip/a.shp"))
    'its contents are not readable in the format its name says'
    >>> reader_reason(ValueError("'/tmp/wangge-upload-1/up.gpkg' not recognized as a supported format."))
    "'the file' not recognized as a supported format."
    """
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if _SQL.search(first):
        return "its contents are not readable in the format its name says"
    return _PATH.sub("the file", first)[:200]


def read_file(path: Path) -> tuple[pd.DataFrame, np.ndarray, CRS | None]:
    """Attributes, geometries (shapely) and the declared CRS of a layer file."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(f"{path.name}: unsupported format; use {', '.join(FORMATS)}", field="file")
    if suffix == ".csv":
        return _read_csv(path)
    source, options = str(path), {}
    if suffix == ".zip":
        source, options["encoding"] = _open_zip(path)
    try:
        frame = pyogrio.read_dataframe(source, **options)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path.name} could not be read: {reader_reason(exc)}", field="file") from None
    declared = frame.crs
    if suffix in (".geojson", ".json") and declared is not None and declared.to_2d().to_epsg() == 4326:
        # GeoJSON is WGS84 by definition (RFC 7946), so GDAL reports 4326 for every file; yet
        # Amap and Tencent exports are GeoJSON in GCJ-02. Only a non-WGS84 ``crs`` member counts.
        declared = None
    geoms = frame.geometry.to_numpy()
    return pd.DataFrame(frame.drop(columns=frame.geometry.name)), geoms, declared


# -- CRS and rows -----------------------------------------------------------------------------

_EPSG_ACCEPTED = {4326, 4490, 3857, 4549, 4528}


def resolve_crs(declared: CRS | None, given: str | None) -> str:
    """The CRS to read a file in: ``--crs`` or the file's own, which must agree; WGS84 if neither.

    >>> resolve_crs(None, "gcj02"), resolve_crs(CRS("EPSG:4549"), None), resolve_crs(None, None)
    ('gcj02', 'EPSG:4549', 'EPSG:4326')
    """
    declared_name: str | None = None
    if declared is not None:
        declared = declared.to_2d()  # 3D coordinates are refused per row, with their row number
        authority = declared.to_authority(min_confidence=70)
        epsg = 4326 if authority == ("OGC", "CRS84") else declared.to_epsg(min_confidence=70)
        if epsg not in _EPSG_ACCEPTED:
            label = ":".join(authority) if authority else declared.name
            raise UnknownCRS(
                f"the file declares {label}, which the platform does not accept; "
                "reproject it to EPSG:4326, 4490, 3857, 4549 or 4528",
                field="crs",
            )
        declared_name = f"EPSG:{epsg}"
    if given is not None:
        chosen = parse_crs(given)
        geographic = {"EPSG:4326", "EPSG:4490"}
        if declared_name and chosen != declared_name and not {chosen, declared_name} <= geographic:
            raise InvalidInput(
                f"the file declares {declared_name} but --crs says {given}: fix the file's CRS or drop --crs",
                field="crs",
            )
        return chosen
    return declared_name or "EPSG:4326"


def find_field(
    frame: pd.DataFrame, explicit: str | None, candidates: Sequence[str], what: str, required: bool
) -> str | None:
    if explicit is not None:
        if explicit not in frame.columns:
            raise InvalidInput(
                f"no field {explicit!r} in the file; it has: {', '.join(map(str, frame.columns))}",
                field=f"{what}-field",
            )
        return explicit
    found = next((c for c in candidates if c in frame.columns), None)
    if found is None and required:
        raise InvalidInput(
            f"no {what} field found (tried {', '.join(candidates[:4])}, …); the file has: "
            f"{', '.join(map(str, frame.columns))}; name it with --{what}-field",
            field=f"{what}-field",
        )
    return found


def cell_text(value: Any) -> str | None:
    """A cell as text: None for blanks, integers without a trailing ``.0`` (numeric .dbf codes)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = unquote_cell(str(value).strip())  # a cell our own CSV export made formula-safe
    return text or None


def in_wgs84(geom: Any, crs: str) -> tuple[Any, str | None]:
    """A geometry read in ``crs``, converted to WGS84; or a problem when its coordinates cannot be
    in that CRS or fall outside China (the usual sign of a wrong CRS)."""
    coords = shapely.get_coordinates(geom)
    try:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], crs)
    except InvalidInput as exc:
        if exc.message.startswith("coordinates lie outside the area of"):  # far outside the zone
            return None, f"lies outside China when read as {crs}: is that CRS right?"
        return None, f"{exc.message} when read as {crs}: is that CRS right?"
    if np.any((lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)):
        return None, f"lies outside China when read as {crs}: is that CRS right?"
    return shapely.set_coordinates(geom, np.column_stack([lon, lat])), None


def _geometry(geom: Any, crs: str, make_valid: bool) -> tuple[MultiPolygon | None, str | None, str | None]:
    """(WGS84 multipolygon, problem, repair note) for one input geometry."""
    if geom is None or isinstance(geom, str):
        return None, "has no geometry" if geom is None else "has unreadable WKT", None
    if geom.is_empty:
        return None, "has an empty geometry", None
    if shapely.has_z(geom):
        return None, "has 3D coordinates (Z); export it in 2D", None
    vertices = shapely.get_num_coordinates(geom)
    if vertices > MAX_VERTICES:
        return None, f"has {vertices:,} vertices; the limit is {MAX_VERTICES:,} (simplify it)", None
    if not isinstance(geom, (Polygon, MultiPolygon)):
        return None, f"is a {geom.geom_type}; grid layers need polygons", None
    geom, problem = in_wgs84(geom, crs)
    if problem is not None:
        return None, problem, None
    note = None
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        if not make_valid:
            return None, f"invalid geometry: {reason}; fix it or import with --make-valid", None
        repaired = shapely.make_valid(geom)
        polys = [p for p in shapely.get_parts(repaired) if isinstance(p, Polygon) and p.area > 0]
        polys = [q for p in polys for q in shapely.get_parts(p)]
        if not polys:
            return None, f"invalid geometry ({reason}) with no area left after repair", None
        geom, note = MultiPolygon(polys), f"repaired ({reason})"
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    return geom, None, note


def read_layer(
    path: Path,
    level: str,
    *,
    crs: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    make_valid: bool = False,
) -> ReadLayer:
    """Read a file of ``level`` areas into WGS84 records, or raise with every bad row listed."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field="file")
    frame, geoms, declared = read_file(path)
    frame = frame.rename(
        columns={
            short: full
            for full, short in SHAPEFILE_NAMES.items()
            if short in frame.columns and full not in frame.columns
        }
    )
    used_crs = resolve_crs(declared, crs)
    code_col = find_field(frame, code_field, CODE_FIELDS, "code", required=True)
    name_col = find_field(frame, name_field, NAME_FIELDS, "name", required=False)
    parent_col = find_field(frame, parent_field, PARENT_FIELDS, "parent", required=False)
    length = CODE_LENGTH[level]
    problems: list[Problem] = []
    notes: list[str] = []
    records: list[AreaRecord] = []
    seen: dict[str, int] = {}
    for i, (row, geom) in enumerate(zip(frame.to_dict("records"), geoms, strict=True), start=1):
        code = cell_text(row.get(code_col))
        if code is None or not code.isdigit() or len(code) != length:
            problems.append(Problem(code, f"code {code!r} is not a {length}-digit {level} code", row=i))
            continue
        if code in seen:
            problems.append(Problem(code, f"duplicate code {code} (also row {seen[code]})", row=i))
            continue
        seen[code] = i
        parent = code[:-3] if level != "district" else None
        given_parent = cell_text(row.get(parent_col)) if parent_col else None
        if given_parent is not None and given_parent != parent:
            problems.append(
                Problem(code, f"parent {given_parent} does not match the code's prefix {parent}", row=i)
            )
            continue
        multi, problem, note = _geometry(geom, used_crs, make_valid)
        if problem is not None or multi is None:
            problems.append(Problem(code, problem or "has no geometry", row=i))
            continue
        if note:
            notes.append(f"row {i} ({code}): {note}")
        extra: dict[str, Any] = {k: cell_text(row.get(k)) for k in OPTIONAL if k in frame.columns}
        for k in ("households", "population"):
            if extra.get(k) is not None:
                try:
                    extra[k] = int(float(str(extra[k])))
                except ValueError:
                    problems.append(Problem(code, f"{k} {extra[k]!r} is not a number", row=i))
        name = cell_text(row.get(name_col)) if name_col else None
        records.append(
            AreaRecord(code, level, name or code, parent, multi, properties={"source": path.name}, **extra)
        )
    if not records and not problems:
        problems.append(Problem(None, "the file has no features"))
    if problems:
        raise ImportProblems(problems, path.name)
    return ReadLayer(records, used_crs, notes)


# -- import into a generation ------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    generation: int
    count: int
    crs: str
    notes: list[str]
    created: bool


def _target_generation(
    conn: Connection, level: str, generation: int | None, label: str, district: str | None
) -> tuple[int, bool]:
    """The draft generation to import into (a new one, with the levels above copied in, and with
    ``district`` every other district's areas of this level and below)."""
    known = {g.id: g for g in areas.list_generations(conn)}
    if generation is not None and generation in known:
        status = known[generation].status
        if status != "draft":
            raise Conflict(
                f"generation {generation} is {status}; import into a new generation and activate it",
                field="generation",
            )
        if areas.count_by_level(conn, generation, under=district)[level]:
            where = f" in district {district}" if district else ""
            raise Conflict(
                f"generation {generation} already has {level} areas{where}; use a new generation",
                field="generation",
            )
        return generation, False
    new = areas.create_generation(conn, label, source=f"import:{label}", generation=generation)
    active = areas.active_generation(conn)
    above = LEVELS[: LEVELS.index(level)]
    if active is not None and above:
        areas.copy_levels(conn, active, new, above)
    if active is not None and district is not None:
        areas.copy_levels(conn, active, new, LEVELS[LEVELS.index(level) :], except_under=district)
    return new, True


def import_layer(
    conn: Connection,
    collection: str,
    path: Path,
    *,
    crs: str | None = None,
    generation: int | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    make_valid: bool = False,
    district: str | None = None,
) -> ImportResult:
    """Import a layer file into a draft generation, all or nothing (in the caller's transaction).

    With ``district``, the file is that district's layer: every row must be in it, and the
    other districts keep theirs. Raises ``ImportProblems`` listing every bad row, missing parent,
    overlap or gap; the caller's rollback then leaves the database as it was.
    """
    level = areas.collection_level(collection)
    read = read_layer(
        path,
        level,
        crs=crs,
        code_field=code_field,
        name_field=name_field,
        parent_field=parent_field,
        make_valid=make_valid,
    )
    if district is not None:
        strays = [
            Problem(r.code, f"is not in district {district}", row=i)
            for i, r in enumerate(read.records, start=1)
            if not r.code.startswith(district)
        ]
        if strays:
            raise ImportProblems(strays, path.name)
    target, created = _target_generation(conn, level, generation, path.name, district)
    if level != "district":
        parents = set(areas.codes(conn, target, LEVELS[LEVELS.index(level) - 1]))
        missing = [
            Problem(r.code, f"parent {r.parent_code} does not exist in generation {target}", row=i)
            for i, r in enumerate(read.records, start=1)
            if r.parent_code not in parents
        ]
        if missing:
            raise ImportProblems(missing, path.name)
    areas.write_areas(conn, target, read.records)
    conn.execute(text("ANALYZE areas"))
    problems = check_generation(conn, target)
    if problems:
        empty = [p for p in problems if p.reason.startswith("has no ")]
        if len(empty) > 1:  # most likely a file with a few of them: say what an import is, first
            hint = (
                f"a {level.replace('_', '-')} import is a complete generation: the file must hold every "
                f"{level.replace('_', '-')} of the district, and {len(empty)} parent areas have none in it"
            )
            problems = [Problem(None, hint), *problems]
        raise ImportProblems(problems, path.name)
    return ImportResult(target, len(read.records), read.crs, read.notes, created)


# -- export ------------------------------------------------------------------------------------


def export_layer(
    conn: Connection,
    collection: str,
    path: Path,
    *,
    crs: str | None = None,
    generation: int | None = None,
    include_personal: bool = False,
) -> int:
    """Write a collection to ``path`` (format from its suffix) in ``crs``; returns the count."""
    level = areas.collection_level(collection)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(f"{path.name}: unsupported format; use {', '.join(FORMATS)}", field="file")
    out_crs = parse_crs(crs, field="crs")
    gen = areas.require_active(conn) if generation is None else generation
    columns = [*areas.PUBLIC_COLUMNS, *(("worker_phone",) if include_personal else ())]
    rows = areas.all_features(conn, level=level, generation=gen, columns=columns)
    return write_rows(rows, path, out_crs)


def write_rows(
    rows: list[dict[str, Any]], path: Path, out_crs: str, shapefile_names: dict[str, str] = SHAPEFILE_NAMES
) -> int:
    """Write feature rows (properties + a ``geojson`` geometry in WGS84) in ``out_crs``, format by suffix."""
    import geopandas as gpd

    suffix = path.suffix.lower()
    geoms = shapely.from_geojson([r.pop("geojson") for r in rows]) if rows else np.array([], dtype=object)
    if len(geoms):
        geoms = shapely.transform(geoms, lambda c: np.column_stack(from_wgs84(c[:, 0], c[:, 1], out_crs)))
    epsg = None if out_crs in ("gcj02", "bd09") else out_crs
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=list(geoms), crs=epsg)
    if suffix == ".csv":
        table = frame.assign(wkt=shapely.to_wkt(geoms, rounding_precision=-1)).drop(columns="geometry")
        table.map(spreadsheet_safe).to_csv(path, index=False)
    elif suffix == ".zip":
        write_zipped_shapefile(frame, path, shapefile_names)
    else:
        frame.to_file(path, driver=FORMATS[suffix], engine="pyogrio")
    return len(rows)


def write_zipped_shapefile(frame: Any, path: Path, names: dict[str, str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{path.stem}.shp"
        frame = frame.rename(columns=names)
        frame.to_file(shp, driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)

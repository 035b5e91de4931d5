"""Point files located in bulk, column by column: read with pyarrow, locate in one call, write back.

The batch endpoint, ``wangge locate --file`` and its Dask path share this module, so a
point gets the same answer whichever way it came. Nothing here loops over rows in
Python except over bad ones:

* **read**: CSV (UTF-8 or GBK, streamed in blocks), Parquet / GeoParquet (row groups),
  GeoJSON and the JSON body of the API. Coordinates become float64 arrays with NaN where
  a row is unusable, and every other column is kept as given (text, for CSV) to be
  echoed beside the answer;
* **answer**: ``answer_table`` turns a ``PointBatch`` into an Arrow table — the micro-grid
  index from ``AreaIndex.locate``, the codes of the chain by ``take`` on per-micro-grid
  code arrays, the row errors as columns;
* **write**: pyarrow's CSV and Parquet writers, and JSON assembled as Arrow strings
  (``json_bytes``) — the rows' JSON texts are concatenated from the array's own buffer.

Why not pandas' ``read_csv`` or ``polars``: pyarrow is the one engine that parses CSV in
blocks with bounded memory, reads Parquet row groups and writes both, and Dask reads
Parquet through it anyway; one engine, no conversions between them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely

from geo import parallel, points
from geo.errors import InvalidInput
from layers.grid.index import AreaIndex
from layers.io.streams import spreadsheet_safe

ANSWER_COLUMNS = ("inside", "distance_m", "street", "community", "grid", "micro_grid")
BLOCK_BYTES = 8 << 20  # a CSV block: ~400,000 rows of lon,lat (memory stays bounded)
SNIFF_BYTES = 4 << 20  # how much of a file decides its encoding
_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_GEOPARQUET_WGS84 = {"EPSG:4326", "OGC:CRS84", "4326"}


def _encoding(head: bytes) -> str:
    """UTF-8 when ``head`` decodes as UTF-8 (a cut last character allowed), else GB18030 (⊇ GBK)."""
    try:
        head.decode("utf-8")
        return "utf8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return "utf8"
    try:
        head.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        raise InvalidInput("the CSV is neither UTF-8 nor GBK text", field="file") from None


def _header(head: bytes, encoding: str) -> list[str]:
    text = head.decode("utf-8" if encoding == "utf8" else encoding, errors="ignore")
    first = next(csv.reader(io.StringIO(text.lstrip("\ufeff").split("\n", 1)[0])), [])
    return [c.strip() for c in first]


def _pick(names: list[str]) -> tuple[str, str]:
    lower = {c.lower(): c for c in names}
    lon = next((lower[c] for c in points.LON_COLUMNS if c in lower), None)
    lat = next((lower[c] for c in points.LAT_COLUMNS if c in lower), None)
    if lon is None or lat is None:
        raise InvalidInput(
            f"the CSV needs lon and lat columns; it has: {', '.join(names) or 'none'}", field="file"
        )
    return lon, lat


def numbers(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Text cells as float64, NaN where a cell is not a plain decimal number.

    >>> numbers(pa.array(["120.5", " 36 ", "x", "", "1e3", "nan"])).tolist()
    [120.5, 36.0, nan, nan, 1000.0, nan]
    """
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    try:  # the common case: every cell is a number (nulls allowed)
        cast = pc.cast(pc.utf8_trim_whitespace(column), pa.float64())
        values = np.asarray(cast.to_numpy(zero_copy_only=False), dtype=np.float64)
        return np.where(np.isfinite(values), values, np.nan)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    good = pc.match_substring_regex(column, _NUMBER)
    kept = pc.if_else(good, pc.utf8_trim_whitespace(column), pa.scalar(None, pa.string()))
    return np.asarray(pc.cast(kept, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def _batch(
    x: np.ndarray, y: np.ndarray, given: pa.Table | None, offset: int, where: str = "row"
) -> points.PointBatch:
    """A batch whose unparseable rows carry the error the API has always given them."""
    batch = points.PointBatch(x, y, {}, given, where=where, offset=offset)
    for i in np.flatnonzero(~(np.isfinite(x) & np.isfinite(y))):
        name = batch.field(int(i))
        batch.errors[int(i)] = {
            "code": "invalid_coordinates",
            "message": f"{name}: lon and lat must be numbers",
            "field": name,
        }
    return batch


def _csv_options(encoding: str, names: list[str], coords: tuple[str, str] | None) -> dict[str, Any]:
    """Every column as text, except the coordinates as float64 when ``coords`` names them."""
    types: dict[str, pa.DataType] = {c: pa.string() for c in names}
    if coords is not None:
        types.update(dict.fromkeys(coords, pa.float64()))
    return {
        "read_options": pacsv.ReadOptions(encoding=encoding, block_size=BLOCK_BYTES),
        "parse_options": pacsv.ParseOptions(newlines_in_values=False),
        "convert_options": pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    }


def _unreadable(exc: pa.ArrowInvalid) -> InvalidInput:
    return InvalidInput(f"the CSV cannot be read: {exc}", field="file")


def _not_a_number(exc: pa.ArrowInvalid) -> bool:
    return "conversion error to double" in str(exc)


def _csv_tables(source: BinaryIO | bytes, head: bytes) -> Iterator[tuple[pa.Table, str, str]]:
    """Blocks of the CSV: coordinates parsed as numbers by pyarrow (fast); if a cell is not
    a number, the rest is read again as text and each cell is judged (``numbers``)."""
    encoding = _encoding(head)
    names = _header(head, encoding)
    lon, lat = _pick(names)
    if isinstance(source, bytes):  # in memory already: one read on every core
        for coords in ((lon, lat), None):
            try:
                yield pacsv.read_csv(io.BytesIO(source), **_csv_options(encoding, names, coords)), lon, lat
                return
            except pa.ArrowInvalid as exc:
                if coords is None or not _not_a_number(exc):
                    raise _unreadable(exc) from None
    assert not isinstance(source, bytes)
    done = 0
    start = source.tell()
    try:
        for block in pacsv.open_csv(source, **_csv_options(encoding, names, (lon, lat))):
            done += block.num_rows
            yield pa.Table.from_batches([block]), lon, lat
        return
    except pa.ArrowInvalid as exc:
        if not _not_a_number(exc):
            raise _unreadable(exc) from None
    source.seek(start)
    skip = done
    try:
        for block in pacsv.open_csv(source, **_csv_options(encoding, names, None)):
            table = pa.Table.from_batches([block])
            if skip >= table.num_rows:
                skip -= table.num_rows
                continue
            yield table.slice(skip), lon, lat
            skip = 0
    except pa.ArrowInvalid as exc:
        raise _unreadable(exc) from None


def csv_batches(source: BinaryIO | bytes, limit: int | None = None) -> Iterator[points.PointBatch]:
    r"""The rows of a CSV with lon/lat columns (any of ``points.LON_COLUMNS``), a block at a time.

    Other columns are read as text, so the answer echoes them exactly as given.

    >>> [b.x.tolist() for b in csv_batches(b"id,lon,lat\n1,120.3,36.1\n2,x,36\n")]
    [[120.3, nan]]
    >>> next(csv_batches(b"id,lon,lat\n1,120.3,36.1\n2,x,36\n")).errors[1]["message"]
    'row 2: lon and lat must be numbers'
    """
    if isinstance(source, bytes):
        head = source[:SNIFF_BYTES]
        if len(source) > SNIFF_BYTES:
            _encoding(source)  # the whole body is in memory: check all of it, not the head only
    else:
        head = source.read(SNIFF_BYTES)
        source.seek(0)
    offset = 0
    for table, lon, lat in _csv_tables(source, head):
        if limit is not None and offset + table.num_rows > limit:
            raise points.too_many(offset + table.num_rows, limit, "rows")
        yield _batch(numbers(table.column(lon)), numbers(table.column(lat)), table, offset)
        offset += table.num_rows
    if offset == 0:
        raise InvalidInput("rows is empty", field="rows")


def _geoparquet_crs(meta: dict[bytes, bytes] | None) -> str | None:
    """The CRS a GeoParquet file declares for its primary geometry (None: plain Parquet)."""
    if not meta or b"geo" not in meta:
        return None
    geo = orjson.loads(meta[b"geo"])
    column = geo.get("columns", {}).get(geo.get("primary_column", "geometry"), {})
    crs = column.get("crs", "OGC:CRS84")
    if crs is None or isinstance(crs, str):
        return "wgs84" if crs in (None, *_GEOPARQUET_WGS84) else str(crs)
    ident = crs.get("id", {})
    code = f"{ident.get('authority', '')}:{ident.get('code', '')}"
    return "wgs84" if code in _GEOPARQUET_WGS84 else code


def frame_batch(table: pa.Table, offset: int, geometry: str | None = None) -> points.PointBatch:
    """A batch from an Arrow table: lon/lat columns, or a WKB point column (GeoParquet)."""
    if geometry is not None:
        wkb = table.column(geometry).to_numpy(zero_copy_only=False)
        shapes = shapely.from_wkb(wkb, on_invalid="ignore")
        is_point = shapely.get_type_id(shapes) == 0
        xy = np.full((len(shapes), 2), np.nan)
        if is_point.any():
            xy[is_point] = shapely.get_coordinates(shapes[is_point])
        return _batch(xy[:, 0], xy[:, 1], table.drop_columns([geometry]), offset)
    lon, lat = _pick(table.column_names)
    return _batch(numbers(table.column(lon)), numbers(table.column(lat)), table, offset)


def geometry_column(path: Path) -> str | None:
    """The primary geometry column of a GeoParquet file (or dataset's first part); None for plain Parquet."""
    first = path if path.is_file() else next(iter(sorted(path.glob("*.parquet"))), None)
    if first is None:
        raise InvalidInput(f"{path} holds no Parquet files", field="file")
    meta = pq.read_schema(first).metadata
    if _geoparquet_crs(meta) is None:
        return None
    return str(orjson.loads(meta[b"geo"]).get("primary_column", "geometry"))


def parquet_rows(path: Path) -> int:
    """The rows of a Parquet file, from its footer."""
    return int(pq.ParquetFile(path).metadata.num_rows)


def parquet_batches(path: Path, crs: str | None) -> tuple[Iterator[points.PointBatch], str]:
    """The row groups of a Parquet file as batches, and the CRS to read them in.

    A GeoParquet file says its CRS; a different ``crs`` given for it is an error, not a
    silent reinterpretation.
    """
    try:
        handle = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"{path.name} is not a Parquet file: {exc}", field="file") from None
    declared = _geoparquet_crs(handle.schema_arrow.metadata)
    geometry = geometry_column(path) if declared is not None else None
    if declared is not None and crs is not None and not points.same_crs(crs, declared):
        raise InvalidInput(f"{path.name} declares its CRS as {declared}, not {crs}", field="crs")
    used = declared or crs or "wgs84"

    def batches() -> Iterator[points.PointBatch]:
        offset = 0
        for group in range(handle.num_row_groups):
            table = handle.read_row_group(group)
            yield frame_batch(table, offset, geometry)
            offset += table.num_rows

    return batches(), used


def json_batch(body: bytes, limit: int) -> tuple[points.PointBatch, str | None]:
    """The API's JSON body (``{"crs", "points"}`` or a FeatureCollection) as one batch.

    ``[[lon, lat], …]`` of plain numbers goes to numpy in one call; anything else (a
    FeatureCollection, a bad row) takes the row-by-row parser that names every bad row.
    """
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        message = (
            "the body is nested too deeply"
            if "recursion" in str(exc)
            else "the body is not valid JSON (or send text/csv)"
        )
        raise InvalidInput(message, field="body") from None
    rows = (
        parsed.get("points")
        if isinstance(parsed, dict) and parsed.get("type") != "FeatureCollection"
        else None
    )
    if isinstance(rows, list) and rows and b"true" not in body and b"false" not in body:
        try:
            xy = np.array(rows)
        except ValueError:
            xy = None
        if xy is not None and xy.ndim == 2 and xy.shape[1] >= 2 and xy.dtype.kind in "fi":
            points.check_size(len(rows), limit, "points")
            crs = parsed.get("crs")
            batch = points.PointBatch(
                xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64), {}, where="points"
            )
            return batch, crs if isinstance(crs, str) or crs is None else str(crs)
    return points.from_json(parsed, limit)


def geojson_batch(path: Path, limit: int) -> tuple[points.PointBatch, str | None]:
    """A GeoJSON file of points (RFC 7946: WGS84 unless the file says otherwise)."""
    batch, crs = json_batch(path.read_bytes(), limit)
    return batch, crs


@dataclass(frozen=True)
class Codes:
    """Per level of the chain, its distinct codes and, per micro-grid, the position of its own.

    The answer's code columns are dictionary arrays over these (an index per row, the codes
    once): cheap to build, and Parquet writes them as they are.
    """

    levels: dict[str, tuple[npt.NDArray[np.int32], pa.Array]]

    @classmethod
    def of(cls, index: AreaIndex) -> Codes:
        micro = np.asarray(index.codes, dtype=object)
        levels = {}
        for level, width in (("street", 9), ("community", 12), ("grid", 15), ("micro_grid", None)):
            prefixes = micro if width is None else np.array([c[:width] for c in index.codes], dtype=object)
            distinct, position = np.unique(prefixes, return_inverse=True)
            levels[level] = (position.astype(np.int32), pa.array(distinct.tolist(), pa.string()))
        return cls(levels)

    def column(self, level: str, where: npt.NDArray[np.int64], bad: npt.NDArray[np.bool_] | None) -> pa.Array:
        """The ``level`` codes of the micro-grids ``where`` (null where ``bad``)."""
        position, distinct = self.levels[level]
        return pa.DictionaryArray.from_arrays(pa.array(position[where], mask=bad), distinct)


_CODES: dict[int, Codes] = {}


def codes_of(index: AreaIndex) -> Codes:
    """The code arrays of ``index`` (made once per index)."""
    found = _CODES.get(id(index))
    if found is None or len(found.levels["micro_grid"][0]) != len(index.codes):
        found = _CODES[id(index)] = Codes.of(index)
    return found


def answer_table(index: AreaIndex, batch: points.PointBatch, crs: str) -> pa.Table:
    """``batch`` located: its own columns, then lon/lat as given, the answer and the row's error.

    Columns: ``row`` (1-based, counting earlier batches), the batch's other columns,
    ``lon``, ``lat``, ``inside``, ``distance_m``, ``street``, ``community``, ``grid``,
    ``micro_grid`` (null on a bad row) and ``error``, ``error_code``, ``error_field``
    (null on a good row).
    """
    n = len(batch)
    lon, lat = points.to_wgs84_rows(batch, crs)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if batch.errors:
        ok[np.fromiter(batch.errors, dtype=np.int64, count=len(batch.errors))] = False
    located = index.locate(np.where(ok, lon, 0.0), np.where(ok, lat, 0.0))
    codes = codes_of(index)
    bad = pa.array(~ok)

    def masked(values: pa.Array) -> pa.Array:  # null on the bad rows
        return pc.if_else(bad, pa.scalar(None, values.type), values) if batch.errors else values

    columns: dict[str, Any] = {"row": pa.array(np.arange(batch.offset + 1, batch.offset + n + 1))}
    given: pa.Table | None = batch.extra
    echo = {"lon": pa.array(batch.x), "lat": pa.array(batch.y)}
    if given is not None:
        lon_col, lat_col = _given_lonlat(given)
        for name in given.column_names:
            if name not in (lon_col, lat_col):
                columns[name if name not in ("row", *ANSWER_COLUMNS) else f"given_{name}"] = given.column(
                    name
                )
        if lon_col is not None and lat_col is not None:
            echo = {"lon": given.column(lon_col), "lat": given.column(lat_col)}
    columns.update(echo)
    columns["inside"] = masked(pa.array(located.inside))
    distance = np.round(located.distance_m, 2)
    columns["distance_m"] = masked(pa.array(distance))
    for level in ("street", "community", "grid", "micro_grid"):
        columns[level] = codes.column(level, located.index, ~ok if batch.errors else None)
    columns.update(_error_columns(batch.errors, n))
    return pa.table(columns)


def _given_lonlat(given: pa.Table) -> tuple[str | None, str | None]:
    lower = {c.lower(): c for c in given.column_names}
    lon = next((lower[c] for c in points.LON_COLUMNS if c in lower), None)
    lat = next((lower[c] for c in points.LAT_COLUMNS if c in lower), None)
    return lon, lat


def _error_columns(errors: dict[int, dict[str, str]], n: int) -> dict[str, pa.Array]:
    if not errors:
        empty = pa.nulls(n, pa.string())
        return {"error": empty, "error_code": empty, "error_field": empty}
    rows = sorted(errors)
    out = {}
    for column, key in (("error", "message"), ("error_code", "code"), ("error_field", "field")):
        values: list[str | None] = [None] * n
        for k in rows:
            values[k] = errors[k][key]
        out[column] = pa.array(values, pa.string())
    return out


CSV_DROP = ("error_code", "error_field")


def _csv_cell_safe(table: pa.Table) -> pa.Table:
    """Text cells a spreadsheet would run as formulas get a leading ``'`` (as ``spreadsheet_safe``)."""
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        if not pa.types.is_string(column.type) or name in ANSWER_COLUMNS or name.startswith("error"):
            continue
        starts = pc.match_substring_regex(column, r"^[=+\-@\t\r]")
        if not pc.any(starts).as_py():
            continue
        risky = pc.and_(starts, pc.invert(pc.match_substring_regex(column, _NUMBER)))
        table = table.set_column(
            i, name, pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        )
    return table


def _plain(table: pa.Table) -> pa.Table:
    """The dictionary columns (the answer's codes) as plain text: pyarrow's CSV writer is ~25%
    slower on a block when it decodes them itself (measured on 100,000 located rows)."""
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, pc.cast(table.column(i), f.type.value_type))
    return table


def csv_bytes(table: pa.Table, header: bool) -> bytes:
    """One block of the CSV answer (the header, quoted only where needed, with the first block)."""
    table = _plain(_csv_cell_safe(table.drop_columns([c for c in CSV_DROP if c in table.column_names])))
    sink = io.BytesIO()
    if header:
        names = io.StringIO()
        csv.writer(names, lineterminator="\n").writerow([spreadsheet_safe(c) for c in table.column_names])
        sink.write(names.getvalue().encode())
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue()


def _json_text(column: pa.Array, quoted: bool) -> pa.Array:
    text = column.dictionary_decode() if pa.types.is_dictionary(column.type) else pc.cast(column, pa.string())
    return pc.binary_join_element_wise('"', text, '"', "") if quoted else text


def json_bytes(table: pa.Table) -> bytes:
    """The rows of ``table`` as the JSON results of API.md, each followed by a comma.

    Good rows are assembled column-wise (codes are digits, nothing to escape); bad rows,
    few, are written by orjson; the texts' own buffer is the answer.
    """
    pieces: list[pa.Array | str] = []
    for k, name in enumerate(ANSWER_COLUMNS):
        pieces.append(("{" if k == 0 else ",") + f'"{name}":')
        values = table.column(name).combine_chunks()
        pieces.append(_json_text(values, quoted=name not in ("inside", "distance_m")))
    pieces.append("},")
    good = pc.binary_join_element_wise(*pieces, "")
    error = table.column("error").combine_chunks()
    if error.null_count < len(error):
        codes, fields = table.column("error_code").to_pylist(), table.column("error_field").to_pylist()
        texts = [
            None
            if m is None
            else orjson.dumps({"error": {"code": c, "message": m, "field": f}}).decode() + ","
            for m, c, f in zip(error.to_pylist(), codes, fields, strict=True)
        ]
        good = pc.if_else(pc.is_valid(error), pa.array(texts, pa.string()), good)
    rows = good.combine_chunks() if isinstance(good, pa.ChunkedArray) else good
    if len(rows) == 0:
        return b""
    bounds = np.frombuffer(rows.buffers()[1], dtype=np.int32, count=len(rows) + 1, offset=rows.offset * 4)
    return memoryview(rows.buffers()[2])[int(bounds[0]) : int(bounds[-1])].tobytes()


def json_stream(tables: Iterator[pa.Table], crs: str) -> Iterator[bytes]:
    """The JSON answer ``{"crs", "results": [...]}``, a table at a time."""
    yield b'{"crs": ' + orjson.dumps(crs) + b', "results": ['
    pending = b""
    for table in tables:
        chunk = json_bytes(table)
        if pending:
            yield pending
        pending = chunk
    yield pending[:-1] + b"]}" if pending else b"]}"


def csv_stream(tables: Iterator[pa.Table]) -> Iterator[bytes]:
    """The CSV answer, a table at a time."""
    for k, table in enumerate(tables):
        yield csv_bytes(table, header=k == 0)


def located(
    index: AreaIndex,
    batches: Iterator[points.PointBatch],
    crs: str,
    rows: int = 100_000,
    threads: int = 1,
) -> Iterator[pa.Table]:
    """Answers of ``batches`` in ``rows``-row slices, in order: the slices read on a thread of
    their own, answered on ``threads`` more, while the caller writes the one before.

    Slices keep each hold of the GIL short, so light requests stay quick. One answering
    thread suits a server (its workers are its parallelism); ``wangge locate --file`` uses
    every core, since ``AreaIndex.locate`` and pyarrow let go of the GIL in their loops.
    """

    def slices() -> Iterator[points.PointBatch]:
        for batch in batches:
            for start in range(0, len(batch), rows):
                yield batch.slice(start, start + rows)

    def answer(piece: points.PointBatch) -> pa.Table:
        return answer_table(index, piece, crs)

    with ThreadPoolExecutor(threads, thread_name_prefix="answer") as workers:
        yield from parallel.in_order(workers, answer, parallel.ahead(slices()), ahead=threads)


def parquet_write(tables: Iterator[pa.Table], path: Path) -> int:
    """Write the answers as one Parquet file (without the CSV-only ``row``); rows written."""
    writer: pq.ParquetWriter | None = None
    written = 0
    try:
        for table in tables:
            table = table.drop_columns(["row"])
            if writer is None:  # dictionaries for the codes only; no statistics (they cost half the time)
                codes = [c for c in ANSWER_COLUMNS if c not in ("inside", "distance_m")]
                writer = pq.ParquetWriter(path, table.schema, use_dictionary=codes, write_statistics=False)
            writer.write_table(table)
            written += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return written


_SUFFIX = re.compile(r"\.(csv|txt|parquet|geoparquet|pq|json|geojson)$", re.IGNORECASE)


def kind_of(path: Path) -> str:
    """``csv``, ``parquet`` or ``json`` from a file name (what ``--file``/``--out`` are read as)."""
    found = _SUFFIX.search(path.name)
    if found is None:
        raise InvalidInput(f"{path.name}: name the file .csv, .parquet or .json/.geojson", field="file")
    suffix = found.group(1).lower()
    return {"txt": "csv", "geoparquet": "parquet", "pq": "parquet", "geojson": "json"}.get(suffix, suffix)

"""Batches of input points: parsing JSON, GeoJSON and CSV rows, row-level errors, CRS conversion.

A batch answers its good rows even when others are bad, so nothing here raises for
a single bad row: parsers return coordinate arrays (NaN where a row is unusable)
and a dict of row → error. Only a batch that is unusable as a whole (no columns,
not JSON, empty, too long) raises.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from geo.crs import GEOGRAPHIC, parse_crs, to_wgs84
from geo.errors import InvalidCoordinates, InvalidInput, TooLarge

FloatArray = npt.NDArray[np.float64]
LON_COLUMNS = ("lon", "lng", "longitude", "x", "经度")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度")


@dataclass
class PointBatch:
    """Coordinates as given (NaN for unusable rows) and the errors of bad rows."""

    x: FloatArray
    y: FloatArray
    errors: dict[int, dict[str, str]] = field(default_factory=dict)
    extra: list[dict[str, Any]] | None = None  # other CSV columns, echoed in CSV answers
    where: str = "row"  # how rows are named in errors: "points" → points[3], "row" → row 4

    def __len__(self) -> int:
        """The number of rows."""
        return len(self.x)

    def field(self, i: int) -> str:
        """How row ``i`` is named in errors."""
        return f"row {i + 1}" if self.where == "row" else f"{self.where}[{i}]"


def _error(code: str, message: str, where: str) -> dict[str, str]:
    return {"code": code, "message": message, "field": where}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _check_size(n: int, limit: int, what: str) -> None:
    if n == 0:
        raise InvalidInput(f"{what} is empty", field=what)
    if n > limit:
        raise TooLarge(f"{what} has {n:,} points; the limit is {limit:,}", field=what)


def from_json_bytes(body: bytes, limit: int) -> tuple[PointBatch, str | None]:
    """``from_json`` of a request body as it came (bad JSON is an ``InvalidInput`` naming it).

    >>> from_json_bytes(b'{"points": [[120.1, 36.1]]}', 10)[0].x.tolist()
    [120.1]
    >>> from_json_bytes(b"[" * 100_000, 10)
    Traceback (most recent call last):
    ...
    geo.errors.InvalidInput: the body is nested too deeply
    """
    try:
        parsed = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("the body is not valid JSON (or send text/csv)", field="body") from None
    except RecursionError:
        raise InvalidInput("the body is nested too deeply", field="body") from None
    return from_json(parsed, limit)


def from_json(body: Any, limit: int) -> tuple[PointBatch, str | None]:
    """``{"crs", "points": [[lon, lat], …]}`` or a GeoJSON FeatureCollection of points.

    >>> batch, crs = from_json({"crs": "gcj02", "points": [[120.1, 36.1], ["a", 1]]}, 10)
    >>> crs, batch.x.tolist()[0], batch.errors[1]["field"]
    ('gcj02', 120.1, 'points[1]')
    """
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object with points, or a FeatureCollection", field="body")
    crs = body.get("crs")
    if crs is not None and not isinstance(crs, str):
        crs = None if body.get("type") == "FeatureCollection" else str(crs)
    if body.get("type") == "FeatureCollection":
        rows, where = body.get("features"), "features"
    else:
        rows, where = body.get("points"), "points"
    if not isinstance(rows, list):
        raise InvalidInput(f"{where} must be a list", field=where)
    _check_size(len(rows), limit, where)
    x = np.full(len(rows), np.nan)
    y = np.full(len(rows), np.nan)
    errors: dict[int, dict[str, str]] = {}
    for i, row in enumerate(rows):
        coords = row
        if where == "features":
            geometry = row.get("geometry") if isinstance(row, dict) else None
            coords = (
                geometry.get("coordinates")
                if isinstance(geometry, dict) and geometry.get("type") == "Point"
                else None
            )
        if not isinstance(coords, (list, tuple)) or len(coords) < 2:
            errors[i] = _error("invalid_input", f"{where}[{i}] must be a point [lon, lat]", f"{where}[{i}]")
            continue
        a, b = _number(coords[0]), _number(coords[1])
        if a is None or b is None:
            errors[i] = _error(
                "invalid_coordinates", f"{where}[{i}]: lon and lat must be numbers", f"{where}[{i}]"
            )
            continue
        x[i], y[i] = a, b
    return PointBatch(x, y, errors, where=where), crs


def from_csv(data: bytes, limit: int) -> PointBatch:
    r"""A CSV with lon/lat columns (UTF-8 or GBK); other columns are kept for the answer.

    >>> from_csv(b"id,lon,lat\n1,120.3,36.1\n2,x,36\n", 10).errors[1]["field"]
    'row 2'
    """
    import csv

    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput("the CSV is neither UTF-8 nor GBK text", field="file")
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().lower(): c for c in (reader.fieldnames or [])}
    lon_col = next((columns[c] for c in LON_COLUMNS if c in columns), None)
    lat_col = next((columns[c] for c in LAT_COLUMNS if c in columns), None)
    if lon_col is None or lat_col is None:
        found = ", ".join(reader.fieldnames or []) or "none"
        raise InvalidInput(f"the CSV needs lon and lat columns; it has: {found}", field="file")
    rows = list(reader)
    _check_size(len(rows), limit, "rows")
    x = np.full(len(rows), np.nan)
    y = np.full(len(rows), np.nan)
    errors: dict[int, dict[str, str]] = {}
    for i, row in enumerate(rows):
        try:
            x[i], y[i] = float(row[lon_col]), float(row[lat_col])
        except (TypeError, ValueError):
            errors[i] = _error(
                "invalid_coordinates", f"row {i + 1}: lon and lat must be numbers", f"row {i + 1}"
            )
    extra = [{k: v for k, v in r.items() if k not in (lon_col, lat_col)} for r in rows]
    return PointBatch(x, y, errors, extra)


def to_wgs84_rows(batch: PointBatch, crs: str | None) -> tuple[FloatArray, FloatArray]:
    """WGS84 coordinates of the good rows (NaN elsewhere); bad rows get their error added."""
    name = parse_crs(crs)
    x, y = batch.x, batch.y
    good = np.isfinite(x) & np.isfinite(y)
    for i in np.flatnonzero(~good):
        batch.errors.setdefault(
            int(i), _error("invalid_coordinates", "lon and lat must be finite numbers", batch.field(int(i)))
        )
    if name in GEOGRAPHIC:
        bad = good & ((np.abs(x) > 180) | (np.abs(y) > 90))
        for i in np.flatnonzero(bad):
            batch.errors[int(i)] = _error(
                "invalid_coordinates", "lon must be within ±180 and lat within ±90", batch.field(int(i))
            )
        good &= ~bad
    lon = np.full(len(x), np.nan)
    lat = np.full(len(x), np.nan)
    if good.any():
        try:
            lon[good], lat[good] = to_wgs84(x[good], y[good], name)
        except InvalidCoordinates:
            # Projected systems: find the rows the transformation could not place.
            for i in np.flatnonzero(good):
                try:
                    lon[i], lat[i] = (float(v) for v in to_wgs84(x[i], y[i], name))
                except InvalidCoordinates as exc:
                    batch.errors[int(i)] = _error(exc.code, exc.message, batch.field(int(i)))
    return lon, lat

"""Batches of input points: JSON and GeoJSON rows, row-level errors, CRS conversion.

A batch answers its good rows even when others are bad, so nothing here raises for
a single bad row: parsers return coordinate arrays (NaN where a row is unusable)
and a dict of row → error. Only a batch that is unusable as a whole (no columns,
not JSON, empty, too long) raises.
"""

from __future__ import annotations

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
    extra: Any = None  # the file's other columns (an Arrow table), echoed beside the answers
    where: str = "row"  # how rows are named in errors: "points" → points[3], "row" → row 4
    offset: int = 0  # rows of the same file before this batch (a file is read in blocks)

    def __len__(self) -> int:
        """The number of rows."""
        return len(self.x)

    def field(self, i: int) -> str:
        """How row ``i`` is named in errors.

        >>> PointBatch(np.zeros(2), np.zeros(2), offset=10).field(1)
        'row 12'
        """
        k = self.offset + i
        return f"row {k + 1}" if self.where == "row" else f"{self.where}[{k}]"

    def slice(self, start: int, stop: int) -> PointBatch:
        """Rows ``start:stop`` as a batch of their own (errors and names kept).

        >>> b = PointBatch(np.arange(4.0), np.arange(4.0), {3: {"field": "row 4"}}).slice(2, 4)
        >>> b.x.tolist(), b.errors, b.field(1)
        ([2.0, 3.0], {1: {'field': 'row 4'}}, 'row 4')
        """
        if start == 0 and stop >= len(self):
            return self
        errors = {k - start: e for k, e in self.errors.items() if start <= k < stop}
        extra = None if self.extra is None else self.extra.slice(start, stop - start)
        return PointBatch(
            self.x[start:stop], self.y[start:stop], errors, extra, self.where, self.offset + start
        )


def _error(code: str, message: str, where: str) -> dict[str, str]:
    return {"code": code, "message": message, "field": where}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def too_many(n: int, limit: int, what: str) -> TooLarge:
    """The error of a batch over its limit."""
    return TooLarge(f"{what} has {n:,} points; the limit is {limit:,}", field=what)


def check_size(n: int, limit: int, what: str) -> None:
    """A batch must have rows, and no more than ``limit``."""
    if n == 0:
        raise InvalidInput(f"{what} is empty", field=what)
    if n > limit:
        raise too_many(n, limit, what)


def same_crs(a: str, b: str) -> bool:
    """Whether two names mean the same CRS (``wgs84`` and ``EPSG:4326`` do).

    >>> same_crs("wgs84", "EPSG:4326"), same_crs("gcj02", "wgs84")
    (True, False)
    """
    return parse_crs(a) == parse_crs(b)


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
    check_size(len(rows), limit, where)
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

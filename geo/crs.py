"""Coordinate reference systems: every input says its CRS, nothing is guessed.

The platform stores WGS84 (EPSG:4326) and accepts WGS84, CGCS2000 (EPSG:4490, taken
as WGS84: the difference is sub-metre), Web Mercator (EPSG:3857), CGCS2000 3-degree
Gauss–Krüger CM 120°E (EPSG:4549, and EPSG:4528 with the zone prefix), GCJ-02 (Amap,
Tencent, WeChat) and BD-09 (Baidu). The EPSG systems go through pyproj; GCJ-02 and
BD-09 are the public formulas, inverted by fixed-point iteration to far below a
millimetre (the one-step inverse is 1–2 m off in Shibei). All functions take and
return numpy arrays (scalars work too) in ``x, y`` = ``lon, lat`` order.

>>> lon, lat = to_wgs84(120.3791, 36.0962, "gcj02")
>>> round(float(lon), 5), round(float(lat), 5)
(120.37397, 36.09593)
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Geod, Transformer

from geo.errors import InvalidCoordinates, UnknownCRS

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]

WGS84 = "EPSG:4326"
METRIC = "EPSG:4549"  # lengths, areas and buffers in metres around Qingdao (CM 120°E)

ALIASES = {
    "wgs84": WGS84,
    "epsg:4326": WGS84,
    "cgcs2000": "EPSG:4490",
    "epsg:4490": "EPSG:4490",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd09ll": "bd09",
    "epsg:3857": "EPSG:3857",
    "epsg:4549": "EPSG:4549",
    "epsg:4528": "EPSG:4528",
}
ACCEPTED = (
    "wgs84",
    "cgcs2000",
    "gcj02",
    "bd09",
    "EPSG:4326",
    "EPSG:4490",
    "EPSG:3857",
    "EPSG:4549",
    "EPSG:4528",
)
GEOGRAPHIC = {WGS84, "EPSG:4490", "gcj02", "bd09"}
_GEOD = Geod(ellps="WGS84")

# GCJ-02 (Krasovsky 1940 ellipsoid) and BD-09 constants, as published.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def parse_crs(name: str | None, field: str = "crs") -> str:
    """The canonical name of an accepted CRS (case-insensitive); WGS84 when None.

    >>> parse_crs("GCJ02"), parse_crs("epsg:4549"), parse_crs(None)
    ('gcj02', 'EPSG:4549', 'EPSG:4326')
    >>> parse_crs("EPSG:2000")
    Traceback (most recent call last):
    geo.errors.UnknownCRS: unknown crs 'EPSG:2000'; accepted: wgs84, cgcs2000, ...
    """
    if name is None or name == "":
        return WGS84
    key = str(name).strip().lower()
    if key not in ALIASES:
        raise UnknownCRS(f"unknown crs {name!r}; accepted: {', '.join(ACCEPTED)}", field=field)
    return ALIASES[key]


# -- GCJ-02 and BD-09 -------------------------------------------------------------------


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> npt.NDArray[np.bool_]:
    """True where GCJ-02 applies no offset (the usual bounding-box rule).

    >>> out_of_china([116.4, 0.0], [39.9, 0.0]).tolist()
    [False, True]
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_delta(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x, y = lon - 105.0, lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 → GCJ-02 (the forward formula; identity outside China).

    >>> [round(float(v), 6) for v in wgs84_to_gcj02(116.403988, 39.914266)]
    [116.410232, 39.91567]
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _invert(forward, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:  # type: ignore[no-untyped-def]
    """Solve ``forward(u, v) = (x, y)`` by fixed-point iteration.

    The forward maps here are the identity plus an offset that changes by under 1e-5
    per degree, so ``u += x - fx`` contracts fast: 3–4 rounds reach 1e-12°.
    """
    u, v = x.copy(), y.copy()
    for _ in range(30):
        fu, fv = forward(u, v)
        du, dv = x - fu, y - fv
        u, v = u + du, v + dv
        if np.all(np.abs(du) < 1e-12) and np.all(np.abs(dv) < 1e-12):
            break
    return u, v


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 → WGS84 by iterative inversion (error < 1e-9°).

    >>> [round(float(v), 8) for v in gcj02_to_wgs84(123.0, 45.0)]
    [122.99395581, 44.99804062]
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 → BD-09 (Baidu's published forward formula)."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 → GCJ-02 by iterative inversion of the forward formula."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 → BD-09.

    >>> [float(v) for v in wgs84_to_bd09(116.403988, 39.914266)]
    [116.41661560068297, 39.92196580126834]
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 → WGS84 (both steps inverted iteratively)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


# -- EPSG systems through pyproj ----------------------------------------------------------


@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def _as_epsg(crs: str) -> str:
    return WGS84 if crs == "EPSG:4490" else crs


@lru_cache(maxsize=32)
def _domain(crs: str) -> tuple[float, float, float, float]:
    """The projected bounds of ``crs``'s area of use, widened by half their size each way.

    Points a little outside a zone are still meant; 1e300 in EPSG:3857 is not.
    """
    bounds = CRS(crs).area_of_use.bounds  # type: ignore[union-attr]
    x0, y0, x1, y1 = _transformer(WGS84, crs).transform_bounds(*bounds)
    dx, dy = (x1 - x0) / 2, (y1 - y0) / 2
    return x0 - dx, y0 - dy, x1 + dx, y1 + dy


def _check(x: FloatArray, y: FloatArray, crs: str, field: str) -> None:
    geographic = crs in GEOGRAPHIC
    if not np.all(np.isfinite(x)):
        raise InvalidCoordinates("coordinates must be finite numbers", field="lon" if geographic else field)
    if not np.all(np.isfinite(y)):
        raise InvalidCoordinates("coordinates must be finite numbers", field="lat" if geographic else field)
    if geographic:
        if np.any(np.abs(x) > 180.0):
            raise InvalidCoordinates("lon must be between -180 and 180", field="lon")
        if np.any(np.abs(y) > 90.0):
            raise InvalidCoordinates("lat must be between -90 and 90", field="lat")
    elif crs.startswith("EPSG:"):
        x0, y0, x1, y1 = _domain(crs)
        if np.any((x < x0) | (x > x1) | (y < y0) | (y > y1)):
            message = (
                f"coordinates lie outside the area of {crs} (x {x0:,.0f}…{x1:,.0f}, y {y0:,.0f}…{y1:,.0f})"
            )
            raise InvalidCoordinates(message, field=field)


def to_wgs84(
    x: ArrayLike, y: ArrayLike, crs: str | None = None, *, field: str = "coordinates"
) -> tuple[FloatArray, FloatArray]:
    """Coordinates in ``crs`` (any accepted name) → WGS84 lon, lat.

    Raises ``InvalidCoordinates`` for non-finite or out-of-range input and
    ``UnknownCRS`` for a system the platform does not accept.

    >>> lon, lat = to_wgs84(534_000.0, 3_994_000.0, "EPSG:4549")
    >>> round(float(lon), 4), round(float(lat), 4)
    (120.3775, 36.0756)
    """
    src = parse_crs(crs)
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    _check(xa, ya, src, field)
    if src == "gcj02":
        lon, lat = gcj02_to_wgs84(xa, ya)
    elif src == "bd09":
        lon, lat = bd09_to_wgs84(xa, ya)
    elif _as_epsg(src) == WGS84:
        lon, lat = xa.copy(), ya.copy()
    else:
        lon, lat = _transformer(src, WGS84).transform(xa, ya)
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
            raise InvalidCoordinates(f"coordinates lie outside the area of {src}", field=field)
    return lon, lat


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str | None) -> tuple[FloatArray, FloatArray]:
    """WGS84 lon, lat → coordinates in ``crs`` (for ``out_crs`` answers and exports).

    >>> [round(float(v), 6) for v in from_wgs84(*to_wgs84(120.3791, 36.0962, "gcj02"), "gcj02")]
    [120.3791, 36.0962]
    """
    dst = parse_crs(crs, field="out_crs")
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if dst == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if dst == "bd09":
        return wgs84_to_bd09(lon, lat)
    if _as_epsg(dst) == WGS84:
        return lon.copy(), lat.copy()
    x, y = _transformer(WGS84, dst).transform(lon, lat)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def transform(x: ArrayLike, y: ArrayLike, src: str | None, dst: str | None) -> tuple[FloatArray, FloatArray]:
    """Any accepted CRS → any accepted CRS (through WGS84)."""
    return from_wgs84(*to_wgs84(x, y, src), dst)


def lonlat_to_latlng(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The one place where axis order flips: h3 wants ``lat, lng``."""
    return np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)


class LocalPlane:
    """An affine lon/lat ↔ metres map around a point (local equirectangular plane).

    The generator cuts polygons here rather than in EPSG:4549 because an affine map
    keeps straight edges straight both ways: the district boundary's edges are
    straight in lon/lat, and a transverse Mercator plane would bend them by a few
    millimetres per kilometre, enough to open a measurable seam along the boundary.
    Scale error over a 12 km district is below 0.1 %: fine for balancing areas and for
    distances of a few hundred metres (a few centimetres off at 100 m).
    """

    def __init__(self, lon0: float, lat0: float):
        phi = np.radians(lat0)
        self.lon0, self.lat0 = lon0, lat0
        self.kx = 111_412.84 * np.cos(phi) - 93.5 * np.cos(3 * phi)  # metres per degree of lon
        self.ky = 111_132.954 - 559.822 * np.cos(2 * phi) + 1.175 * np.cos(4 * phi)

    def xy(self, lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Metres east and north of the plane's origin."""
        return (np.asarray(lon, dtype=float) - self.lon0) * self.kx, (
            np.asarray(lat, dtype=float) - self.lat0
        ) * self.ky

    def to_plane(self, geom: Any) -> Any:
        """Geometries (or arrays of them) from lon/lat into the plane."""
        return shapely.transform(geom, lambda c: (c - [self.lon0, self.lat0]) * [self.kx, self.ky])

    def to_lonlat(self, geom: Any) -> Any:
        """Geometries (or arrays of them) from the plane back to lon/lat."""
        return shapely.transform(geom, lambda c: c / [self.kx, self.ky] + [self.lon0, self.lat0])


def snap(lon: ArrayLike, lat: ArrayLike, metres: float) -> tuple[FloatArray, FloatArray]:
    """WGS84 points snapped to a grid of about ``metres`` (coarsened public locations).

    A point moves at most ``metres``/√2; every point of a cell gets the same answer.

    >>> x, y = snap(120.37251, 36.09352, 50.0)
    >>> round(float(x), 5), round(float(y), 5)
    (120.37277, 36.09369)
    """
    if metres <= 0:
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    step_lat = metres / 111_320.0
    lat_s = np.round(np.asarray(lat, dtype=float) / step_lat) * step_lat
    step_lon = metres / (111_320.0 * np.cos(np.radians(lat_s)))
    return np.round(np.asarray(lon, dtype=float) / step_lon) * step_lon, lat_s


def geodesic_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> FloatArray:
    """Metres on the WGS84 ellipsoid between pairs of points (pyproj's Geod, vectorised).

    >>> round(float(geodesic_m(120.0, 36.0, 120.0, 36.001)), 1)
    111.0
    """
    _, _, metres = _GEOD.inv(
        np.asarray(lon1, dtype=float), np.asarray(lat1, dtype=float),
        np.asarray(lon2, dtype=float), np.asarray(lat2, dtype=float),
    )  # fmt: skip
    return np.asarray(metres, dtype=float)


def reach_deg(lat: float, metres: float) -> tuple[float, float]:
    """Half-sizes (Δlon, Δlat) in degrees of a box holding every point within ``metres``.

    For a point at ``lat``: the index-friendly prefilter before an exact distance on the
    spheroid.

    >>> dlon, dlat = reach_deg(36.09, 100.0)
    >>> round(dlat * 110_574, 1) > 100, round(dlon * 90_170, 1) > 100
    (True, True)
    """
    dlat = metres / 110_000 * 1.05  # a degree of latitude is at least 110.5 km
    return dlat / max(math.cos(math.radians(min(abs(lat) + dlat, 89.0))), 0.01), dlat

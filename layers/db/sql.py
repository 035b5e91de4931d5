"""The SQL fragments every query repeats, as SQLAlchemy Core expressions.

Spatial predicates are written so that PostgreSQL uses the GiST index: the column is
compared with a constant envelope (``&&``) before anything exact runs on it, and
distances are metres on the spheroid (``geography``), never degrees.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, Connection, and_, bindparam, cast, func, literal, select

from geo.crs import reach_deg
from layers.db.models import GENERATIONS

BBox = tuple[float, float, float, float]


Value = float | ColumnElement[Any]  # a number, or a bound parameter of a statement built once


def _bound(value: Value) -> ColumnElement[Any]:
    return value if isinstance(value, ColumnElement) else literal(value)


def point(lon: Value, lat: Value) -> ColumnElement[Any]:
    """A WGS84 point (bound values)."""
    return func.ST_SetSRID(func.ST_MakePoint(_bound(lon), _bound(lat)), 4326)


def envelope(x0: Value, y0: Value, x1: Value, y1: Value) -> ColumnElement[Any]:
    """A WGS84 box (bound values)."""
    return func.ST_MakeEnvelope(_bound(x0), _bound(y0), _bound(x1), _bound(y1), 4326)


def bbox_filter(column: Any, bbox: BBox) -> ColumnElement[bool]:
    """Geometries in ``column`` that intersect ``bbox``: ``&&`` uses the index (float4
    boxes, a few metres loose), ``ST_Intersects`` makes it exact."""
    box = envelope(*bbox)
    return and_(column.op("&&")(box), func.ST_Intersects(column, box))


def distance_m(column: Any, lon: Value, lat: Value) -> ColumnElement[float]:
    """Metres on the spheroid from ``column`` to a WGS84 point."""
    return func.ST_Distance(cast(column, Geography), cast(point(lon, lat), Geography))


def within_m(column: Any, lon: float, lat: float, metres: float) -> ColumnElement[bool]:
    """Geometries within ``metres`` of a WGS84 point: an envelope that surely holds the
    radius (``&&``, by the index), then ``ST_DWithin`` on geography decides exactly."""
    return _within(column, near_params(lon, lat, metres))


NEAR = ("lon", "lat", "metres", "x0", "y0", "x1", "y1")  # the parameters of ``within_bound``


def within_bound(column: Any) -> ColumnElement[bool]:
    """``within_m`` with the bound parameters ``NEAR``, for a statement built once and run with
    ``near_params``."""
    return _within(column, {name: bindparam(name) for name in NEAR})


def near_params(lon: float, lat: float, metres: float) -> dict[str, float]:
    """The values of ``NEAR``: the point, the radius and an envelope that surely holds it."""
    dlon, dlat = reach_deg(lat, metres)
    return {"lon": lon, "lat": lat, "metres": metres,
            "x0": lon - dlon, "y0": lat - dlat, "x1": lon + dlon, "y1": lat + dlat}  # fmt: skip


def _within(column: Any, v: dict[str, Any]) -> ColumnElement[bool]:
    box = envelope(v["x0"], v["y0"], v["x1"], v["y1"])
    centre = cast(point(v["lon"], v["lat"]), Geography)
    return and_(column.op("&&")(box), func.ST_DWithin(cast(column, Geography), centre, _bound(v["metres"])))


def snapped(column: Any, metres: float) -> tuple[ColumnElement[float], ColumnElement[float]]:
    """Lon and lat of a point column snapped as ``geo.crs.snap`` does (the public's locations)."""
    step_lat = metres / 111_320.0
    lat = func.round(func.ST_Y(column) / step_lat) * step_lat
    step_lon = metres / (111_320.0 * func.cos(func.radians(lat)))
    return func.round(func.ST_X(column) / step_lon) * step_lon, lat


def snapped_bbox_filter(column: Any, bbox: BBox, metres: float) -> ColumnElement[bool]:
    """Points whose *snapped* position lies in ``bbox``: what the public filters on, so that
    narrowing the box never finds a point more exactly than its snapped position tells."""
    x0, y0, x1, y1 = bbox
    dlon, dlat = reach_deg((y0 + y1) / 2, metres)  # the prefilter: a snapped point moves < metres
    lon, lat = snapped(column, metres)
    return and_(
        column.op("&&")(envelope(x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat)),
        lon.between(x0, x1),
        lat.between(y0, y1),
    )


def area_prefix(column: Any, code: str) -> ColumnElement[bool]:
    """Codes in ``column`` inside the area ``code`` (a code extends its parent's)."""
    condition: ColumnElement[bool] = column.startswith(code, autoescape=True)
    return condition


def active_generation() -> ColumnElement[int]:
    """The id of the active generation, as a scalar subquery."""
    return select(GENERATIONS.c.id).where(GENERATIONS.c.status == "active").scalar_subquery()


def extent(conn: Connection, column: Any, *where: ColumnElement[bool]) -> list[float] | None:
    """[xmin, ymin, xmax, ymax] of ``column`` over the rows ``where`` holds (None: no rows)."""
    box = select(func.ST_Extent(column).label("e")).where(*where).subquery()
    corners = (func.ST_XMin(box.c.e), func.ST_YMin(box.c.e), func.ST_XMax(box.c.e), func.ST_YMax(box.c.e))
    row = conn.execute(select(*corners)).first()
    return None if row is None or row[0] is None else [round(float(v), 7) for v in row]


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write ``rows`` into ``table`` with COPY, in the caller's transaction (bulk loads:
    the reference data's hundreds of thousands of rows)."""
    raw: Any = conn.connection.driver_connection  # psycopg's own connection: COPY is not in the DB-API
    cur = raw.cursor()
    with cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)

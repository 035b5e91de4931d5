"""The SQL fragments every query repeats, as SQLAlchemy Core expressions.

Spatial predicates are written so that PostgreSQL uses the GiST index: the column is
compared with a constant envelope (``&&``) before anything exact runs on it, and
distances are metres on the spheroid (``geography``), never degrees.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, Connection, and_, cast, func, literal, select

from geo.crs import reach_deg
from layers.db.models import GENERATIONS

BBox = tuple[float, float, float, float]


def point(lon: float, lat: float) -> ColumnElement[Any]:
    """A WGS84 point (bound values)."""
    return func.ST_SetSRID(func.ST_MakePoint(literal(lon), literal(lat)), 4326)


def envelope(x0: float, y0: float, x1: float, y1: float) -> ColumnElement[Any]:
    """A WGS84 box (bound values)."""
    return func.ST_MakeEnvelope(literal(x0), literal(y0), literal(x1), literal(y1), 4326)


def bbox_filter(column: Any, bbox: BBox) -> ColumnElement[bool]:
    """Geometries in ``column`` that intersect ``bbox``: ``&&`` uses the index (float4
    boxes, a few metres loose), ``ST_Intersects`` makes it exact."""
    box = envelope(*bbox)
    return and_(column.op("&&")(box), func.ST_Intersects(column, box))


def distance_m(column: Any, lon: float, lat: float) -> ColumnElement[float]:
    """Metres on the spheroid from ``column`` to a WGS84 point."""
    return func.ST_Distance(cast(column, Geography), cast(point(lon, lat), Geography))


def within_m(column: Any, lon: float, lat: float, metres: float) -> ColumnElement[bool]:
    """Geometries within ``metres`` of a WGS84 point: an envelope that surely holds the
    radius (``&&``, by the index), then ``ST_DWithin`` on geography decides exactly."""
    dlon, dlat = reach_deg(lat, metres)
    box = envelope(lon - dlon, lat - dlat, lon + dlon, lat + dlat)
    return and_(
        column.op("&&")(box),
        func.ST_DWithin(cast(column, Geography), cast(point(lon, lat), Geography), literal(metres)),
    )


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

"""Cases as Open311 GeoReport v2 service requests: the public's view (snapped, no names).

The query is Core over the case read model of ``layers.cases.queries`` (same joins, same
unit names); ``requests`` shapes each row as the spec's ``service_request``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, not_, select

from geo.crs import snap
from layers.cases.privacy import public_address
from layers.cases.queries import CASE_FROM, INC, UNIT_NAME
from layers.db import sql
from layers.db.models import CATEGORIES, INCIDENT_EVENTS, INCIDENTS
from layers.db.vocabulary import OPEN, STATUS_NAMES

MAX_REQUESTS = 1000


@dataclass(frozen=True)
class Wanted:
    """Which requests: by number, or by period, service codes and open/closed."""

    numbers: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    codes: list[str] | None = None
    open: bool | None = None  # None: open and closed
    near: tuple[float, float, float] | None = None  # lon, lat (WGS84), radius in metres
    page: int = 1
    page_size: int = MAX_REQUESTS


def requests(conn: Connection, wanted: Wanted, snap_m: float, base_url: str = "") -> list[dict[str, Any]]:
    """The service requests ``wanted`` asks for, newest first, a page at a time (at most
    ``MAX_REQUESTS`` a page); ``media_url`` is absolute on ``base_url``."""
    merged = INCIDENTS.alias("m")
    query = (
        select(INC.c.number, INC.c.status, INC.c.category, CATEGORIES.c.name.label("service_name"))
        .add_columns(INC.c.description, INC.c.unit, UNIT_NAME.label("agency"), INC.c.received_at)
        .add_columns(INC.c.updated_at, INC.c.deadline, INC.c.closed_at, INC.c.merged_into)
        .add_columns(merged.c.number.label("merged_number"), INC.c.photos)
        .add_columns(func.ST_Y(INC.c.point).label("lat"), func.ST_X(INC.c.point).label("lon"))
        .add_columns(INC.c.location_input["address"].astext.label("address"))
        .select_from(CASE_FROM.outerjoin(merged, merged.c.id == INC.c.merged_into))
        .order_by(INC.c.received_at.desc(), INC.c.id.desc())
        .limit(min(wanted.page_size, MAX_REQUESTS))
        .offset((wanted.page - 1) * min(wanted.page_size, MAX_REQUESTS))
    )
    if wanted.near is not None:
        lon, lat, radius = wanted.near
        query = query.where(sql.within_m(INC.c.point, lon, lat, radius))
    if wanted.numbers is not None:
        query = query.where(INC.c.number.in_(wanted.numbers))
    if wanted.start is not None:
        query = query.where(INC.c.received_at >= wanted.start)
    if wanted.end is not None:
        query = query.where(INC.c.received_at <= wanted.end)
    if wanted.codes:
        query = query.where(INC.c.category.in_(wanted.codes))
    if wanted.open is not None:
        is_open = INC.c.status.in_(OPEN)
        query = query.where(is_open if wanted.open else not_(is_open))
    return [_request(r, snap_m, base_url) for r in conn.execute(query)]


def media_url(photos: list[str], base_url: str) -> str:
    """The first photo of a case as an absolute URL (a photo of this platform is a path).

    >>> media_url(["/api/photos/ab"], "https://x.org"), media_url(["https://y.org/1.jpg"], "https://x.org")
    ('https://x.org/api/photos/ab', 'https://y.org/1.jpg')
    """
    if not photos:
        return ""
    return base_url.rstrip("/") + photos[0] if photos[0].startswith("/") else photos[0]


def updates(
    conn: Connection, start: datetime, end: datetime, numbers: list[str] | None, page: int, page_size: int
) -> list[dict[str, Any]]:
    """Status changes of requests (the servicerequestupdates extension): no staff, no notes
    but a rejection's reply; oldest first, a page at a time."""
    e = INCIDENT_EVENTS.c
    query = (
        select(e.id, INC.c.number, e.to_status, e.at, e.action, e.note, INC.c.photos)
        .join(INC, INC.c.id == e.incident_id)
        .where(e.at >= start, e.at <= end, e.to_status.is_not(None))
        .where((e.from_status.is_(None)) | (e.from_status != e.to_status))
        .order_by(e.at, e.id)
        .limit(min(page_size, MAX_REQUESTS))
        .offset((page - 1) * min(page_size, MAX_REQUESTS))
    )
    if numbers is not None:
        query = query.where(INC.c.number.in_(numbers))
    return [
        {
            "update_id": str(r.id),
            "service_request_id": r.number,
            "status": "closed" if r.to_status not in OPEN else "open",
            "updated_datetime": r.at.isoformat(),
            "description": STATUS_NAMES[r.to_status][0]
            + (f"：{r.note}" if r.to_status == "rejected" and r.note else ""),
            "media_url": "",
        }
        for r in conn.execute(query)
    ]


def _request(r: Any, snap_m: float, base_url: str) -> dict[str, Any]:
    closed = r.status not in OPEN
    lon, lat = (None, None) if r.lon is None else (float(v) for v in snap(r.lon, r.lat, snap_m))
    notes = {"rejected": "不予立案 (not accepted)", "duplicate": f"merged into {r.merged_number}"}
    return {
        "service_request_id": r.number,
        "status": "closed" if closed else "open",
        "status_notes": notes.get(r.status, r.status),
        "service_name": r.service_name,
        "service_code": r.category,
        "description": r.description,
        "agency_responsible": r.agency or r.unit,
        "service_notice": "",
        "requested_datetime": r.received_at.isoformat(),
        "updated_datetime": r.updated_at.isoformat(),
        "expected_datetime": r.deadline.isoformat(),
        "address": public_address(r.address),
        "address_id": "",
        "zipcode": "",
        "lat": round(lat, 6) if lat is not None else None,
        "long": round(lon, 6) if lon is not None else None,
        "media_url": media_url(r.photos, base_url),
    }

"""Reading cases: one with its history, lists with filters and paging, overdue levels.

What the public sees is coarsened (``layers.privacy.public_case``); reads that show
personal data are audited.

Overdue is derived in SQL from the clock stored at intake, so no job has to run for a
case to turn amber or red: amber once 80 % of its time is used, red past the deadline
(escalated to its community), and past twice its time escalated to its street.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from geo.errors import InvalidInput, NotFound
from layers.accounts import audit
from layers.accounts.actors import PUBLIC, Actor
from layers.cases import privacy
from layers.cases.intake import OPEN

_OVERDUE = """
CASE WHEN i.status = ANY(CAST(:open AS text[])) THEN
  CASE WHEN now() >= i.deadline THEN 'red' WHEN now() >= i.warn_at THEN 'amber' END END AS overdue,
CASE WHEN i.status = ANY(CAST(:open AS text[])) THEN
  CASE WHEN now() >= i.escalate_at THEN 'street' WHEN now() >= i.deadline THEN 'community' END END
  AS escalated_to"""

_COLUMNS = f"""
i.id, i.number, i.source, i.category, c.name AS category_name, c.kind AS category_kind, i.appeal_type,
i.description, i.photos, i.status, i.located_by, i.location_input, i.location_note, i.inside, i.generation,
i.street, i.community, i.grid, i.micro_grid, i.asset_id, i.camera_id, i.machine_confidence,
i.unit, coalesce(d.name, ua.name) AS unit_name, i.second_unit, i.routed_by, i.handler,
i.received_at, i.responded_at, i.warn_at, i.deadline, i.escalate_at, i.closed_at, i.satisfied, i.merged_into,
ST_X(i.point) AS lon, ST_Y(i.point) AS lat, {_OVERDUE}"""

_FROM = """
FROM incidents i JOIN categories c ON c.code = i.category
LEFT JOIN departments d ON d.code = i.unit
LEFT JOIN LATERAL (
  SELECT name FROM areas a WHERE a.code = i.unit ORDER BY a.generation DESC LIMIT 1) ua ON true"""

SORTS = {
    "received_at": "i.received_at, i.id",
    "-received_at": "i.received_at DESC, i.id DESC",
    "deadline": "i.deadline, i.id",
    "-deadline": "i.deadline DESC, i.id DESC",
    "number": "i.number",
    "-number": "i.number DESC",
}
AREA_COLUMNS = {9: "street", 12: "community", 15: "grid", 18: "micro_grid"}


def _case(row: dict[str, Any]) -> dict[str, Any]:
    lon, lat = row.pop("lon"), row.pop("lat")
    row["point"] = None if lon is None else {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}
    if isinstance(row.get("location_input"), str):
        row["location_input"] = json.loads(row["location_input"])
    return row


def get(conn: Connection, case_id: int, actor: Actor, snap_m: float = 0.0) -> dict[str, Any]:
    """One case with its reporters (as ``actor`` may see them) and its full history."""
    row = (
        conn.execute(text(f"SELECT {_COLUMNS} {_FROM} WHERE i.id = :i"), {"i": case_id, "open": list(OPEN)})
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no incident {case_id}", field="id")
    case = _case(dict(row))
    reporters = conn.execute(
        text("SELECT * FROM incident_reporters WHERE incident_id = :i ORDER BY id"), {"i": case_id}
    ).mappings()
    views = [v for v in (privacy.reporter_view(dict(r), actor, case["unit"]) for r in reporters) if v]
    case["reporters"] = views
    if privacy.revealed(views):
        audit.record(conn, actor, "personal.read", f"incident:{case_id}", reporters=len(views))
    case["history"] = [
        dict(r)
        for r in conn.execute(
            text(
                "SELECT at, actor, role, action, from_status, to_status, unit, note, photos "
                "FROM incident_events WHERE incident_id = :i ORDER BY id"
            ),
            {"i": case_id},
        ).mappings()
    ]
    return privacy.public_case(case, snap_m) if actor is PUBLIC else case


@dataclass(frozen=True)
class Filters:
    """What a list of cases may be narrowed by."""

    status: list[str] | None = None
    category: list[str] | None = None
    area: str | None = None
    unit: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    overdue: bool | None = None
    asset_id: str | None = None


def _where(filters: Filters) -> tuple[str, dict[str, Any]]:
    where: list[str] = ["true"]
    params: dict[str, Any] = {"open": list(OPEN)}
    if filters.status:
        where.append("i.status = ANY(:status)")
        params["status"] = filters.status
    if filters.category:
        where.append("i.category = ANY(:category)")
        params["category"] = filters.category
    if filters.area:
        params["area"] = filters.area
        if filters.area.isdigit() and len(filters.area) == 6:  # cases outside every grid are the district's
            where.append("left(coalesce(i.street, :area), 6) = :area")
        elif filters.area.isdigit() and len(filters.area) in AREA_COLUMNS:
            where.append(f"i.{AREA_COLUMNS[len(filters.area)]} = :area")
        else:
            raise InvalidInput(
                f"area {filters.area!r} is not an area code of 6, 9, 12, 15 or 18 digits", field="area"
            )
    for name in ("unit", "source", "asset_id"):
        value = getattr(filters, name)
        if value is not None:
            where.append(f"i.{name} = :{name}")
            params[name] = value
    if filters.since is not None:
        where.append("i.received_at >= :since")
        params["since"] = filters.since
    if filters.until is not None:
        where.append("i.received_at < :until")
        params["until"] = filters.until
    if filters.bbox is not None:
        where.append("i.point && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)")
        where.append("ST_Intersects(i.point, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))")
        params.update(zip(("x0", "y0", "x1", "y1"), filters.bbox, strict=True))
    if filters.overdue is not None:
        test = "i.status = ANY(CAST(:open AS text[])) AND now() >= i.deadline"
        where.append(test if filters.overdue else f"NOT ({test})")
    return " AND ".join(f"({w})" for w in where), params


def open_by_category(conn: Connection, area_code: str) -> dict[str, int]:
    """Open cases in an area (any level) by category."""
    clause, params = _where(Filters(area=area_code, status=list(OPEN)))
    rows = conn.execute(
        text(f"SELECT i.category, count(*) FROM incidents i WHERE {clause} GROUP BY 1 ORDER BY 1"), params
    )
    return {category: int(n) for category, n in rows}


def listing(
    conn: Connection,
    filters: Filters,
    *,
    limit: int,
    offset: int,
    sort: str = "-received_at",
    actor: Actor = PUBLIC,
    snap_m: float = 0.0,
) -> tuple[list[dict[str, Any]], int]:
    """Cases matching ``filters`` (one page, sorted) and how many match in all."""
    if sort not in SORTS:
        raise InvalidInput(f"sort {sort!r}: one of {', '.join(SORTS)}", field="sort")
    clause, params = _where(filters)
    total = conn.execute(text(f"SELECT count(*) FROM incidents i WHERE {clause}"), params).scalar_one()
    rows = conn.execute(
        text(f"SELECT {_COLUMNS} {_FROM} WHERE {clause} ORDER BY {SORTS[sort]} LIMIT :limit OFFSET :offset"),
        {**params, "limit": limit, "offset": offset},
    ).mappings()
    cases = [_case(dict(r)) for r in rows]
    if actor is PUBLIC:
        cases = [privacy.public_case(c, snap_m) for c in cases]
    return cases, int(total)

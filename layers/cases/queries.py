"""Reading cases: one with its history, lists with filters and paging, overdue levels.

What the public sees is coarsened (``layers.privacy.public_case``); reads that show
personal data are audited. Queries are Core over the mapped tables; ``conditions`` turns
``Filters`` into WHERE clauses that lists, counts and exports share.

Overdue is derived in SQL from the clock stored at intake, so no job has to run for a
case to turn amber or red: amber once 80 % of its time is used, red past the deadline
(escalated to its community), and past twice its time escalated to its street.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    DateTime,
    and_,
    bindparam,
    case,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from geo.errors import InvalidInput, NotFound
from layers.accounts import audit
from layers.accounts.actors import PUBLIC, Actor
from layers.cases import partitions, privacy
from layers.db import sql
from layers.db.models import (
    AREAS,
    CATEGORIES,
    DEPARTMENTS,
    INCIDENT_EVENTS,
    INCIDENT_KEYS,
    INCIDENT_REPORTERS,
    INCIDENTS,
)
from layers.db.vocabulary import OPEN

INC = INCIDENTS.alias("i")
_UNIT_AREA = (  # the name of a unit that is an area (a street office): its newest generation
    select(AREAS.c.name)
    .where(AREAS.c.code == INC.c.unit)
    .order_by(AREAS.c.generation.desc())
    .limit(1)
    .lateral("ua")
)
_COMMUNITY = (  # the name of the case's community in the generation it was located in
    select(AREAS.c.name.label("community_name"))
    .where(AREAS.c.code == INC.c.community, AREAS.c.generation == INC.c.generation)
    .limit(1)
    .lateral("ca")
)
_OPEN = and_(INC.c.status.in_(OPEN), INC.c.suspended_at.is_(None))  # a suspended case (挂账) is never overdue
_OVERDUE = case(
    (and_(_OPEN, func.now() >= INC.c.deadline), "red"), (and_(_OPEN, func.now() >= INC.c.warn_at), "amber")
)
_ESCALATED = case(
    (and_(_OPEN, func.now() >= INC.c.escalate_at), "street"),
    (and_(_OPEN, func.now() >= INC.c.deadline), "community"),
)
_SHOWN = (
    "id", "number", "source", "category", "appeal_type", "description", "photos", "status", "located_by",
    "location_input", "location_note", "inside", "generation", "street", "community", "grid",
    "micro_grid", "asset_id", "camera_id", "machine_confidence", "unit", "second_unit", "routed_by",
    "handler", "received_at", "responded_at", "warn_at", "deadline", "escalate_at", "closed_at",
    "satisfied", "merged_into", "urged", "repeats", "rounds", "extended_hours", "paused_hours",
    "extension_hours", "extension_reason", "suspended_at", "review_on", "suspend_reason",
)  # fmt: skip
CASE_FROM = (  # a case with its category and the unit (a department or a street office)
    INC.join(CATEGORIES, CATEGORIES.c.code == INC.c.category)
    .outerjoin(DEPARTMENTS, DEPARTMENTS.c.code == INC.c.unit)
    .outerjoin(_UNIT_AREA, true())
    .outerjoin(_COMMUNITY, true())
)
UNIT_NAME = func.coalesce(DEPARTMENTS.c.name, _UNIT_AREA.c.name)
CASE_ROW = select(
    *(INC.c[name] for name in _SHOWN),
    CATEGORIES.c.name.label("category_name"),
    CATEGORIES.c.kind.label("category_kind"),
    UNIT_NAME.label("unit_name"),
    _COMMUNITY.c.community_name,
    func.ST_X(INC.c.point).label("lon"),
    func.ST_Y(INC.c.point).label("lat"),
    _OVERDUE.label("overdue"),
    _ESCALATED.label("escalated_to"),
).select_from(CASE_FROM)

SORTS = {
    "received_at": (INC.c.received_at, INC.c.id),
    "-received_at": (INC.c.received_at.desc(), INC.c.id.desc()),
    "deadline": (INC.c.deadline, INC.c.id),
    "-deadline": (INC.c.deadline.desc(), INC.c.id.desc()),
    "number": (INC.c.number,),
    "-number": (INC.c.number.desc(),),
}
AREA_COLUMNS = {9: "street", 12: "community", 15: "grid", 18: "micro_grid"}


def _case(row: dict[str, Any]) -> dict[str, Any]:
    lon, lat = row.pop("lon"), row.pop("lat")
    row["point"] = None if lon is None else {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}
    if isinstance(row.get("location_input"), str):
        row["location_input"] = json.loads(row["location_input"])
    return row


def id_of(conn: Connection, number: str) -> int:
    """The id of the case numbered ``number``."""
    keys = INCIDENT_KEYS.c
    found = conn.execute(select(keys.id).where(keys.number == number)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no case number {number}", field="number")
    return int(found)


# One case's reads, built once (the case row's select is large: building it and its cache key
# again for every read cost more than the query); and the same for the cases of one intake batch.
_ONE_CASE = CASE_ROW.where(INC.c.id == bindparam("id"), INC.c.received_at == bindparam("at"))
_ITS_REPORTERS = (
    select(INCIDENT_REPORTERS)
    .where(INCIDENT_REPORTERS.c.incident_id == bindparam("id"))
    .order_by(INCIDENT_REPORTERS.c.id)
)
_EVENTS = INCIDENT_EVENTS.c
_HISTORY = select(_EVENTS.incident_id, _EVENTS.at, _EVENTS.actor, _EVENTS.role, _EVENTS.action).add_columns(
    _EVENTS.from_status, _EVENTS.to_status, _EVENTS.unit, _EVENTS.note, _EVENTS.photos
)
_ITS_HISTORY = _HISTORY.where(
    _EVENTS.incident_id == bindparam("id"), _EVENTS.case_received_at == bindparam("at")
).order_by(_EVENTS.id)
_IDS = bindparam("ids", type_=ARRAY(BigInteger))
_ATS = bindparam("ats", type_=ARRAY(DateTime(timezone=True)))
_THESE_CASES = CASE_ROW.where(INC.c.id == func.any(_IDS), INC.c.received_at == func.any(_ATS))
_THEIR_REPORTERS = (
    select(INCIDENT_REPORTERS)
    .where(INCIDENT_REPORTERS.c.incident_id == func.any(_IDS))
    .order_by(INCIDENT_REPORTERS.c.id)
)
_THEIR_HISTORY = _HISTORY.where(
    _EVENTS.incident_id == func.any(_IDS), _EVENTS.case_received_at == func.any(_ATS)
).order_by(_EVENTS.id)


def get(
    conn: Connection, case_id: int, actor: Actor, snap_m: float = 0.0, received_at: datetime | None = None
) -> dict[str, Any]:
    """One case with its reporters (as ``actor`` may see them), its full history and its
    version (the length of the history: pages send it back to act, ``supervision.check_version``).
    Its ``received_at``, when the caller knows it (intake), spares looking it up."""
    received = received_at or partitions.received_at(conn, case_id)  # the queries read its month alone
    which = {"id": case_id, "at": received}
    row = conn.execute(_ONE_CASE, which).mappings().first() if received is not None else None
    if row is None:
        raise NotFound(f"no incident {case_id}", field="id")
    reporters = [dict(r) for r in conn.execute(_ITS_REPORTERS, which).mappings()]
    history = [dict(r) for r in conn.execute(_ITS_HISTORY, which).mappings()]
    return _whole(conn, dict(row), reporters, history, actor, snap_m)


def get_many(
    conn: Connection, cases: Sequence[tuple[int, datetime]], actors: Sequence[Actor], snap_m: float = 0.0
) -> list[dict[str, Any]]:
    """``get`` of each (id, received_at) for its actor, in three queries for them all (the
    answers of one intake batch)."""
    which = {"ids": [i for i, _ in cases], "ats": sorted({at for _, at in cases})}
    rows = {r["id"]: dict(r) for r in conn.execute(_THESE_CASES, which).mappings()}
    reporters: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in conn.execute(_THEIR_REPORTERS, which).mappings():
        reporters[r["incident_id"]].append(dict(r))
    history: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in conn.execute(_THEIR_HISTORY, which).mappings():
        history[r["incident_id"]].append(dict(r))
    found = []
    for (case_id, _), actor in zip(cases, actors, strict=True):
        if case_id not in rows:
            raise NotFound(f"no incident {case_id}", field="id")
        found.append(_whole(conn, rows[case_id], reporters[case_id], history[case_id], actor, snap_m))
    return found


def _whole(
    conn: Connection,
    row: dict[str, Any],
    reporters: list[dict[str, Any]],
    history: list[dict[str, Any]],
    actor: Actor,
    snap_m: float,
) -> dict[str, Any]:
    """A case as ``get`` answers it, from its row, its reporters and its history."""
    case = _case(row)
    views = [v for v in (privacy.reporter_view(r, actor, case["unit"]) for r in reporters) if v]
    case["reporters"] = views
    if privacy.revealed(views):
        audit.record(conn, actor, "personal.read", f"incident:{case['id']}", reporters=len(views))
    for entry in history:
        entry.pop("incident_id")
    case["history"] = history
    case["version"] = len(history)
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
    level: str | None = None  # red | amber | due (red or amber) | suspended
    q: str | None = None  # text in the number, description or address
    handler: str | None = None


def conditions(filters: Filters, snap_m: float = 0.0) -> list[ColumnElement[bool]]:
    """The WHERE conditions of ``filters`` on the cases (``i``); with ``snap_m`` (the public)
    the box filters the snapped positions, never the exact ones."""
    where: list[ColumnElement[bool]] = []
    if filters.status:
        where.append(INC.c.status.in_(filters.status))
    if filters.category:
        where.append(INC.c.category.in_(filters.category))
    if filters.area:
        area = filters.area
        if area.isdigit() and len(area) == 6:  # cases outside every grid are the district's
            where.append(func.left(func.coalesce(INC.c.street, area), 6) == area)
        elif area.isdigit() and len(area) in AREA_COLUMNS:
            where.append(INC.c[AREA_COLUMNS[len(area)]] == area)
        else:
            raise InvalidInput(
                f"area {area!r} is not an area code of 6, 9, 12, 15 or 18 digits", field="area"
            )
    for name in ("unit", "source", "asset_id", "handler"):
        value = getattr(filters, name)
        if value is not None:
            where.append(INC.c[name] == value)
    if filters.since is not None:
        where.append(INC.c.received_at >= filters.since)
    if filters.until is not None:
        where.append(INC.c.received_at < filters.until)
    if filters.bbox is not None:
        public = snap_m > 0
        box = filters.bbox
        where.append(
            sql.snapped_bbox_filter(INC.c.point, box, snap_m) if public else sql.bbox_filter(INC.c.point, box)
        )
    if filters.overdue is not None:
        overdue = and_(_OPEN, func.now() >= INC.c.deadline)
        where.append(overdue if filters.overdue else not_(overdue))
    if filters.level is not None:
        where.append(_LEVELS[filters.level])
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            or_(
                INC.c.number.ilike(pattern),
                INC.c.description.ilike(pattern),
                INC.c.location_input["address"].astext.ilike(pattern),
            )
        )
    return where


_LEVELS: dict[str, ColumnElement[bool]] = {
    "red": and_(_OPEN, func.now() >= INC.c.deadline),
    "amber": and_(_OPEN, func.now() >= INC.c.warn_at, func.now() < INC.c.deadline),
    "due": and_(_OPEN, func.now() >= INC.c.warn_at),
    "suspended": INC.c.suspended_at.is_not(None),
}
LEVELS = tuple(_LEVELS)


def counts(conn: Connection, filters: Filters, snap_m: float = 0.0) -> dict[str, int]:
    """How many cases match ``filters`` in each status (the workbench's tabs: its status filter
    is left out, so every tab shows what it would list)."""
    where = conditions(replace(filters, status=None), snap_m)
    query = select(INC.c.status, func.count()).select_from(INC).where(*where).group_by(INC.c.status)
    return {status: int(n) for status, n in conn.execute(query)}


def rejection_reason(conn: Connection, case_id: int) -> str | None:
    """The note of a case's rejection (不予受理): the reply its reporter is owed."""
    e = INCIDENT_EVENTS.c
    return conn.execute(
        select(e.note)
        .where(e.incident_id == case_id, e.to_status == "rejected")
        .order_by(e.id.desc())
        .limit(1)
    ).scalar()


def number_of(conn: Connection, case_id: int) -> str:
    """The case number of case ``case_id``."""
    return str(conn.execute(select(INC.c.number).where(INC.c.id == case_id)).scalar_one())


def open_by_category(conn: Connection, area_code: str) -> dict[str, int]:
    """Open cases in an area (any level) by category."""
    where = conditions(Filters(area=area_code, status=list(OPEN)))
    query = (
        select(INC.c.category, func.count()).where(*where).group_by(INC.c.category).order_by(INC.c.category)
    )
    return {category: int(n) for category, n in conn.execute(query)}


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
    where = conditions(filters, snap_m if actor is PUBLIC else 0.0)
    total = conn.execute(select(func.count()).select_from(INC).where(*where)).scalar_one()
    rows = conn.execute(CASE_ROW.where(*where).order_by(*SORTS[sort]).limit(limit).offset(offset)).mappings()
    cases = [_case(dict(r)) for r in rows]
    if actor is PUBLIC:
        cases = [privacy.public_case(c, snap_m) for c in cases]
    return cases, int(total)


def clusters(
    conn: Connection, filters: Filters, zoom: int, actor: Actor = PUBLIC, snap_m: float = 0.0
) -> list[dict[str, Any]]:
    """The matching cases as clusters for the map at ``zoom``: counted in cells of about 64
    screen pixels (a display bin of the web map's tiles, not a distance), each at the mean of
    its cases (the public: of their snapped positions), with its worst overdue level and, for a
    single case, its id and number. One GROUP BY over the point index's rows."""
    public = actor is PUBLIC
    size = 360.0 / 2**zoom / 4
    exact = (func.ST_X(INC.c.point), func.ST_Y(INC.c.point))
    lon, lat = sql.snapped(INC.c.point, snap_m) if public else exact
    cell_x, cell_y = func.floor(lon / size), func.floor(lat / size)
    red = func.count().filter(and_(_OPEN, func.now() >= INC.c.deadline))
    amber = func.count().filter(and_(_OPEN, func.now() >= INC.c.warn_at))
    query = (
        select(
            func.count().label("count"), func.avg(lon).label("lon"), func.avg(lat).label("lat"),
            red.label("red"), amber.label("amber"), func.min(INC.c.id).label("id"),
            func.min(INC.c.number).label("number"),
        )
        .where(*conditions(filters, snap_m if public else 0.0), INC.c.point.is_not(None))
        .group_by(cell_x, cell_y)
    )  # fmt: skip
    answer = []
    for r in conn.execute(query).mappings():
        cluster: dict[str, Any] = {"count": int(r["count"])}
        cluster.update(lon=round(float(r["lon"]), 6), lat=round(float(r["lat"]), 6))
        cluster["overdue"] = "red" if r["red"] else ("amber" if r["amber"] else None)
        if cluster["count"] == 1:
            cluster.update(id=int(r["id"]), number=r["number"])
        answer.append(cluster)
    return answer


TASK_STATUSES = ("dispatched", "rework", "in_progress", "verifying")


def tasks(
    conn: Connection, actor: Actor, lon: float | None = None, lat: float | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """A field worker's tasks: open cases of their unit or grid to handle (派遣, 返工, 处置中) and
    to verify (核查中, handled by someone else: the verifier is not the handler); overdue
    first, then nearest to ``lon, lat`` (distance in metres), then by deadline."""
    if actor.unit is None:
        return []
    mine = or_(INC.c.unit == actor.unit, INC.c.grid == actor.unit)
    verify = and_(INC.c.status == "verifying", func.coalesce(INC.c.handler, "") != actor.name)
    where = and_(mine, or_(INC.c.status.in_(TASK_STATUSES[:3]), verify), INC.c.suspended_at.is_(None))
    distance = sql.distance_m(INC.c.point, lon, lat) if lon is not None and lat is not None else literal(None)
    order = case((_OVERDUE == "red", 0), (_OVERDUE == "amber", 1), else_=2)
    e = INCIDENT_EVENTS.c
    version = select(func.count()).where(e.incident_id == INC.c.id).scalar_subquery()  # as ``get`` counts it
    query = CASE_ROW.add_columns(distance.label("distance_m"), version.label("version")).where(where)
    query = query.order_by(order, distance.asc().nulls_last(), INC.c.deadline).limit(limit)
    found = []
    for row in conn.execute(query).mappings():
        task = _case(dict(row))
        task["task"] = "verify" if task["status"] == "verifying" else "handle"
        if task["distance_m"] is not None:
            task["distance_m"] = round(float(task["distance_m"]), 1)
        found.append(task)
    return found

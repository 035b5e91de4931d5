"""Cases (事件/部件 incidents): intake, location, routing, duplicates, reads.

Intake locates the case (coordinates in any CRS, an address, an asset or a camera),
stores its area chain and generation, routes it (``layers.routing``), numbers it
(the Beijing day and that day's serial, ``layers.cases.numbers``; gapless, as the commits
come) and starts its clock (``layers.worktime``), all in the caller's transaction: first
``prepare`` (checked, located, routed), then ``file_many`` for as many reports as there are
(one statement of each kind for them all: ``api.filing`` files concurrent requests together).
An ``Idempotency-Key`` is taken under a transaction-scoped advisory lock, so concurrent retries
of one request wait for the first and get its case; a key reused for a different request is
a conflict. The location input is kept verbatim with the case.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple, cast

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Text,
    bindparam,
    column,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from geo import hexes
from geo.crs import to_wgs84
from geo.errors import Conflict, InvalidInput, NotFound, WanggeError
from layers.accounts import audit
from layers.accounts.actors import Actor
from layers.addresses import gazetteer
from layers.assets import store
from layers.assets.kinds import parse_asset_id
from layers.cases import numbers, partitions, privacy, routing, worktime
from layers.cases.categories import Catalogue, Category
from layers.db import sql
from layers.db.models import (
    CATEGORIES,
    INCIDENT_EVENTS,
    INCIDENT_KEYS,
    INCIDENT_NUMBERS,
    INCIDENT_REPORTERS,
    INCIDENTS,
)
from layers.db.vocabulary import OPEN
from layers.grid.index import AreaIndex
from layers.outbox import events as outbox
from layers.photos import records as photo_records
from layers.photos.records import PhotoRef

CASES = INCIDENTS.c

Source = Literal["wechat", "hotline", "grid_worker", "camera", "photo_report", "open311"]


class Reporter(BaseModel):
    """Who reported it (personal data: stored, shown only as ``layers.privacy`` allows)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 -]{4,19}$")
    email: str | None = Field(
        default=None, max_length=120, pattern=r"^[^@\s]{1,64}@[^@\s]{1,100}\.[^@\s.]{2,}$"
    )
    consent: bool = Field(default=False, description="The reporter agrees to show the name.")
    notify: bool = Field(default=False, description="Tell me of the case's progress (SMS/WeChat, e-mail).")


class IncidentIn(BaseModel):
    """A report from any channel; exactly one way of saying where (or none: flagged)."""

    model_config = ConfigDict(extra="forbid")

    source: Source
    category: str = Field(min_length=5, max_length=5)
    description: str = Field(default="", max_length=2000)
    appeal_type: Literal["consult", "complaint", "suggestion", "help"] | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    address: str | None = Field(default=None, min_length=1, max_length=200)
    asset_id: str | None = None
    camera_id: str | None = None
    machine_confidence: float | None = Field(default=None, ge=0, le=1)
    reporter: Reporter = Field(default_factory=Reporter)
    photos: list[PhotoRef] = Field(default_factory=list, max_length=9)

    @model_validator(mode="after")
    def _one_location(self) -> IncidentIn:
        given = [
            name
            for name, present in (
                ("lon/lat", self.lon is not None or self.lat is not None),
                ("address", self.address is not None),
                ("asset_id", self.asset_id is not None),
                # a camera may say where it saw something; then the camera is who, not where
                ("camera_id", self.camera_id is not None and self.lon is None),
            )
            if present
        ]
        if len(given) > 1:
            raise ValueError(f"give one location, not {' and '.join(given)}")
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat")
        if self.source == "camera" and self.camera_id is None:
            raise ValueError("a camera report names its camera_id")
        return self


class Filed(NamedTuple):
    """A stored report: its case, whether this call made it (False: a replayed key's case)
    and when it was received (its partition key, for reading it back)."""

    id: int
    created: bool
    received_at: datetime


@dataclass(frozen=True)
class Where:
    """Where a report is, as resolved from its input."""

    lon: float | None
    lat: float | None
    located_by: str  # coordinates | address | asset | camera | photo_exif | needs_location | none
    note: str | None = None
    asset: dict[str, Any] | None = None


def _asset(conn: Connection, asset_id: str, field: str) -> dict[str, Any]:
    """A report's asset (or camera); an unknown one is the report's fault, so a 400 naming the field."""
    parse_asset_id(asset_id, field=field)
    try:
        return store.get_asset(conn, asset_id)
    except NotFound:
        raise InvalidInput(f"no asset {asset_id}", field=field) from None


def resolve(conn: Connection, report: IncidentIn) -> Where:
    """The WGS84 point of a report; an address that finds nothing leaves it unlocated, flagged."""
    if report.lon is not None and report.lat is not None:
        lon, lat = to_wgs84(report.lon, report.lat, report.crs)
        return Where(float(lon), float(lat), "coordinates")
    if report.asset_id is not None:
        asset = _asset(conn, report.asset_id, "asset_id")
        return Where(asset["lon"], asset["lat"], "asset", asset=asset)
    if report.camera_id is not None:
        camera = _asset(conn, report.camera_id, "camera_id")
        if camera["kind"] != "camera":
            raise InvalidInput(f"{report.camera_id} is a {camera['kind']}, not a camera", field="camera_id")
        return Where(camera["lon"], camera["lat"], "camera")
    if report.address is not None:
        return _by_address(conn, report.address)
    taken = photo_records.first_position(conn, report.photos)
    if taken is not None:  # the photo's own GPS (WGS84 by the EXIF standard), said so
        ref, x, y = taken
        return Where(x, y, "photo_exif", f"located by the GPS position in photo {ref[-64:][:12]}")
    return Where(None, None, "none", "no location given")


def _by_address(conn: Connection, address: str) -> Where:
    """A typed address locates a case only when it matched a doorplate or a place for sure;
    otherwise the case needs a dispatcher to place it, and the note says why and what the
    best guess was (the input is kept verbatim)."""
    found = gazetteer.geocode(conn, address, limit=2)
    best = found.trusted
    if best is not None:
        away = best.get("number_difference")
        how = best["match"] + (f", {away} numbers away" if away is not None else "")
        return Where(best["lon"], best["lat"], "address", f"geocoded to {best['address']} ({how})")
    if found.outside:
        why = found.outside
    elif found.ambiguous:
        why = "places of this name: " + " / ".join(
            f"{r['address']} ({r['road']}{r['house_number']}号)" if r["house_number"] else r["address"]
            for r in found.results
        )
    elif found.results:
        guess = found.results[0]
        why = f"only a {guess['match']} match: {guess['address']} (score {guess['score']}), not used"
    else:
        why = "address not found in the gazetteer"
    return Where(None, None, "needs_location", f"needs location: {why}")


def request_hash(report: IncidentIn) -> str:
    """A fingerprint of the request, to tell a retry from a different request under one key."""
    body = json.dumps(report.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


# The statements of every intake, built once with bound parameters: building a statement and
# its cache key again for each case cost more than running it (~0.3 ms each).
_KEYS = INCIDENT_KEYS.c
_LOCK_KEYS = select(func.pg_advisory_xact_lock(func.hashtextextended(column("k"), 0))).select_from(
    func.unnest(bindparam("keys", type_=ARRAY(Text))).table_valued("k").render_derived("keys")
)  # the keys come sorted, so that two batches sharing keys cannot wait on each other
_KEYS_SEEN = select(_KEYS.idempotency_key, _KEYS.id, _KEYS.received_at).where(
    _KEYS.idempotency_key == func.any(bindparam("keys", type_=ARRAY(Text)))
)
_HASH_OF = select(CASES.request_hash).where(CASES.id == bindparam("id"), CASES.received_at == bindparam("at"))
_NOW = select(func.now())
_NOW_AND_IDS = select(func.now(), func.nextval(func.pg_get_serial_sequence("incidents", "id"))).select_from(
    func.generate_series(1, bindparam("k"))
)
_COUNTER = INCIDENT_NUMBERS.c
_SERIALS = (  # the day's counter row stays locked to the commit: numbers are gapless, in commit order
    pg_insert(INCIDENT_NUMBERS)
    .values(day=bindparam("day", type_=Date), last=bindparam("k"))
    .on_conflict_do_update(index_elements=[_COUNTER.day], set_={"last": _COUNTER.last + bindparam("k")})
    .returning(_COUNTER.last)
)
_NEW_CASES = insert(INCIDENTS)
_NEW_REPORTERS = insert(INCIDENT_REPORTERS)
_NEW_EVENTS = insert(INCIDENT_EVENTS)
_CASE_RECEIVED = select(_KEYS.received_at).where(_KEYS.id == bindparam("case_id")).scalar_subquery()
_NEW_EVENT = insert(INCIDENT_EVENTS).values(case_received_at=_CASE_RECEIVED)


@dataclass(frozen=True)
class Prepared:
    """A report checked, located and routed, ready to be filed (``file_many``): what intake
    does before it takes the key's lock and the day's number."""

    report: IncidentIn
    actor: Actor
    key: str | None
    fingerprint: str
    category: Category
    placed: dict[str, Any]
    notes: list[str]
    spot: tuple[float, float] | None  # its WGS84 point, if it has one
    work_hours: worktime.WorkHours
    now: datetime | None = None


def chain_of(index: AreaIndex, lon: float | None, lat: float | None) -> tuple[routing.Chain, str | None]:
    """The routing chain of a point and a note: outside every grid, the district of the nearest
    micro-grid; unlocated, the desk (``AreaIndex.desk``)."""
    if lon is None or lat is None:
        return routing.Chain(index.desk), None
    located = index.locate(np.array([lon]), np.array([lat]))
    i = int(located.index[0])
    if not located.inside[0]:
        metres = float(located.distance_m[0])
        nearest = index.codes[i]
        return routing.Chain(nearest[:6]), f"outside every grid, {metres:.0f} m from {nearest}"
    code = index.codes[i]
    return (
        routing.Chain(code[:6], code[:9], code[:12], code[:15], code, code[:15] in index.workers),
        None,
    )


def prepare(
    conn: Connection,
    index: AreaIndex,
    catalogue: Catalogue,
    report: IncidentIn,
    *,
    actor: Actor,
    work_hours: worktime.WorkHours,
    key: str | None = None,
    now: datetime | None = None,
    far_m: float = 300.0,
) -> Prepared | Filed:
    """Check, locate and route a report, outside any lock; a report that fails its checks
    under an ``Idempotency-Key`` already used answers that key's case (a retry is never
    refused for what changed since it was first filed). A photo whose EXIF position is more
    than ``far_m`` from the case's point is noted."""
    try:
        category = catalogue.category(report.category)
        if report.source == "camera" and not category.machine:
            raise InvalidInput(f"cameras do not report {category.code} ({category.name})", field="category")
        placed, notes, spot = placement(conn, index, catalogue, category, report, far_m)
    except InvalidInput:
        seen = conn.execute(_KEYS_SEEN, {"keys": [key]}).first() if key is not None else None
        if seen is None:
            raise
        return _replayed(conn, seen, request_hash(report))
    return Prepared(report, actor, key, request_hash(report), category, placed, notes, spot, work_hours, now)


def _replayed(conn: Connection, seen: Any, fingerprint: str) -> Filed:
    """The case a key filed, for a retry of the same request; a different request is a conflict."""
    then = conn.execute(_HASH_OF, {"id": seen.id, "at": seen.received_at}).scalar_one()
    if then != fingerprint:
        raise _conflict()
    return Filed(int(seen.id), False, seen.received_at)


def file_many(conn: Connection, batch: Sequence[Prepared | Filed]) -> list[Filed | WanggeError]:
    """File prepared reports in the caller's transaction: numbered (the Beijing day and that
    day's serial, in the order given), stored with their reporters, first history entries and
    audit entries, their clocks started, the outbox told. One statement of each kind for the
    whole batch, so that many concurrent intakes share one commit (``api.filing``).

    Each report answers its case or its own error (a key used for a different request): one
    report's error does not stop the others. Keys are locked for the transaction, so a retry
    racing its first attempt, in this batch or another, gets the same case.
    """
    results: list[Filed | WanggeError | None] = [p if isinstance(p, Filed) else None for p in batch]
    todo = [(i, p) for i, p in enumerate(batch) if isinstance(p, Prepared)]
    first: dict[str, int] = {}  # a key's first report in the batch; later ones are its retries
    repeats: list[tuple[int, int]] = []
    keys = sorted({p.key for _, p in todo if p.key is not None})
    if keys:
        conn.execute(_LOCK_KEYS, {"keys": keys})
        seen = {r.idempotency_key: r for r in conn.execute(_KEYS_SEEN, {"keys": keys})}
        fresh = []
        for i, p in todo:
            if p.key is not None and p.key in seen:
                results[i] = _attempt(conn, seen[p.key], p.fingerprint)
            elif p.key is not None and p.key in first:
                repeats.append((i, first[p.key]))
            else:
                if p.key is not None:
                    first[p.key] = i
                fresh.append((i, p))
        todo = fresh
    todo = [(i, p) for i, p in todo if not p.report.photos or _attached(conn, p, results, i)]
    if todo:
        stamps = conn.execute(_NOW_AND_IDS, {"k": len(todo)}).all()
        cases, days = [], defaultdict(list)
        for (_, p), (now, case_id) in zip(todo, stamps, strict=True):
            row = _case_row(p, int(case_id), p.now or now)
            cases.append(row)
            days[row["received_at"].astimezone(worktime.BEIJING).date()].append(row)
        for day, rows in days.items():  # the counters last, briefly: they are what concurrent intakes wait on
            last = conn.execute(_SERIALS, {"day": day, "k": len(rows)}).scalar_one()
            for k, row in enumerate(rows):
                row["number"] = numbers.case_number(day, last - len(rows) + k + 1)
        conn.execute(_NEW_CASES, [{n: r[n] for n in ("number", *_FILED)} for r in cases])
        conn.execute(_NEW_REPORTERS, [r["reporter"] for r in cases])
        conn.execute(_NEW_EVENTS, [r["event"] for r in cases])
        audit.record_many(conn, [r["audit"] for r in cases])
        outbox.cases_created(conn, [r["id"] for r in cases])
        for (i, _), row in zip(todo, cases, strict=True):
            results[i] = Filed(row["id"], True, row["received_at"])
    for i, j in repeats:
        done = results[j]
        if not isinstance(done, Filed):  # the first under this key failed: this one is filed on its own
            (results[i],) = file_many(conn, [batch[i]])
            continue
        same = cast(Prepared, batch[i]).fingerprint == cast(Prepared, batch[j]).fingerprint
        results[i] = Filed(done.id, False, done.received_at) if same else _conflict()
    assert None not in results, "every report of the batch is answered"
    return cast(list[Filed | WanggeError], results)


def _attached(conn: Connection, p: Prepared, results: list[Filed | WanggeError | None], i: int) -> bool:
    """Mark a report's photos used (the reporter's own: shown to the public), on a savepoint:
    a photo gone meanwhile (never uploaded, or swept) is that report's error, not the batch's."""
    try:
        with conn.begin_nested():
            photo_records.attach(conn, p.report.photos, public=True)
    except WanggeError as exc:
        results[i] = exc
        return False
    return True


def _attempt(conn: Connection, seen: Any, fingerprint: str) -> Filed | WanggeError:
    """``_replayed``, its conflict answered rather than raised."""
    try:
        return _replayed(conn, seen, fingerprint)
    except WanggeError as exc:
        return exc


def _conflict() -> Conflict:
    return Conflict("this Idempotency-Key was used for a different request", field="Idempotency-Key")


_FILED = ("id", "idempotency_key", "request_hash", "source", "category", "appeal_type", "description",
          "photos", "point", "h3", "located_by", "location_input", "inside", "generation", "street",
          "community", "grid", "micro_grid", "asset_id", "unit", "second_unit", "routed_by",
          "location_note", "camera_id", "machine_confidence", "received_at", "warn_at", "deadline",
          "escalate_at")  # fmt: skip


def _case_row(p: Prepared, case_id: int, received: datetime) -> dict[str, Any]:
    """What filing writes of one case: its columns, and its reporter's, first event's and audit
    entry's rows."""
    report, placed, notes = p.report, p.placed, list(p.notes)
    limits = worktime.clock(received, p.category.deadline_hours, p.category.working_time, p.work_hours)
    if not limits.official:
        notes.append("deadline counted on weekdays: the official calendar of that year is not published yet")
    unit, note = placed["unit"], f"routed by {placed['routed_by']}"
    return {
        "id": case_id,
        "idempotency_key": p.key,
        "request_hash": p.fingerprint,
        "source": report.source,
        "category": p.category.code,
        "appeal_type": report.appeal_type,
        "description": report.description,
        "photos": [str(ref) for ref in report.photos],
        **placed,
        "location_note": "; ".join(notes) or None,
        "camera_id": report.camera_id,
        "machine_confidence": report.machine_confidence,
        "received_at": received,
        "warn_at": limits.warn_at,
        "deadline": limits.deadline,
        "escalate_at": limits.escalate_at,
        "reporter": {"incident_id": case_id, "source": report.source, "received_at": received,
                     **reporter_row(report.reporter)},
        "event": {"incident_id": case_id, "case_received_at": received, "action": "create",
                  "from_status": None, "to_status": "received", "unit": unit, "photos": [],
                  "actor": p.actor.name, "role": p.actor.role, "note": note},
        "audit": audit.entry(p.actor, "incident.create", f"incident:{case_id}", to="received", unit=unit),
    }  # fmt: skip


def create(
    conn: Connection,
    index: AreaIndex,
    catalogue: Catalogue,
    report: IncidentIn,
    *,
    actor: Actor,
    work_hours: worktime.WorkHours,
    key: str | None = None,
    now: datetime | None = None,
    far_m: float = 300.0,
) -> Filed:
    """Store one report as a case (``prepare``, then ``file_many`` of one): its id, whether
    this call created it (not for a replayed key) and when it was received."""
    ready = prepare(conn, index, catalogue, report, actor=actor, work_hours=work_hours, key=key, now=now,
                    far_m=far_m)  # fmt: skip
    (result,) = file_many(conn, [ready])
    if isinstance(result, WanggeError):
        raise result
    return result


def reporter_row(reporter: Reporter) -> dict[str, Any]:
    """A reporter's columns: told of progress only when they asked and left a way to reach them."""
    told = reporter.notify and bool(reporter.phone or reporter.email)
    return {"name": reporter.name, "phone": reporter.phone, "email": reporter.email,
            "consent": reporter.consent, "notify": told}  # fmt: skip


def placement(
    conn: Connection,
    index: AreaIndex,
    catalogue: Catalogue,
    category: Category,
    report: IncidentIn,
    far_m: float = 300.0,
) -> tuple[dict[str, Any], list[str], tuple[float, float] | None]:
    """Where a report is and who handles it: the case's location and routing columns, the
    notes on how it was located and its WGS84 point (intake, and re-routing when a dispatcher
    corrects a case);
    a photo whose EXIF position is more than ``far_m`` from the point is noted."""
    where = resolve(conn, report)
    chain, outside_note = chain_of(index, where.lon, where.lat)
    owner = None
    if where.asset is not None:
        owner_name = (where.asset.get("attributes") or {}).get("owner")
        owner = next((c for c, n in catalogue.departments.items() if n == owner_name), None)
    if where.located_by == "needs_location":  # the district desk places it, nobody guesses
        route = routing.Route(chain.district, None, "needs_location")
    else:
        route = routing.route(catalogue, category, chain, owner)
    location_input = report.model_dump(
        include={"lon", "lat", "crs", "accuracy_m", "address", "asset_id", "camera_id"}, exclude_none=True
    )
    spot = (where.lon, where.lat) if where.lon is not None and where.lat is not None else None
    placed = {
        "point": f"SRID=4326;POINT({spot[0]!r} {spot[1]!r})" if spot else None,  # bound, all digits kept
        "h3": int(hexes.cells([spot[0]], [spot[1]])[0]) if spot else None,
        "located_by": where.located_by,
        "location_input": location_input,
        "inside": chain.micro_grid is not None,
        "generation": index.generation if spot else None,
        "street": chain.street,
        "community": chain.community,
        "grid": chain.grid,
        "micro_grid": chain.micro_grid,
        "asset_id": report.asset_id,
        "unit": route.unit,
        "second_unit": route.second_unit,
        "routed_by": route.routed_by,
    }
    far = photo_records.far_from(conn, report.photos, *spot, far_m) if spot and report.photos else []
    return placed, [n for n in (where.note, outside_note, *far) if n], spot


def log_event(
    conn: Connection,
    case_id: int,
    actor: Actor,
    action: str,
    from_status: str | None,
    to_status: str | None,
    *,
    unit: str | None = None,
    note: str = "",
    photos: list[str] | None = None,
) -> None:
    """Append one entry to a case's history (the table refuses edits and deletions) and to the
    audit log; its photos are marked used, and the outbox tells whom it concerns (a new case's
    first entry is written with the case: ``create``)."""
    audit.record(conn, actor, f"incident.{action}", f"incident:{case_id}", to=to_status, unit=unit)
    photo_records.attach(conn, photos or [])
    conn.execute(_NEW_EVENT, {
        "incident_id": case_id, "case_id": case_id, "actor": actor.name, "role": actor.role,
        "action": action, "from_status": from_status, "to_status": to_status, "unit": unit,
        "note": note, "photos": photos or [],
    })  # fmt: skip
    outbox.case_changed(conn, case_id, action, from_status, to_status, note)


_LONLAT = (func.ST_X(CASES.point).label("lon"), func.ST_Y(CASES.point).label("lat"))


def _near(lon: float, lat: float, radius_m: float) -> tuple[ColumnElement[float], list[ColumnElement[bool]]]:
    """The distance in metres of a case from a point, and the index-friendly radius test."""
    return sql.distance_m(CASES.point, lon, lat).label("distance_m"), [
        sql.within_m(CASES.point, lon, lat, radius_m)
    ]


_KINDS = CATEGORIES.c
_DUPLICATE_OF = (
    select(CASES.category, func.ST_X(CASES.point).label("lon"), func.ST_Y(CASES.point).label("lat"))
    .add_columns(CASES.received_at, _KINDS.duplicate_m, _KINDS.duplicate_hours)
    .join(CATEGORIES, _KINDS.code == CASES.category)
    .where(CASES.id == bindparam("id"), CASES.received_at == bindparam("at"))
)
_DISTANCE = sql.distance_m(CASES.point, bindparam("lon"), bindparam("lat")).label("distance_m")
_SIMILAR = (  # built once: run for every new case (``sql.near_params`` and the window bound)
    select(CASES.id, CASES.number, CASES.status, CASES.received_at, CASES.closed_at, _DISTANCE, *_LONLAT)
    .where(sql.within_bound(CASES.point), CASES.category == bindparam("category"))
    .where(CASES.status.in_(OPEN) | ((CASES.status == "closed") & (CASES.closed_at >= bindparam("since"))))
    .where(CASES.received_at.between(bindparam("since"), bindparam("until")))
    .where(CASES.id != bindparam("besides"))
    .order_by(_DISTANCE, CASES.id)
    .limit(20)
)


def likely_duplicates(
    conn: Connection, case_id: int, snap_m: float = 0.0, received_at: datetime | None = None
) -> list[dict[str, Any]]:
    """Cases of the same category as close and as recent as that category says (``duplicate_m``,
    ``duplicate_hours``): open ones, and ones closed within the window ("reported and closed
    yesterday"); distances as ``privacy.shown_distances`` lets the caller see them. Its
    ``received_at``, when the caller knows it (intake), spares looking it up."""
    received = received_at or partitions.received_at(conn, case_id)
    case = conn.execute(_DUPLICATE_OF, {"id": case_id, "at": received}).first() if received else None
    if case is None:
        raise NotFound(f"no incident {case_id}", field="id")
    if case.lon is None:
        return []
    return similar_near(
        conn, case.lon, case.lat, case.category, case.duplicate_m, case.duplicate_hours,
        at=case.received_at, snap_m=snap_m, besides=case_id,
    )  # fmt: skip


def duplicates_of(
    conn: Connection, ready: Prepared, filed: Filed, snap_m: float = 0.0
) -> list[dict[str, Any]]:
    """``likely_duplicates`` of a case just filed, from what its filing knew (its point and
    category): no query to look them up."""
    if ready.spot is None:
        return []
    c = ready.category
    return similar_near(conn, *ready.spot, c.code, c.duplicate_m, c.duplicate_hours, at=filed.received_at,
                        snap_m=snap_m, besides=filed.id)  # fmt: skip


def similar_near(
    conn: Connection,
    lon: float,
    lat: float,
    category: str,
    radius_m: float,
    window_h: float,
    *,
    at: datetime | None = None,
    snap_m: float = 0.0,
    besides: int | None = None,
) -> list[dict[str, Any]]:
    """Cases of ``category`` within ``radius_m`` of a WGS84 point, received within ``window_h``
    hours of ``at`` (default now): open, or closed within the window; nearest first."""
    window = timedelta(hours=window_h)
    moment = at if at is not None else conn.execute(_NOW).scalar_one()
    values = {**sql.near_params(lon, lat, radius_m), "category": category, "since": moment - window,
              "until": moment + window, "besides": 0 if besides is None else besides}  # fmt: skip
    found = conn.execute(_SIMILAR, values).mappings()  # besides 0: case ids start at 1
    rows = [{**r, "distance_m": round(float(r["distance_m"]), 2)} for r in found]
    return privacy.shown_distances(rows, lon, lat, snap_m)


def nearby_open(
    conn: Connection,
    lon: float,
    lat: float,
    radius_m: float,
    category: str | None = None,
    limit: int = 10,
    snap_m: float = 0.0,
) -> list[dict[str, Any]]:
    """Open cases (of ``category``) within ``radius_m`` metres of a WGS84 point, nearest first
    (distances as ``privacy.shown_distances`` lets the caller see them: ``snap_m`` for the public)."""
    distance, near = _near(lon, lat, radius_m)
    query = (
        select(CASES.id, CASES.number, CASES.category, CASES.status, CASES.received_at, distance, *_LONLAT)
        .where(*near, CASES.status.in_(OPEN))
        .order_by(distance, CASES.id)
        .limit(limit)
    )
    if category is not None:
        query = query.where(CASES.category == category)
    rows = [{**r, "distance_m": round(float(r["distance_m"]), 2)} for r in conn.execute(query).mappings()]
    return privacy.shown_distances(rows, lon, lat, snap_m)

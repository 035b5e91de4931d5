"""Cases (事件/部件 incidents): intake, location, routing, duplicates, reads.

Intake locates the case (coordinates in any CRS, an address, an asset or a camera),
stores its area chain and generation, routes it (``layers.routing``), numbers it
(date + 5-digit serial of that day, Beijing time) and starts its clock
(``layers.worktime``), all in the caller's transaction. An ``Idempotency-Key`` is
taken under a transaction-scoped advisory lock, so concurrent retries of one request
wait for the first and get its case; a key reused for a different request is a
conflict. The location input is kept verbatim with the case.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection, text

from geo import hexes
from geo.crs import reach_deg, to_wgs84
from geo.errors import Conflict, InvalidInput, NotFound
from layers.accounts import audit
from layers.accounts.actors import Actor
from layers.addresses import gazetteer
from layers.assets import store
from layers.assets.kinds import parse_asset_id
from layers.cases import routing, worktime
from layers.cases.categories import Catalogue
from layers.db.vocabulary import OPEN
from layers.grid.index import AreaIndex

Source = Literal["wechat", "hotline", "grid_worker", "camera", "photo_report", "open311"]


class Reporter(BaseModel):
    """Who reported it (personal data: stored, shown only as ``layers.privacy`` allows)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 -]{4,19}$")
    consent: bool = Field(default=False, description="The reporter agrees to show the name.")


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
    photos: list[AnyHttpUrl] = Field(default_factory=list, max_length=9)

    @model_validator(mode="after")
    def _one_location(self) -> IncidentIn:
        given = [
            name
            for name, present in (
                ("lon/lat", self.lon is not None or self.lat is not None),
                ("address", self.address is not None),
                ("asset_id", self.asset_id is not None),
                ("camera_id", self.camera_id is not None),
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


@dataclass(frozen=True)
class Where:
    """Where a report is, as resolved from its input."""

    lon: float | None
    lat: float | None
    located_by: str  # coordinates | address | asset | camera | none
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
        found = gazetteer.geocode(conn, report.address, limit=1)
        if not found:
            return Where(None, None, "none", f"address not found: {report.address}")
        best = found[0]
        return Where(
            best["lon"], best["lat"], "address", f"geocoded to {best['address']} (score {best['score']})"
        )
    return Where(None, None, "none", "no location given")


def request_hash(report: IncidentIn) -> str:
    """A fingerprint of the request, to tell a retry from a different request under one key."""
    body = json.dumps(report.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _number(conn: Connection, at: datetime) -> str:
    day = at.astimezone(worktime.BEIJING).date()
    serial = conn.execute(
        text(
            "INSERT INTO incident_numbers (day, last) VALUES (:d, 1) "
            "ON CONFLICT (day) DO UPDATE SET last = incident_numbers.last + 1 RETURNING last"
        ),
        {"d": day},
    ).scalar_one()
    return f"{day:%Y%m%d}{serial:05d}"


_INSERT = text("""
INSERT INTO incidents (number, idempotency_key, request_hash, source, category, appeal_type, description,
  photos, point, h3, located_by, location_input, location_note, inside, generation, street, community, grid,
  micro_grid, asset_id, camera_id, machine_confidence, unit, second_unit, routed_by, received_at, warn_at,
  deadline, escalate_at)
VALUES (:number, :key, :hash, :source, :category, :appeal_type, :description, :photos,
  CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END,
  :h3, :located_by, CAST(:location_input AS jsonb), :location_note, :inside, :generation, :street, :community,
  :grid, :micro_grid, :asset_id, :camera_id, :machine_confidence, :unit, :second_unit, :routed_by,
  :received_at, :warn_at, :deadline, :escalate_at)
RETURNING id
""")


def chain_of(index: AreaIndex, lon: float | None, lat: float | None) -> tuple[routing.Chain, str | None]:
    """The routing chain of a point (district only when outside or unlocated) and a note."""
    district = index.district or "370203"
    if lon is None or lat is None:
        return routing.Chain(district), None
    located = index.locate(np.array([lon]), np.array([lat]))
    i = int(located.index[0])
    if not located.inside[0]:
        metres = float(located.distance_m[0])
        return routing.Chain(district), f"outside every grid, {metres:.0f} m from {index.codes[i]}"
    code = index.codes[i]
    return (
        routing.Chain(district, code[:9], code[:12], code[:15], code, code[:15] in index.workers),
        None,
    )


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
) -> tuple[int, bool]:
    """Store a report as a case; answers (id, created) — created is False for a replayed key."""
    fingerprint = request_hash(report)
    if key is not None:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})
        seen = conn.execute(
            text("SELECT id, request_hash FROM incidents WHERE idempotency_key = :k"), {"k": key}
        ).first()
        if seen is not None:
            if seen.request_hash != fingerprint:
                raise Conflict(
                    "this Idempotency-Key was used for a different request", field="Idempotency-Key"
                )
            return int(seen.id), False
    category = catalogue.category(report.category)
    if report.source == "camera" and not category.machine:
        raise InvalidInput(f"cameras do not report {category.code} ({category.name})", field="category")
    where = resolve(conn, report)
    chain, outside_note = chain_of(index, where.lon, where.lat)
    owner = None
    if where.asset is not None:
        owner_name = (where.asset.get("attributes") or {}).get("owner")
        owner = next((c for c, n in catalogue.departments.items() if n == owner_name), None)
    route = routing.route(catalogue, category, chain, owner)
    received = now or conn.execute(text("SELECT now()")).scalar_one()
    limits = worktime.clock(received, category.deadline_hours, category.working_time, work_hours)
    location_input = report.model_dump(
        include={"lon", "lat", "crs", "accuracy_m", "address", "asset_id", "camera_id"}, exclude_none=True
    )
    notes = [n for n in (where.note, outside_note) if n]
    if not limits.official:
        notes.append("deadline counted on weekdays: the official calendar of that year is not published yet")
    case_id = conn.execute(
        _INSERT,
        {
            "number": _number(conn, received),
            "key": key,
            "hash": fingerprint,
            "source": report.source,
            "category": category.code,
            "appeal_type": report.appeal_type,
            "description": report.description,
            "photos": [str(p) for p in report.photos],
            "lon": where.lon,
            "lat": where.lat,
            "h3": None
            if where.lon is None or where.lat is None
            else int(hexes.cells([where.lon], [where.lat])[0]),
            "located_by": where.located_by,
            "location_input": json.dumps(location_input, ensure_ascii=False),
            "location_note": "; ".join(notes) or None,
            "inside": chain.micro_grid is not None,
            "generation": index.generation if where.lon is not None else None,
            "street": chain.street,
            "community": chain.community,
            "grid": chain.grid,
            "micro_grid": chain.micro_grid,
            "asset_id": report.asset_id,
            "camera_id": report.camera_id,
            "machine_confidence": report.machine_confidence,
            "unit": route.unit,
            "second_unit": route.second_unit,
            "routed_by": route.routed_by,
            "received_at": received,
            "warn_at": limits.warn_at,
            "deadline": limits.deadline,
            "escalate_at": limits.escalate_at,
        },
    ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO incident_reporters (incident_id, source, name, phone, consent, received_at) "
            "VALUES (:i, :s, :n, :p, :c, :t)"
        ),
        {
            "i": case_id,
            "s": report.source,
            "n": report.reporter.name,
            "p": report.reporter.phone,
            "c": report.reporter.consent,
            "t": received,
        },
    )
    log_event(
        conn, case_id, actor, "create", None, "received", unit=route.unit, note=f"routed by {route.routed_by}"
    )
    return int(case_id), True


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
    """Append one entry to a case's history (the table refuses edits and deletions) and to the audit log."""
    audit.record(conn, actor, f"incident.{action}", f"incident:{case_id}", to=to_status, unit=unit)
    conn.execute(
        text(
            "INSERT INTO incident_events (incident_id, actor, role, action, from_status, to_status, unit, "
            "note, photos) VALUES (:i, :a, :r, :act, :f, :t, :u, :n, :p)"
        ),
        {
            "i": case_id,
            "a": actor.name,
            "r": actor.role,
            "act": action,
            "f": from_status,
            "t": to_status,
            "u": unit,
            "n": note,
            "p": photos or [],
        },
    )


def _reach(lat: float, metres: float) -> dict[str, float]:
    """The GiST-usable envelope around a point (``&&``), before the exact metres decide."""
    dlon, dlat = reach_deg(lat, metres)
    return {"dlon": dlon, "dlat": dlat}


_DUPLICATES = text("""
SELECT id, number, status, received_at,
       ST_Distance(point::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m
FROM incidents
WHERE point && ST_MakeEnvelope(:lon - :dlon, :lat - :dlat, :lon + :dlon, :lat + :dlat, 4326)
  AND category = :category AND status = ANY(:open) AND id <> :exclude
  AND received_at BETWEEN CAST(:at AS timestamptz) - make_interval(secs => :window_s)
                      AND CAST(:at AS timestamptz) + make_interval(secs => :window_s)
  AND ST_DWithin(point::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius)
ORDER BY distance_m, id
LIMIT 20
""")


def likely_duplicates(
    conn: Connection, case_id: int, radius_m: float, window_h: float
) -> list[dict[str, Any]]:
    """Open cases of the same category within ``radius_m`` metres and ``window_h`` hours."""
    case = conn.execute(
        text(
            "SELECT category, ST_X(point) AS lon, ST_Y(point) AS lat, received_at "
            "FROM incidents WHERE id = :i"
        ),
        {"i": case_id},
    ).one()
    if case.lon is None:
        return []
    rows = conn.execute(
        _DUPLICATES,
        {
            "lon": case.lon,
            "lat": case.lat,
            "category": case.category,
            "open": list(OPEN),
            "exclude": case_id,
            "at": case.received_at,
            "window_s": window_h * 3600,
            "radius": radius_m,
            **_reach(case.lat, radius_m),
        },
    ).mappings()
    return [{**r, "distance_m": round(float(r["distance_m"]), 2)} for r in rows]


_NEARBY = text("""
SELECT id, number, category, status, received_at,
       ST_Distance(point::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m
FROM incidents
WHERE point && ST_MakeEnvelope(:lon - :dlon, :lat - :dlat, :lon + :dlon, :lat + :dlat, 4326)
  AND status = ANY(:open) AND (CAST(:category AS text) IS NULL OR category = :category)
  AND ST_DWithin(point::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius)
ORDER BY distance_m, id
LIMIT :limit
""")


def nearby_open(
    conn: Connection, lon: float, lat: float, radius_m: float, category: str | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """Open cases (of ``category``) within ``radius_m`` metres of a WGS84 point, nearest first."""
    params = {
        "lon": lon,
        "lat": lat,
        "radius": radius_m,
        "category": category,
        "open": list(OPEN),
        "limit": limit,
        **_reach(lat, radius_m),
    }
    return [
        {**r, "distance_m": round(float(r["distance_m"]), 2)}
        for r in conn.execute(_NEARBY, params).mappings()
    ]

"""Cases (案件): one case with its reporters and history, lists, categories."""

from __future__ import annotations

from typing import Any, Literal

from api.schemas.common import Answer, Point, Timestamp
from layers.cases.categories import Category


class CaseSummary(Answer):
    """A case as lists show it (the public sees it snapped and without the handler)."""

    id: int
    number: str
    source: str
    category: str
    category_name: str
    category_kind: str
    appeal_type: str | None
    description: str
    photos: list[str]
    status: str
    located_by: str | None
    location_input: dict[str, Any]
    location_note: str | None
    inside: bool | None
    generation: int | None
    street: str | None
    community: str | None
    grid: str | None
    micro_grid: str | None
    asset_id: str | None
    camera_id: str | None
    machine_confidence: float | None
    unit: str | None
    unit_name: str | None
    second_unit: str | None
    routed_by: str | None
    handler: str | None
    received_at: Timestamp
    responded_at: Timestamp | None
    warn_at: Timestamp
    deadline: Timestamp
    escalate_at: Timestamp
    closed_at: Timestamp | None
    satisfied: bool | None
    merged_into: int | None
    overdue: Literal["red", "amber"] | None
    escalated_to: Literal["street", "community"] | None
    point: Point | None = None


class Reporter(Answer):
    """A reporter as the caller may see them (masked or absent for most roles)."""

    source: str | None = None
    name: str | None = None
    phone: str | None = None
    consent: bool | None = None
    received_at: Timestamp | None = None
    merged_from: int | None = None
    anonymised: bool | None = None


class Event(Answer):
    """One event of the case's append-only history."""

    at: Timestamp
    actor: str | None
    role: str | None
    action: str
    from_status: str | None
    to_status: str | None
    unit: str | None
    note: str | None
    photos: list[str]


class Duplicate(Answer):
    id: int
    number: str
    distance_m: float


class Case(CaseSummary):
    """One case with its reporters and its full history."""

    reporters: list[Reporter]
    history: list[Event]
    likely_duplicates: list[Duplicate] | None = None


class CaseList(Answer):
    numberMatched: int
    numberReturned: int
    limit: int
    offset: int
    incidents: list[CaseSummary]


class CaseFeature(Answer):
    type: Literal["Feature"]
    id: int
    geometry: Point | None
    properties: CaseSummary


class CaseFeatures(Answer):
    """Cases as GeoJSON for the map (``f=geojson``)."""

    type: Literal["FeatureCollection"]
    numberMatched: int
    numberReturned: int
    limit: int
    offset: int
    features: list[CaseFeature]


class Department(Answer):
    code: str
    name: str


class Categories(Answer):
    categories: list[Category]  # the catalogue's own dataclass
    departments: list[Department]

"""Assets (部件): nearest, one asset with its chain and history, inspections, campaigns."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from api.schemas.common import Answer, Chain, Geometry, Point, Query, Timestamp


class AssetSummary(Answer):
    id: str
    kind: str
    subclass: str
    subclass_name: str | None
    point: Point
    micro_grid: str | None
    distance_m: float | None = None


class Nearest(Answer):
    query: Query
    results: list[AssetSummary]


class Inspection(Answer):
    """One patrol record."""

    id: int
    inspected_at: Timestamp
    inspector: str | None  # withheld from the public (no staff names)
    result: Literal["ok", "defect"]
    defect: str | None
    photo_url: str | None
    note: str
    campaign_id: int | None
    incident_id: int | None = None


class Inspections(Answer):
    results: list[Inspection]


class AssetCase(Answer):
    """A case of the asset (no personal data)."""

    id: int
    number: str
    category: str
    category_name: str
    status: str
    received_at: Timestamp
    closed_at: Timestamp | None
    overdue: str | None


class AssetProperties(Answer):
    id: str
    kind: str
    subclass: str
    subclass_name: str | None
    micro_grid: str | None
    name: str | None
    attributes: dict[str, Any]
    generation: int | None
    areas: Chain | None
    inspections: list[Inspection]
    incidents: list[AssetCase]


class AssetFeature(Answer):
    """An asset as a GeoJSON Feature: its point (or site polygon), attributes, chain, history."""

    type: Literal["Feature"]
    id: str
    geometry: Geometry
    properties: AssetProperties


class DefectCount(Answer):
    label: str
    assets: int


class Campaign(Answer):
    """A patrol campaign with its figures."""

    id: int
    name: str
    starts: date
    ends: date
    area_code: str
    road_segments: int | None
    compounds: int | None
    note: str
    assets_inspected: int
    defective_assets: int
    inspections: int
    defects_by_type: dict[str, DefectCount]
    cases_filed: int


class Campaigns(Answer):
    results: list[Campaign]

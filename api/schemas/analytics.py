"""What planners ask: hotspots, repeats, trends, coverage, inspections, patrol, KPIs."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from api.schemas.common import Answer, Geometry, Timestamp


class CellProperties(Answer):
    cell: str
    count: int
    z: float
    p: float
    q: float
    class_: Literal["hot", "cold", "none"] = Field(alias="class")


class Cell(Answer):
    type: Literal["Feature"]
    id: str
    geometry: Geometry
    properties: CellProperties


class HotspotSummary(Answer):
    res: int
    k: int
    alpha: float
    since: date
    until: date
    categories: list[str]
    cells: int
    cases: int
    cases_outside_study_area: int
    hot: int
    cold: int


class Hotspots(Answer):
    """Gi* classes of H3 cells as a GeoJSON FeatureCollection, with what was counted."""

    type: Literal["FeatureCollection"]
    features: list[Cell]
    summary: HotspotSummary


class Cluster(Answer):
    """A repeat location: same-category cases within the radius of each other."""

    category: str
    cases: int
    lon: float
    lat: float
    first: Timestamp
    last: Timestamp
    micro_grid: str | None
    numbers: list[str]


class Repeats(Answer):
    since: date
    until: date
    radius_m: float
    min_cases: int
    clusters: list[Cluster]


class Trend(Answer):
    """Counts for one key (a category or an area): this month, the month before, a year before."""

    count: int
    previous: int
    last_year: int
    change: int
    change_pct: float | None
    yoy_pct: float | None
    name: str | None = None


class Trends(Answer):
    month: str
    previous_month: str
    same_month_last_year: str
    partial: bool
    results: list[Trend]
    seasonal_profile: dict[str, list[float]] | None = None
    risers: list[Trend]
    fallers: list[Trend]


class MonthCount(Answer):
    month: str
    cases: int
    complete: bool = Field(description="The month is over (Beijing time)")


class Months(Answer):
    months: list[MonthCount]
    default: str | None = Field(description="The last complete month that has cases")


class Share(Answer):
    total: int
    covered: int
    share: float


class CoverageGroup(Answer):
    micro_grids: int
    covered: int
    share: float
    households: int
    households_covered: int
    households_share: float
    name: str | None = None


class UncoveredProperties(Answer):
    code: str
    name: str | None
    street: str
    street_name: str | None
    community: str
    community_name: str | None
    households: int
    distance_m: float | None = Field(description="Straight-line metres to the nearest qualifying asset.")
    nearest: str | None = Field(description="The nearest qualifying asset's ID (none when there is none).")
    nearest_name: str | None


class Uncovered(Answer):
    type: Literal["Feature"]
    id: str
    geometry: Geometry
    properties: UncoveredProperties


class UncoveredCollection(Answer):
    type: Literal["FeatureCollection"]
    features: list[Uncovered]


class Coverage(Answer):
    """Micro-grids and households within a straight-line radius of a layer's assets."""

    facilities: int
    micro_grids: Share
    households: Share
    groups: list[CoverageGroup]
    uncovered: UncoveredCollection
    layer: str
    radius_m: float
    by: str
    ev: bool
    status: str | None


class InspectionShare(Answer):
    code: str
    covers: int
    inspected: int
    share: float


class InspectionCoverage(Answer):
    days: int
    by: str
    covers: int
    inspected: int
    share: float | None
    results: list[InspectionShare]


class PatrolRow(Answer):
    code: str
    name: str
    households: int
    perimeter_m: float
    minutes: float


class Patrol(Answer):
    walk_kmh: float
    minutes_per_household: float
    limit_hours: float
    micro_grids: int
    over_limit: int
    results: list[PatrolRow]


class KpiRow(Answer):
    """KPIs of one group (definitions in docs/incidents.md)."""

    received: int
    due: int
    closed: int
    response_rate: float | None
    resolution_rate: float | None
    on_time_rate: float | None
    satisfaction_rate: float | None
    rework_rate: float | None
    median_hours_to_close: float | None
    name: str | None = None


class Kpis(Answer):
    by: str
    from_: date = Field(alias="from")
    until: date
    category: str | None
    results: list[KpiRow]

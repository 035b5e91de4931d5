"""Locating and geocoding: the single-point answer of API.md, batch rows, addresses."""

from __future__ import annotations

from api.schemas.common import Answer, AreaRef, GridRef, Point, Query, Timestamp


class NearestAsset(Answer):
    id: str
    kind: str
    subclass: str
    distance_m: float


class NearbyCase(Answer):
    """An open case near the point (no personal data)."""

    id: int
    number: str
    category: str
    status: str
    received_at: Timestamp
    distance_m: float


class Located(Answer):
    """Who is responsible for a point: the area chain, the grid worker, how sure the answer is."""

    query: Query
    point: Point
    inside: bool
    distance_m: float
    boundary_distance_m: float
    ambiguous: bool
    district: AreaRef
    street: AreaRef
    community: AreaRef
    grid: GridRef
    micro_grid: AreaRef
    generation: int
    nearest_assets: list[NearestAsset]
    nearby_incidents: list[NearbyCase]


class BatchRow(Answer):
    """One row of a batch answer: the codes of the chain, or the row's error."""

    inside: bool | None = None
    distance_m: float | None = None
    street: str | None = None
    community: str | None = None
    grid: str | None = None
    micro_grid: str | None = None
    error: dict[str, str | None] | None = None


class BatchAnswer(Answer):
    crs: str
    results: list[BatchRow]


class Address(Answer):
    """A standard address, located."""

    address: str
    road: str
    house_number: str
    building: str | None
    point: Point
    inside: bool
    street: AreaRef
    community: AreaRef
    grid: GridRef
    micro_grid: AreaRef
    score: float | None = None
    distance_m: float | None = None


class Geocoded(Answer):
    query: str
    results: list[Address]


class Reversed(Answer):
    query: Query
    results: list[Address]

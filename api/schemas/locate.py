"""Locating and geocoding: the single-point answer of API.md, batch rows, addresses."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

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


class PlaceRef(Answer):
    """The named place a result is (its name generated for the reference district, or real)."""

    name: str
    kind: Literal["compound", "building", "school", "market", "park", "landmark"]
    generated: bool


class Address(Answer):
    """A standard address or a named place, located."""

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
    match: Literal["exact", "house_near", "road", "fuzzy"] | None = Field(
        default=None,
        description="How the query matched: the doorplate itself, a doorplate a few numbers "
        "away (number_difference), the road only, or a similar name (never used to route a case).",
    )
    number_difference: int | None = None
    place: PlaceRef | None = None
    distance_m: float | None = None


class ParsedAddress(Answer):
    """What the query was read as (empty strings for the parts it did not have)."""

    road: str | None
    number: str | None = Field(description="The doorplate as typed, e.g. 甲64-1")
    building: str
    unit: str
    room: str
    place: str
    unread: str = Field(description="What follows the door and could not be read; never silently dropped")


class Geocoded(Answer):
    query: str
    parsed: ParsedAddress
    ambiguous: bool = Field(description="Two equally good candidates are different places: none is chosen")
    trusted: bool = Field(description="The first result may locate a case without a dispatcher")
    outside: str | None = Field(description="Why nothing in the district was offered")
    outside_district: str | None = Field(description="The other district the address is in (市南区 …)")
    results: list[Address]


class Reversed(Answer):
    query: Query
    results: list[Address]

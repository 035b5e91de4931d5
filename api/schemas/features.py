"""OGC API – Features: collections, features and pages of them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.schemas.common import Answer, Geometry, Link


class SpatialExtent(Answer):
    bbox: list[list[float]]
    crs: str


class Extent(Answer):
    spatial: SpatialExtent


class Collection(Answer):
    """One collection: a grid level or an asset kind."""

    id: str
    title: str
    description: str
    itemType: str
    crs: list[str]
    storageCrs: str
    extent: Extent
    links: list[Link]


class Collections(Answer):
    links: list[Link]
    collections: list[Collection]


class Feature(Answer):
    """A feature; its properties are the collection's columns (an asset kind's attributes flattened)."""

    type: Literal["Feature"]
    id: str | int
    geometry: Geometry | None
    properties: dict[str, Any]
    links: list[Link] = Field(default_factory=list)


class FeatureCollection(Answer):
    """A page of features with the OGC counts and paging links."""

    type: Literal["FeatureCollection"]
    features: list[Feature]
    numberMatched: int
    numberReturned: int
    timeStamp: str
    links: list[Link]

"""Shapes shared by many answers: GeoJSON, links, area references."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, PlainSerializer

# A point in time as the API writes it: ISO 8601 with its offset (``+00:00``, not ``Z``).
Timestamp = Annotated[datetime, PlainSerializer(lambda at: at.isoformat(), return_type=str)]


class Answer(BaseModel):
    """The base of every answer: the fields it names are typed; nothing else is dropped."""

    model_config = ConfigDict(extra="allow")


class Point(Answer):
    """A GeoJSON Point, [lon, lat] in WGS84 (or the answer's ``out_crs``)."""

    type: Literal["Point"]
    coordinates: list[float]


class Geometry(Answer):
    """Any GeoJSON geometry (Polygon, MultiPolygon, Point …) in WGS84."""

    type: str
    coordinates: list[Any]


class Link(Answer):
    """An OGC API link."""

    href: str
    rel: str
    type: str
    title: str | None = None


class AreaRef(Answer):
    """An area by code and name."""

    code: str
    name: str | None


class Worker(Answer):
    """The grid worker (网格员): the phone only for dispatchers."""

    name: str | None
    phone: str | None = None


class GridRef(AreaRef):
    """A grid with its worker."""

    worker: Worker


class Chain(Answer):
    """District → street → community → grid → micro-grid of a point."""

    district: AreaRef
    street: AreaRef
    community: AreaRef
    grid: GridRef
    micro_grid: AreaRef


class Query(Answer):
    """A point as it was given."""

    lon: float
    lat: float
    crs: str

"""Plain records passed between generators, importers and the database layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import MultiPolygon


@dataclass
class AreaRecord:
    """One area of the hierarchy, ready to be written (geometry in WGS84)."""

    code: str
    level: str
    name: str
    parent_code: str | None
    geom: MultiPolygon
    households: int | None = None
    population: int | None = None
    worker_name: str | None = None
    worker_phone: str | None = None
    party_branch: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)

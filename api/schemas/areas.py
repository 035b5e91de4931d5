"""Areas of the grid: one area with its chain, children and figures."""

from __future__ import annotations

from api.schemas.common import Answer, Geometry, Worker


class AreaEntry(Answer):
    code: str
    name: str
    level: str


class AreaFigures(Answer):
    area_m2: float
    households: int | None
    population: int | None
    children: int
    assets: dict[str, int]
    open_incidents: dict[str, int]


class Area(Answer):
    """An area, its ancestors from the district down, its children and its figures."""

    code: str
    name: str
    level: str
    generation: int
    parents: list[AreaEntry]
    children: list[AreaEntry]
    figures: AreaFigures
    grid_worker: Worker | None
    party_branch: str | None
    geometry: Geometry | None

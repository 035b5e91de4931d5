"""Query parameters shared by routes, as typed dependencies (``BBoxDep``, ``PageDep``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from geo.errors import InvalidInput

MAX_LIMIT = 10_000
BBox = tuple[float, float, float, float]


def parse_bbox(
    bbox: str | None = Query(None, description="minLon,minLat,maxLon,maxLat (WGS84)"),
) -> BBox | None:
    """``bbox=`` as four finite WGS84 numbers with min ≤ max (OGC API – Features)."""
    if bbox is None:
        return None
    try:
        values = [float(v) for v in bbox.split(",")]
    except ValueError:
        raise InvalidInput("bbox must be four numbers: minLon,minLat,maxLon,maxLat", field="bbox") from None
    if len(values) == 6:  # 3D bbox: drop the heights
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InvalidInput("bbox must be four numbers: minLon,minLat,maxLon,maxLat", field="bbox")
    x0, y0, x1, y1 = values
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise InvalidInput("bbox is outside lon -180..180, lat -90..90", field="bbox")
    if x0 > x1 or y0 > y1:
        raise InvalidInput("bbox minimum is greater than its maximum", field="bbox")
    return x0, y0, x1, y1


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def page(
    limit: int = Query(100, ge=1, le=MAX_LIMIT, description="Features per page."),
    offset: int = Query(0, ge=0, description="Features to skip."),
) -> Page:
    return Page(limit, offset)


BBoxDep = Annotated[BBox | None, Depends(parse_bbox)]
PageDep = Annotated[Page, Depends(page)]

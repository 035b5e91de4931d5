"""Query parameters shared by routes, as typed dependencies (``BBoxDep``, ``PageDep``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Path, Query

from geo.crs import ACCEPTED, ALIASES
from geo.errors import InvalidInput
from layers.cases.queries import Filters
from layers.db.vocabulary import SOURCES, STATUSES

MAX_LIMIT = 10_000

# Patterns the OpenAPI document states (so a generated "valid" request is valid) and FastAPI
# checks; the routes' own checks then say the finer rules (which code exists, which month has data).
AREA_CODE = r"^(\d{6}|\d{9}|\d{12}|\d{15}|\d{18})$"  # district … micro-grid
# GB/T 30428.2: district + class + subclass + a serial from 000001
ASSET_ID = r"^\d{10}([1-9]\d{5}|0[1-9]\d{4}|00[1-9]\d{3}|000[1-9]\d{2}|0000[1-9]\d|00000[1-9])$"
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
CRS_HELP = f"CRS of the coordinates: {', '.join(ACCEPTED)}."
TEXT = r"^[^\x00]*$"  # no NUL: PostgreSQL text cannot hold it
NUMBER = r"-?\d+(\.\d+)?([eE][-+]?\d+)?"
BBOX = rf"^{NUMBER}(,{NUMBER}){{3}}(,{NUMBER},{NUMBER})?$"


def one_of(values: Iterable[str]) -> str:
    """The pattern of exactly one of ``values``, plain names (sorted, so the document is stable).

    >>> one_of(["b", "a"])
    '^(a|b)$'
    """
    return "^(" + "|".join(sorted(values)) + ")$"


# in any case, as parse_crs reads them
CRS = one_of({form for name in (*ACCEPTED, *ALIASES) for form in (name, name.lower(), name.upper())})
BBox = tuple[float, float, float, float]


def parse_bbox(
    bbox: str | None = Query(None, pattern=BBOX, description="minLon,minLat,maxLon,maxLat (WGS84)"),
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
_STATUS = "|".join(STATUSES)
STATUS_LIST = rf"^({_STATUS})(,({_STATUS}))*$"
PageDep = Annotated[Page, Depends(page)]

AssetIdPath = Annotated[str, Path(pattern=ASSET_ID, description="A 16-digit component ID.")]
GridCodePath = Annotated[str, Path(pattern=r"^\d{15}$", description="A grid's code (15 digits).")]
CaseIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="A case's id.")]


def case_filters(
    bbox: BBoxDep,
    status: str | None = Query(None, pattern=STATUS_LIST, description="Comma-separated states."),
    category: str | None = Query(
        None, pattern=r"^[EC]\d{4}(,[EC]\d{4})*$", description="Comma-separated category codes."
    ),
    area: str | None = Query(None, pattern=AREA_CODE, description="An area code of any level (6–18 digits)."),
    unit: str | None = Query(None, max_length=20, description="The handling unit (department or area code)."),
    source: str | None = Query(None, pattern=one_of(SOURCES)),
    asset_id: str | None = Query(None, pattern=ASSET_ID),
    handler: str | None = Query(None, max_length=64, description="Who handles it (staff only)."),
    since: datetime | None = Query(None),
    until: datetime | None = Query(None),
    overdue: bool | None = Query(None),
    level: Literal["red", "amber", "due", "suspended"] | None = Query(
        None, description="red: past the deadline; amber: warned, not yet due; due: either; suspended (挂账)."
    ),
    q: str | None = Query(
        None, min_length=1, max_length=100, pattern=TEXT, description="Text in number, description, address."
    ),
) -> Filters:
    """The filters of a list of cases, shared by the list, its counts, its clusters and its exports."""
    return Filters(
        status=status.split(",") if status else None,
        category=category.split(",") if category else None,
        area=area, unit=unit, source=source, asset_id=asset_id, handler=handler, since=since,
        until=until, bbox=bbox, overdue=overdue, level=level, q=q.strip() or None if q else None,
    )  # fmt: skip


CaseFiltersDep = Annotated[Filters, Depends(case_filters)]

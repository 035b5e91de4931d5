"""``/api/analytics``: hotspots (Gi* + FDR), repeat locations, trends, coverage, patrol load.

Definitions and parameters are in docs/analytics.md. Each answer says what it counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

from api.deps import READERS, ActorDep, charge, get_settings, get_state, run_heavy_stale, run_stale_read
from api.params import AREA_CODE, MONTH, one_of
from api.printing import html_to_pdf
from api.schemas import analytics as analytics_schema
from geo import coverage, hexes
from geo.crs import snap
from geo.errors import Busy, InvalidInput, Unauthorized
from layers.accounts.actors import PUBLIC
from layers.analytics import aggregates, report
from layers.analytics import coverage as coverage_of
from layers.analytics import months as months_of
from layers.assets.kinds import KINDS
from layers.io.tables import csv_bytes, xlsx_bytes

router = APIRouter(prefix="/api/analytics", tags=["analytics"], dependencies=READERS)
HOTSPOT_COST = {10: 2, 11: 10, 12: 30}  # extra requests of budget: fine cells are seconds of Gi*
PUBLIC_MAX_RES = 10  # cells of ~75 m: no finer than the public's snapped case locations
LAYERS = {"parking": "parking", "manhole_covers": "manhole_cover", "cameras": "camera"}


def _categories(raw: str | None) -> list[str]:
    return [c.strip() for c in (raw or "").split(",") if c.strip()]


def _window(
    conn: Connection,
    category: str | None,
    since: date | None,
    until: date | None,
    area: str | None,
    days: int,
) -> aggregates.Window:
    """[since, until] as Beijing days (until inclusive), default the ``days`` days up to today."""
    start, end = months_of.day_window(since, until, days)
    categories = aggregates.check_categories(conn, _categories(category))
    return aggregates.Window(start, end, categories, aggregates.check_area(conn, area))


@router.get(
    "/hotspots",
    summary="Getis-Ord Gi* hotspots of cases on H3 cells, FDR-corrected",
    response_model=analytics_schema.Hotspots,
    response_model_exclude_unset=True,
)
async def hotspots_(
    request: Request,
    actor: ActorDep,
    category: str | None = Query(None, description="Category code(s), comma-separated; default all."),
    since: date | None = Query(None, description="First day (Beijing); default 90 days before until."),
    until: date | None = Query(None, description="Last day (Beijing), inclusive; default today."),
    res: int = Query(
        9, ge=5, le=12, description=f"H3 resolution, 5–12 (the public: up to {PUBLIC_MAX_RES})."
    ),
    k: int = Query(1, ge=1, le=3, description="Neighbourhood: rings of cells around each cell."),
    alpha: float = Query(0.05, gt=0, lt=0.5, description="False discovery rate."),
    area: str | None = Query(None, pattern=AREA_CODE, description="Restrict to an area code."),
) -> dict[str, Any]:
    hexes.check_res(res)
    if actor is PUBLIC and res > PUBLIC_MAX_RES:  # a ~25 m cell of one case would pin that case
        raise Unauthorized(
            f"res {res}: the public sees cells up to res {PUBLIC_MAX_RES}; sign in", field="res"
        )

    def work(conn: Connection) -> dict[str, Any]:
        window = _window(conn, category, since, until, area, 90)
        return aggregates.hotspot_cells(get_state(request).hex_weights, conn, window, area, res, k, alpha)

    charge(request, HOTSPOT_COST.get(res, 0), f"hotspots at res {res}")
    return await run_heavy_stale(request, work)


@router.get(
    "/repeats",
    summary="Repeat locations: same-category cases within a radius over a period",
    response_model=analytics_schema.Repeats,
    response_model_exclude_unset=True,
)
async def repeats(
    request: Request,
    actor: ActorDep,
    category: str | None = Query(None, description="Category code(s), comma-separated; default all."),
    until: date | None = Query(None, description="Last day (Beijing), inclusive; default today."),
    days: int = Query(30, ge=1, le=366, description="The period: this many days up to until."),
    radius_m: float = Query(
        30.0, gt=0, le=500, description="Cases within this many metres of each other (0–500]."
    ),
    min_cases: int = Query(2, ge=2, le=100, description="Cases that make a repeat location."),
) -> dict[str, Any]:
    snap_m = get_settings(request).public_snap_m if actor is PUBLIC else 0.0

    def work(conn: Connection) -> dict[str, Any]:
        window = _window(conn, category, None, until, None, days)
        found = aggregates.repeats(conn, window, radius_m, min_cases)
        return {"window": window, "clusters": found}

    answer = await run_stale_read(request, work)
    clusters = answer["clusters"]
    if clusters:
        lon, lat = snap([c["lon"] for c in clusters], [c["lat"] for c in clusters], snap_m)
        for c, x, y in zip(clusters, lon.tolist(), lat.tolist(), strict=True):
            c["lon"], c["lat"] = round(x, 6), round(y, 6)
    window = answer["window"]
    return {
        "since": window.start.date().isoformat(),
        "until": (window.end.date() - timedelta(days=1)).isoformat(),
        "radius_m": radius_m,
        "min_cases": min_cases,
        "clusters": clusters,
    }


@router.get(
    "/trends",
    summary="Counts this month, the month before and a year before; risers and fallers",
    response_model=analytics_schema.Trends,
    response_model_exclude_unset=True,
)
async def trends(
    request: Request,
    by: Literal["category", "street", "community", "grid"] = Query("category", description="How to group."),
    month: str | None = Query(
        None, pattern=MONTH, description="YYYY-MM (Beijing); default the last complete month that has cases."
    ),
    category: str | None = Query(None, description="Category code(s), comma-separated; default all."),
    area: str | None = Query(None, pattern=AREA_CODE, description="Restrict to an area code."),
    top: int = Query(5, ge=1, le=50, description="How many risers and fallers."),
) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        nonlocal month
        listed = aggregates.months_with_data(conn)
        if month is None:
            month = aggregates.default_month(listed)
        else:
            aggregates.check_month(listed, month)
        categories = aggregates.check_categories(conn, _categories(category))
        answer = aggregates.trends(conn, by, month, categories, aggregates.check_area(conn, area))
        keys = [r[by] for r in answer["results"] if r[by]]
        names = (
            aggregates.category_names(conn, keys) if by == "category" else aggregates.area_names(conn, keys)
        )
        for r in answer["results"]:
            r["name"] = names.get(r[by])
        if by == "category":
            first = date.fromisoformat(month + "-01")
            answer["seasonal_profile"] = aggregates.seasonal_profile(conn, categories, first)
        return answer

    answer = await run_stale_read(request, work)
    moving = [r for r in answer["results"] if r["change"]]
    answer["risers"] = sorted((r for r in moving if r["change"] > 0), key=lambda r: -r["change"])[:top]
    answer["fallers"] = sorted((r for r in moving if r["change"] < 0), key=lambda r: r["change"])[:top]
    return answer


@router.get(
    "/months",
    summary="The months that have cases (for a month picker) and the one comparisons show by default",
    response_model=analytics_schema.Months,
)
async def months_with_cases(request: Request) -> dict[str, Any]:
    listed = await run_stale_read(request, aggregates.months_with_data)
    return {"months": listed, "default": aggregates.default_month(listed) if listed else None}


@dataclass(frozen=True)
class CoverageOf:
    """Which assets count as covering: a layer's (EV car parks only, of a status) within a radius."""

    layer: str
    kind: str
    radius_m: float
    ev: bool
    status: str | None


async def coverage_of_(
    layer: str = Query(
        "parking",
        pattern=one_of({*LAYERS, *KINDS}),
        description="parking, manhole_covers, cameras or an asset kind.",
    ),
    radius_m: float = Query(
        500.0, gt=0, le=coverage.MAX_RADIUS_M, description="Straight-line radius in metres, (0, 20000]."
    ),
    ev: bool = Query(False, description="Only car parks with EV-charging spaces."),
    status: str | None = Query(
        None, max_length=32, description="Only assets of this status; car parks default to operating, `any`."
    ),
) -> CoverageOf:
    kind = LAYERS.get(layer, layer)  # the pattern lets only the layers and the asset kinds through
    if ev and kind != "parking":
        raise InvalidInput("ev applies to the parking layer only", field="ev")
    wanted = (
        status
        if status not in (None, "any")
        else ("operating" if kind == "parking" and status is None else None)
    )
    return CoverageOf(layer, kind, radius_m, ev, wanted)


CoverageOfDep = Annotated[CoverageOf, Depends(coverage_of_)]


@router.get(
    "/coverage",
    summary="Share of micro-grids and households within a straight-line radius of a layer's assets",
    responses={200: {"content": {"text/csv": {}}}},
    response_model=analytics_schema.Coverage,
    response_model_exclude_unset=True,
)
async def coverage_(
    request: Request,
    of: CoverageOfDep,
    by: Literal["district", "street", "community", "grid"] = Query("community", description="How to group."),
    f: str = Query("json", pattern="^(json|csv)$", description="json, or csv (the table of areas)."),
) -> Any:
    def work(conn: Connection) -> dict[str, Any]:
        return coverage_of.area_coverage(conn, of.kind, of.status, of.ev, of.radius_m, by)

    answer = await run_stale_read(request, work)
    answer.update({"layer": of.layer, "radius_m": of.radius_m, "by": by, "ev": of.ev, "status": of.status})
    if f == "csv":
        columns = [by, "name", "micro_grids", "covered", "share"]
        columns += ["households", "households_covered", "households_share"]
        body = csv_bytes(columns, answer["groups"])
        return _download(body, CSV, f"coverage-{of.layer}-{of.radius_m:g}m-{by}.csv")
    return answer


CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/coverage/uncovered",
    summary="The micro-grids beyond the radius of every qualifying asset: GeoJSON, CSV or XLSX",
    responses={200: {"content": {"application/geo+json": {}, "text/csv": {}, XLSX: {}}}},
    response_model=analytics_schema.UncoveredCollection,
)
async def uncovered_(
    request: Request,
    of: CoverageOfDep,
    f: str = Query("geojson", pattern="^(geojson|csv|xlsx)$", description="geojson, csv or xlsx."),
) -> Any:
    """Each micro-grid farther than ``radius_m`` from every qualifying asset, with its code, name,
    street, community, households and the distance to and ID of the nearest qualifying asset."""
    rows = await run_stale_read(request, coverage_of.uncovered, of.kind, of.status, of.ev, of.radius_m)
    name = f"uncovered-{of.layer}{'-ev' if of.ev else ''}-{of.radius_m:g}m"
    columns, headers = coverage_of.UNCOVERED_COLUMNS, coverage_of.UNCOVERED_HEADERS
    if f == "csv":
        return _download(csv_bytes(columns, rows), CSV, f"{name}.csv")
    if f == "xlsx":
        body = await run_in_threadpool(xlsx_bytes, columns, rows, sheet="uncovered", headers=headers)
        return _download(body, XLSX, f"{name}.xlsx")
    collection = coverage_of.feature_collection(rows)
    return _download(
        json.dumps(collection, ensure_ascii=False).encode(), "application/geo+json", f"{name}.geojson"
    )


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get(
    "/inspections",
    summary="Share of each area's manhole covers inspected in the last N days",
    response_model=analytics_schema.InspectionCoverage,
    response_model_exclude_unset=True,
)
async def inspection_coverage(
    request: Request,
    days: int = Query(30, ge=1, le=3650),
    by: Literal["street", "community", "grid", "micro_grid"] = Query("grid", description="How to group."),
) -> dict[str, Any]:
    rows = await run_stale_read(request, aggregates.inspection_coverage, days, by)
    covers = sum(r["covers"] for r in rows)
    inspected = sum(r["inspected"] for r in rows)
    return {
        "days": days,
        "by": by,
        "covers": covers,
        "inspected": inspected,
        "share": round(inspected / covers, 6) if covers else None,
        "results": rows,
    }


@router.get(
    "/patrol",
    summary="Patrol time per micro-grid (the 3-hour rule) and the micro-grids over it",
    response_model=analytics_schema.Patrol,
    response_model_exclude_unset=True,
)
async def patrol(
    request: Request,
    walk_kmh: float = Query(4.0, gt=0.5, le=10, description="Walking speed along the streets."),
    minutes_per_household: float = Query(3.0, ge=0, le=30, description="Minutes at each household (入户)."),
    limit_hours: float = Query(3.0, gt=0, le=24, description="The rule: a round within this many hours."),
) -> dict[str, Any]:
    rows = await run_stale_read(request, aggregates.micro_grids)
    over = []
    for r in rows:
        minutes = r["perimeter_m"] / (walk_kmh * 1000 / 60) + r["households"] * minutes_per_household
        if minutes > limit_hours * 60:
            shown = {k: r[k] for k in ("code", "name", "households")}
            over.append({**shown, "perimeter_m": round(r["perimeter_m"], 1), "minutes": round(minutes, 1)})
    over.sort(key=lambda r: -r["minutes"])
    return {
        "walk_kmh": walk_kmh,
        "minutes_per_household": minutes_per_household,
        "limit_hours": limit_hours,
        "micro_grids": len(rows),
        "over_limit": len(over),
        "results": over,
    }


reports = APIRouter(prefix="/api/reports", tags=["analytics"], dependencies=READERS)


@reports.get(
    "/{month}",
    summary="The monthly analysis report (HTML, or PDF with f=pdf)",
    response_class=HTMLResponse,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def monthly_report(
    request: Request,
    month: str = Path(pattern=MONTH, description="YYYY-MM (Beijing)."),
    area: str | None = Query(None, pattern=AREA_CODE, description="Restrict to an area code."),
    f: str = Query("html", pattern="^(html|pdf)$"),
) -> Response:
    state = get_state(request)
    key = (month, area, await run_stale_read(request, report.data_version))
    made = state.reports.get(key)
    if made is None:  # the same month on the same data is the same report: made once
        made = {"html": report.render_html(await run_stale_read(request, report.build, month, area))}
        state.reports[key] = made
    html = made["html"]
    if f == "pdf":
        if "pdf" not in made:
            if state.printing.available_tokens < 1:
                raise Busy("the server is printing another report; retry in a few seconds", 5.0)
            async with state.printing:
                made["pdf"] = await run_in_threadpool(html_to_pdf, html)
        pdf = made["pdf"]
        name = f"wangge-report-{month}{'-' + area if area else ''}.pdf"
        return Response(
            pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
        )
    return HTMLResponse(html)

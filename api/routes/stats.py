"""Case KPIs: ``GET /api/stats/kpi`` (definitions in layers/kpi.py and docs/incidents.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import Connection

from api.deps import READERS, get_settings, run_stale_read
from api.params import AREA_CODE, MONTH, one_of
from api.schemas import analytics as analytics_schema
from geo.errors import InvalidInput
from layers.analytics import aggregates, kpi
from layers.analytics import months as months_of
from layers.cases import worktime

router = APIRouter(prefix="/api/stats", tags=["statistics"], dependencies=READERS)


@router.get("/kpi", response_model=analytics_schema.Kpis, response_model_exclude_unset=True)
async def kpis(
    request: Request,
    by: str = Query("street", pattern=one_of(kpi.GROUPS), description=", ".join(kpi.GROUPS)),
    month: str | None = Query(
        None, pattern=MONTH, description="YYYY-MM (Beijing); default the current month."
    ),
    months: int = Query(1, ge=1, le=60, description="How many months, ending with `month`."),
    category: str | None = Query(None, max_length=5),
    area: str | None = Query(None, pattern=AREA_CODE, description="Only the cases located in this area."),
) -> dict[str, Any]:
    """Response, resolution, on-time, satisfaction and rework rates and the median time to close."""
    today = datetime.now(worktime.BEIJING).date()
    month = month or f"{today:%Y-%m}"
    first, end = months_of.month_range(month)
    if first > today:
        raise InvalidInput(f"month {month} is in the future", field="month")
    start = months_of.shift(first, 1 - months)
    hours = get_settings(request).response_hours

    def work(conn: Connection) -> list[dict[str, Any]]:
        where = aggregates.check_area(conn, area)
        rows = kpi.kpis(conn, by, start, end, category=category, area=where, response_hours=hours)
        names = kpi.names(conn, by, [r[by] for r in rows if r[by]])
        return [{**r, "name": names.get(r[by])} if names else r for r in rows]

    rows = await run_stale_read(request, work)
    return {
        "by": by,
        "from": start.isoformat(),
        "until": end.isoformat(),
        "category": category,
        "results": rows,
    }

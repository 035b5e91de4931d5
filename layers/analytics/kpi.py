"""Case KPIs by street, community, grid, department, category, source or month, in one SQL pass.

The cases counted are those received in the period, merged duplicates excepted (their
reporters live on in the case they were merged into). Definitions (docs/incidents.md):

- ``received``: cases received in the period;
- ``response_rate``: share of them responded to (registered, dispatched or rejected
  with a reason) within ``response_hours`` of receipt;
- ``due``: cases that are closed, or accepted (not rejected, 不予立案) with their deadline
  passed — what was due to close;
- ``resolution_rate`` (结案率): closed / due; ``on_time_rate`` (按期结案率): closed by
  the deadline / due;
- ``satisfaction_rate``: satisfied / evaluated (cases with an evaluation);
- ``rework_rate`` (返工率): cases sent back at least once / cases handled (reached verifying);
- ``median_hours_to_close``: median of closed_at − received_at over closed cases.

Rates are null where their denominator is 0, never 0 or 100 by convention.

SQL: the KPI query stays written out: one pass of FILTERed counts and a percentile per
group, planner-sensitive and clearer as SQL than as nested Core.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.dialects.postgresql import distinct_on

from geo.errors import InvalidInput
from layers.db.models import AREAS, CATEGORIES, DEPARTMENTS

GROUPS = {
    "district": "left(i.street, 6)",
    "street": "i.street",
    "community": "i.community",
    "grid": "i.grid",
    "department": "i.unit",
    "category": "i.category",
    "source": "i.source",
    "month": "to_char(i.received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')",
}

_KPI = """
WITH steps AS (  -- the histories of the months' cases: those months' partitions, read once
  SELECT e.incident_id,
         bool_or(e.to_status = 'rework' OR e.action = 'reopen') AS reworked,
         bool_or(e.to_status = 'verifying') AS handled
  FROM incident_events e
  WHERE e.case_received_at >= CAST(:start AS timestamp) AT TIME ZONE 'Asia/Shanghai'
    AND e.case_received_at < CAST(:end AS timestamp) AT TIME ZONE 'Asia/Shanghai'
  GROUP BY e.incident_id
), cases AS (
  SELECT {key} AS key, i.*, coalesce(s.reworked, false) AS reworked, coalesce(s.handled, false) AS handled
  FROM incidents i LEFT JOIN steps s ON s.incident_id = i.id
  WHERE i.status <> 'duplicate'
    AND i.received_at >= CAST(:start AS timestamp) AT TIME ZONE 'Asia/Shanghai'
    AND i.received_at < CAST(:end AS timestamp) AT TIME ZONE 'Asia/Shanghai'
    AND (CAST(:category AS text) IS NULL OR i.category = :category)
    AND (CAST(:area AS text) IS NULL OR starts_with(i.micro_grid, :area))
)
SELECT key,
  count(*) AS received,
  count(*) FILTER (WHERE responded_at <= received_at + make_interval(secs => :response_hours * 3600))
    AS responded,
  count(*) FILTER (WHERE status = 'closed' OR (status <> 'rejected' AND deadline < now())) AS due,
  count(*) FILTER (WHERE status = 'closed') AS closed,
  count(*) FILTER (WHERE status = 'closed' AND closed_at <= deadline) AS closed_on_time,
  count(satisfied) AS evaluated,
  count(*) FILTER (WHERE satisfied) AS satisfied,
  count(*) FILTER (WHERE handled) AS handled,
  count(*) FILTER (WHERE reworked) AS reworked,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM closed_at - received_at) / 3600)
    FILTER (WHERE status = 'closed') AS median_hours_to_close
FROM cases GROUP BY key ORDER BY key NULLS LAST
"""


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def kpis(
    conn: Connection,
    by: str,
    start: date,
    end: date,
    *,
    category: str | None = None,
    area: str | None = None,
    response_hours: float = 24.0,
) -> list[dict[str, Any]]:
    """KPI rows per group for cases received in [start, end) (Beijing dates), of the cases
    located in ``area`` if given (a district, street … code)."""
    if by not in GROUPS:
        raise InvalidInput(f"by {by!r}: one of {', '.join(GROUPS)}", field="by")
    rows = conn.execute(
        text(_KPI.format(key=GROUPS[by])),
        {"start": start, "end": end, "category": category, "area": area, "response_hours": response_hours},
    ).mappings()
    out = []
    for r in rows:
        out.append(
            {
                by: r["key"],
                "received": r["received"],
                "due": r["due"],
                "closed": r["closed"],
                "response_rate": _rate(r["responded"], r["received"]),
                "resolution_rate": _rate(r["closed"], r["due"]),
                "on_time_rate": _rate(r["closed_on_time"], r["due"]),
                "satisfaction_rate": _rate(r["satisfied"], r["evaluated"]),
                "rework_rate": _rate(r["reworked"], r["handled"]),
                "median_hours_to_close": (
                    round(float(r["median_hours_to_close"]), 2)
                    if r["median_hours_to_close"] is not None
                    else None
                ),
            }
        )
    return out


def names(conn: Connection, by: str, keys: list[str]) -> dict[str, str]:
    """Display names of the keys of a KPI table grouped ``by`` (categories, units, areas)."""
    if by == "category":
        query = select(CATEGORIES.c.code, CATEGORIES.c.name).where(CATEGORIES.c.code.in_(keys))
        return {code: name for code, name in conn.execute(query)}
    newest_area = (  # an area's newest name (codes keep their meaning across generations)
        select(AREAS.c.code, AREAS.c.name)
        .where(AREAS.c.code.in_(keys))
        .ext(distinct_on(AREAS.c.code))
        .order_by(AREAS.c.code, AREAS.c.generation.desc())
    )
    if by == "department":
        units = select(DEPARTMENTS.c.code, DEPARTMENTS.c.name).where(DEPARTMENTS.c.code.in_(keys))
        return {code: name for code, name in conn.execute(newest_area)} | {
            code: name for code, name in conn.execute(units)
        }
    if by in ("district", "street", "community", "grid"):
        return {code: name for code, name in conn.execute(newest_area)}
    return {}

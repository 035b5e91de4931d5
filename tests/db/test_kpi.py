"""KPI definitions on a hand-computed fixture, and the KPI API."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from layers.analytics import kpi

T0 = "2025-03-10 10:00+08"


def _case(conn: Connection, n: int, *, status: str, responded_h: float | None, deadline_h: float,
          closed_h: float | None = None, satisfied: bool | None = None, steps: tuple[str, ...] = (),
          merged_into: int | None = None) -> int:  # fmt: skip
    def at(h: float | None) -> str | None:
        return None if h is None else f"'{T0}'::timestamptz + interval '{h} hours'"

    case_id = conn.execute(
        text(
            "INSERT INTO incidents (number, source, category, located_by, unit, routed_by, status, "
            "received_at, responded_at, warn_at, deadline, escalate_at, closed_at, satisfied, merged_into) "
            "VALUES "
            f"(:n, 'hotline', 'E0901', 'none', '370203', 'fallback', :s, '{T0}', "
            f"{at(responded_h) or 'NULL'}, '{T0}', {at(deadline_h)}, {at(deadline_h * 2)}, "
            f"{at(closed_h) or 'NULL'}, :sat, :m) RETURNING id"
        ),
        {"n": f"KPI{n}", "s": status, "sat": satisfied, "m": merged_into},
    ).scalar_one()
    for step in steps:
        conn.execute(
            text(
                "INSERT INTO incident_events (incident_id, actor, role, action, to_status, case_received_at) "
                f"VALUES (:i, 't', 'field', 'transition', :s, '{T0}')"
            ),
            {"i": case_id, "s": step},
        )
    return case_id


def test_kpi_definitions_on_a_hand_computed_fixture(conn: Connection, demo: int) -> None:
    conn.execute(
        text(
            "INSERT INTO categories (code, name, name_en, kind, first, deadline_hours, working_time, source) "
            "VALUES ('E0901', '测试', 'test', 'event', 'territory', 48, false, 'test')"
        )
    )
    first = _case(conn, 1, status="closed", responded_h=1, deadline_h=48, closed_h=24, satisfied=True,
                  steps=("verifying",))  # fmt: skip
    _case(conn, 2, status="closed", responded_h=30, deadline_h=48, closed_h=72, satisfied=False,
          steps=("verifying", "rework", "verifying"))  # fmt: skip
    _case(conn, 3, status="dispatched", responded_h=2, deadline_h=48)  # overdue: due, not closed
    _case(conn, 4, status="in_progress", responded_h=None, deadline_h=24 * 365 * 10)  # not due yet
    _case(conn, 5, status="duplicate", responded_h=1, deadline_h=48, merged_into=first)  # not counted
    (row,) = kpi.kpis(conn, "category", date(2025, 3, 1), date(2025, 4, 1), category="E0901")
    assert row == {
        "category": "E0901",
        "received": 4,
        "due": 3,
        "closed": 2,
        "response_rate": 0.5,  # cases 1 and 3 within 24 h
        "resolution_rate": pytest.approx(2 / 3, abs=1e-6),
        "on_time_rate": pytest.approx(1 / 3, abs=1e-6),
        "satisfaction_rate": 0.5,
        "rework_rate": 0.5,  # case 2 of the two handled
        "median_hours_to_close": 48.0,  # 24 h and 72 h
    }
    assert kpi.kpis(conn, "category", date(2025, 4, 1), date(2025, 5, 1), category="E0901") == []


def test_kpi_api(client: TestClient) -> None:
    got = client.get("/api/stats/kpi", params={"by": "street"})
    assert got.status_code == 200
    body = got.json()
    assert body["by"] == "street" and all("response_rate" in r for r in body["results"])
    assert all(r["name"] for r in body["results"] if r["street"])
    assert client.get("/api/stats/kpi", params={"by": "planet"}).json()["error"]["field"] == "by"
    assert client.get("/api/stats/kpi", params={"month": "2999-01"}).json()["error"]["field"] == "month"
    assert client.get("/api/stats/kpi", params={"month": "March"}).json()["error"]["field"] == "month"
    year = client.get("/api/stats/kpi", params={"by": "month", "months": 12}).json()
    assert year["from"] < year["until"]

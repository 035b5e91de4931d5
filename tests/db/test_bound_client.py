"""HTTP tests bound to a rolled-back transaction leave nothing behind."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

REPORT = {"source": "wechat", "category": "E0501", "description": "bound", "lon": 120.37, "lat": 36.09}


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text("SELECT count(*) FROM incidents WHERE description = 'bound'")).scalar_one()
        )


def test_a_case_filed_through_a_bound_client_is_gone_afterwards(
    bound_client: TestClient, engine: Engine
) -> None:
    filed = bound_client.post("/api/incidents", json=REPORT)
    assert filed.status_code == 201, filed.text
    assert bound_client.get(f"/api/incidents/{filed.json()['id']}").status_code == 200  # seen inside
    assert _count(engine) == 0  # not committed: other connections never see it


def test_and_the_next_test_starts_clean(bound_client: TestClient, engine: Engine) -> None:
    listed = bound_client.get("/api/incidents", params={"limit": 1000, "sort": "-received_at"}).json()
    assert all(c["description"] != "bound" for c in listed["incidents"])
    assert _count(engine) == 0

"""Roles and personal data per endpoint, coarsened public locations, the audit log, closed reads."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.settings import Settings
from geo.crs import to_wgs84
from tests.conftest import PASSWORD

COVER = "3702030102000123"
FIELD1_COVER = "3702030101000819"  # a cover of 即墨路街道, field1's unit
EXACT = (120.36512345, 36.08723456)

# (method, path, body) → the lowest set of roles that may do it; everyone else gets 401 (public) or 403
WRITES = [
    ("post", "/api/incidents/{case}/transitions", {"to": "registered"}, {"admin", "dispatcher"}),
    ("post", "/api/incidents/{case}/transfer", {"unit": "D02"}, {"admin", "dispatcher"}),
    ("post", "/api/incidents/{case}/evaluation", {"satisfied": True}, {"admin", "dispatcher"}),
    ("patch", "/api/categories/E0404", {"deadline_hours": 24}, {"admin"}),
    (
        "post",
        f"/api/assets/{FIELD1_COVER}/inspections",  # field staff inspect their own street's assets
        {"inspector": "x", "result": "ok"},
        {"admin", "dispatcher", "field"},
    ),
    ("get", "/api/audit", None, {"admin"}),
]
ROLES = {"admin1": "admin", "disp1": "dispatcher", "field1": "field", "viewer1": "viewer", None: "public"}


@pytest.mark.parametrize(("method", "path", "body", "allowed"), WRITES)
def test_who_may_do_what(
    client: TestClient, accounts: dict[str, Any], method: str, path: str, body: Any, allowed: set[str]
) -> None:
    report = {"source": "wechat", "category": "E0501", "lon": 120.36, "lat": 36.09}
    for user, role in ROLES.items():  # a fresh case each time: the first allowed change moves it on
        url = path.format(case=client.post("/api/incidents", json=report).json()["id"])
        headers = accounts[user] if user else {}
        got = (
            getattr(client, method)(url, json=body, headers=headers)
            if body
            else client.get(url, headers=headers)
        )
        if role in allowed:
            assert got.status_code not in (401, 403), (role, url, got.text)
        else:
            assert got.status_code == (401 if role == "public" else 403), (role, url, got.status_code)


def test_public_locations_are_coarsened_staff_see_them_exactly(
    client: TestClient, accounts: dict[str, Any]
) -> None:
    case = client.post(
        "/api/incidents", json={"source": "wechat", "category": "E0201", "lon": EXACT[0], "lat": EXACT[1]}
    )
    cid = case.json()["id"]
    public = client.get(f"/api/incidents/{cid}").json()["point"]["coordinates"]
    staff = client.get(f"/api/incidents/{cid}", headers=accounts["viewer1"]).json()["point"]["coordinates"]
    assert staff == pytest.approx(list(EXACT), abs=1e-7)
    assert public != pytest.approx(list(EXACT), abs=1e-6)
    dx, dy = (public[0] - EXACT[0]) * 90_000, (public[1] - EXACT[1]) * 111_000
    assert (dx * dx + dy * dy) ** 0.5 <= 36  # within half a 50 m cell's diagonal
    listed = client.get("/api/incidents", params={"category": "E0201", "limit": 1000}).json()["incidents"]
    assert next(i for i in listed if i["id"] == cid)["point"]["coordinates"] == public


def test_grid_worker_phone_only_for_dispatchers_and_audited(
    client: TestClient, accounts: dict[str, Any], engine: Engine
) -> None:
    grid = client.get(f"/api/assets/{COVER}").json()["properties"]["micro_grid"][:15]
    for who in (None, "viewer1", "field1"):
        body = client.get(f"/api/areas/{grid}", headers=accounts[who] if who else {}).json()
        assert "phone" not in body["grid_worker"]
    shown = client.get(f"/api/areas/{grid}", headers=accounts["disp1"]).json()["grid_worker"]
    assert shown["phone"].startswith("1") and len(shown["phone"]) == 11
    entries = client.get(
        "/api/audit", params={"user": "disp1", "action": "personal.read"}, headers=accounts["admin1"]
    )
    assert any(e["target"] == f"area:{grid}" for e in entries.json()["entries"])


def test_the_audit_log_records_sign_ins_changes_and_reads(
    client: TestClient, accounts: dict[str, Any]
) -> None:
    reporter = {"name": "赵先生", "phone": "13700001111", "consent": True}
    body = {"source": "hotline", "category": "E0505", "lon": 120.37, "lat": 36.09, "reporter": reporter}
    case = client.post("/api/incidents", json=body).json()
    client.post(
        f"/api/incidents/{case['id']}/transitions", json={"to": "registered"}, headers=accounts["disp1"]
    )
    client.get(f"/api/incidents/{case['id']}", headers=accounts["disp1"])
    client.post("/api/token", data={"username": "disp1", "password": "not it at all"})
    client.post("/api/token", data={"username": "viewer1", "password": PASSWORD})
    entries = client.get("/api/audit", params={"limit": 200}, headers=accounts["admin1"]).json()["entries"]
    seen = {(e["actor"], e["action"], e["target"]) for e in entries}
    target = f"incident:{case['id']}"
    assert ("public", "incident.create", target) in seen
    assert ("disp1", "incident.transition", target) in seen
    assert ("disp1", "personal.read", target) in seen
    assert ("public", "auth.failed", "user:disp1") in seen
    assert ("viewer1", "auth.sign_in", "user:viewer1") in seen
    with pytest.raises(Exception, match="append-only"), client.app.state.worker.db.transaction() as conn:
        conn.execute(text("DELETE FROM audit_log"))


def test_closed_reads_need_a_sign_in(test_settings: Settings, accounts: dict[str, Any], demo: int) -> None:
    closed = test_settings.model_copy(update={"public_reads": False})
    with TestClient(create_app(closed)) as app:
        for path in ("/api/locate?lon=120.37&lat=36.09", "/collections/grids/items?limit=1", "/api/incidents",
                     "/api/stats/kpi", "/open311/v2/services.json", f"/api/assets/{COVER}"):  # fmt: skip
            assert app.get(path).status_code == 401, path
            assert app.get(path, headers=accounts["viewer1"]).status_code == 200, path
        assert app.get("/healthz").status_code == 200
        x, y = (float(v) for v in to_wgs84(120.37, 36.09))
        assert (
            app.post(
                "/api/incidents", json={"source": "wechat", "category": "E0501", "lon": x, "lat": y}
            ).status_code
            == 201
        )

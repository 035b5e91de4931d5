"""Inspections and the reference campaign."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from layers.reference.campaign import COMPOUNDS, DEFECTIVE, ROAD_SEGMENTS


def test_reference_campaign_has_the_real_campaigns_shape(client: TestClient) -> None:
    (campaign,) = client.get("/api/campaigns").json()["results"]
    assert campaign["defective_assets"] == DEFECTIVE == 162
    assert campaign["road_segments"] == ROAD_SEGMENTS >= 1100 and campaign["compounds"] == COMPOUNDS
    assert (campaign["starts"], campaign["ends"]) == ("2024-04-08", "2024-04-21")  # two weeks
    assert campaign["assets_inspected"] > 10_000
    assert sum(d["assets"] for d in campaign["defects_by_type"].values()) == 162
    assert "生成" in campaign["name"]


def test_cover_states_follow_the_campaign(conn: Connection, demo: int) -> None:
    not_normal = conn.execute(  # covers other tests inspected (and committed) are left out
        text(
            "SELECT count(*) FROM assets a WHERE kind = 'manhole_cover' "
            "AND attributes->>'status' <> 'normal' "
            "AND NOT EXISTS (SELECT 1 FROM inspections i WHERE i.asset_id = a.id AND i.campaign_id IS NULL)"
        )
    ).scalar()
    assert not_normal == 162
    missing = conn.execute(
        text(
            "SELECT count(*) FROM assets a JOIN inspections i ON i.asset_id = a.id AND i.defect = 'missing' "
            "WHERE a.attributes->>'status' = 'missing'"
        )
    ).scalar()
    assert missing == conn.execute(text("SELECT count(*) FROM inspections WHERE defect = 'missing'")).scalar()


def test_recording_an_inspection_updates_the_asset(
    bound_client: TestClient, conn: Connection, accounts: dict[str, Any]
) -> None:
    field = accounts["field1"]
    asset_id = conn.execute(
        text(  # an asset of field1's street (即墨路街道): field staff inspect their own unit's
            "SELECT i.asset_id FROM inspections i JOIN assets a ON a.id = i.asset_id "
            "WHERE i.defect IS NOT NULL AND a.micro_grid LIKE '370203020%' ORDER BY 1 LIMIT 1"
        )
    ).scalar()
    r = bound_client.post(
        f"/api/assets/{asset_id}/inspections",
        json={"inspector": "王芳", "result": "ok", "note": "已修复", "photo_url": "https://x.test/p.jpg"},
        headers=field,
    )
    assert r.status_code == 201 and r.json()["asset_id"] == asset_id
    feature = bound_client.get(f"/api/assets/{asset_id}").json()["properties"]
    assert feature["attributes"]["status"] == "normal"
    assert feature["inspections"][0]["note"] == "已修复" and len(feature["inspections"]) == 2
    again = bound_client.post(
        f"/api/assets/{asset_id}/inspections",
        json={"inspector": "王芳", "result": "defect", "defect": "missing", "open_incident": True},
        headers=field,
    )
    assert again.status_code == 201
    feature = bound_client.get(f"/api/assets/{asset_id}").json()["properties"]
    assert feature["attributes"]["status"] == "missing"
    (case,) = [i for i in feature["incidents"] if i["id"] == again.json()["incident_id"]]
    assert (case["category"], case["status"]) == ("C0100", "received")
    assert (
        bound_client.post(
            f"/api/assets/{asset_id}/inspections", json={"inspector": "x", "result": "ok"}
        ).status_code
        == 401
    )


def test_bad_inspections_name_the_problem(bound_client: TestClient, accounts: dict[str, Any]) -> None:
    asset_id = "3702030102000123"
    cases = [
        ({"inspector": "x", "result": "defect"}, "defect"),
        ({"inspector": "x", "result": "ok", "defect": "missing"}, "defect"),
        ({"inspector": "x", "result": "defect", "defect": "haunted"}, "defect"),
        ({"inspector": "", "result": "ok"}, "inspector"),
        ({"inspector": "x", "result": "ok", "photo_url": "javascript:alert(1)"}, "photo_url"),
        ({"inspector": "x", "result": "ok", "inspected_at": "2999-01-01T00:00:00Z"}, "inspected_at"),
    ]
    for body, field in cases:
        r = bound_client.post(f"/api/assets/{asset_id}/inspections", json=body, headers=accounts["field1"])
        assert r.status_code == 422 and r.json()["error"]["field"] == field, (body, r.json())
    assert (
        bound_client.post(
            "/api/assets/3702030102999999/inspections",
            json={"inspector": "x", "result": "ok"},
            headers=accounts["field1"],
        ).status_code
        == 404
    )
    assert bound_client.get("/api/campaigns/999").status_code == 404


def test_each_defective_cover_of_the_campaign_was_filed_as_a_located_case(
    client: TestClient, conn: Connection
) -> None:
    (campaign,) = client.get("/api/campaigns").json()["results"]
    assert campaign["cases_filed"] == 162
    linked = conn.execute(
        text(
            "SELECT count(DISTINCT n.asset_id), "
            "bool_and(n.category = 'C0100' AND n.micro_grid = a.micro_grid) "
            "FROM incidents n JOIN assets a ON a.id = n.asset_id "
            "JOIN inspections i ON i.asset_id = n.asset_id "
            "AND i.defect IS NOT NULL AND i.campaign_id IS NOT NULL "
            "WHERE n.received_at = i.inspected_at"
        )
    ).one()
    assert linked == (162, True)

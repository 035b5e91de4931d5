"""Incidents: intake, routing, duplicates, the workflow, privacy, accounts — over real HTTP on PostGIS."""

from __future__ import annotations

import asyncio
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from api.app import create_app
from api.db import Database
from api.filing import Filer, Report
from api.settings import Settings
from api.state import WorkerState
from layers.accounts import users
from layers.accounts.actors import PUBLIC
from layers.cases import categories, privacy, routing, worktime
from layers.cases.categories import Catalogue, Category
from layers.cases.intake import IncidentIn
from layers.cases.worktime import WorkHours
from layers.grid.index import AreaIndex
from tests.conftest import PASSWORD, rolled_back

NEAR_ENXIAN = (120.3725, 36.0935)  # WGS84, inside the district
COVER = "3702030102000123"  # a sewage cover of the reference data (API.md's example)


def _category(
    code: str, kind: str = "event", first: str = "territory", department: str | None = "D02"
) -> Category:
    return Category(code, code, code, kind, first, department, None, 4.0, False, False, "test", True)


# ---------------------------------------------------------------- routing (pure)

CATALOGUE = Catalogue(
    categories={},
    departments={"D02": "执法", "D03": "住建", "U01": "排水", "U02": "市政"},
    rules={("370203", "E0301"): "D03", ("370203021", None): "D02"},
)
CHAIN = routing.Chain("370203", "370203020", "370203020003", "370203020003007", "370203020003007004", True)


def test_events_go_to_the_territory_first_and_the_department_second() -> None:
    got = routing.route(CATALOGUE, _category("E0501"), CHAIN)
    assert (got.unit, got.second_unit, got.routed_by) == ("370203020", "D02", "territory")


def test_components_go_to_the_owner_first() -> None:
    cover = _category("C0100", kind="component", first="owner", department="U02")
    assert routing.route(CATALOGUE, cover, CHAIN, asset_owner="U01").unit == "U01"
    assert (
        routing.route(CATALOGUE, cover, CHAIN, asset_owner="无主").unit == "U02"
    )  # unknown owner → category


def test_matrix_wins_category_specific_rules_before_catch_all() -> None:
    assert routing.route(CATALOGUE, _category("E0301"), CHAIN).unit == "D03"
    in_taidong = routing.Chain("370203", "370203021", "370203021001", "370203021001001", "370203021001001001")
    assert routing.route(CATALOGUE, _category("E0301"), in_taidong).unit == "D03"  # district rule for E0301
    got = routing.route(CATALOGUE, _category("E0102"), in_taidong)
    assert (got.unit, got.routed_by) == ("D02", "matrix")


def test_nobody_owns_it_then_the_territory_does() -> None:
    orphan = _category("E0999", department=None, first="owner")
    assert routing.route(CATALOGUE, orphan, CHAIN).unit == CHAIN.grid
    no_worker = routing.Chain("370203", "370203020", "370203020003", "370203020003007", "370203020003007004")
    assert routing.route(CATALOGUE, orphan, no_worker).unit == "370203020003"
    outside = routing.Chain("370203")
    assert routing.route(CATALOGUE, orphan, outside).unit == "370203"
    vending = routing.route(CATALOGUE, _category("E0501"), outside)  # no territory: the district's
    assert (vending.unit, vending.second_unit) == ("370203", "D02")


# ---------------------------------------------------------------- working time


def test_deadlines_count_working_time_on_the_official_calendar() -> None:
    hours = worktime.WorkHours.parse("08:30-17:30")
    friday = datetime(2025, 9, 26, 17, 0, tzinfo=worktime.BEIJING)
    # Sunday 28 Sep 2025 was a swapped working day (调休) before the National Day week
    assert hours.add(friday, 1) == datetime(2025, 9, 28, 9, 0, tzinfo=worktime.BEIJING)
    assert hours.between(friday, datetime(2025, 10, 9, 9, 30, tzinfo=worktime.BEIJING)) == pytest.approx(
        0.5 + 9 + 9 + 9 + 1
    )  # Fri 17:00–17:30, Sun 28, Mon 29, Tue 30 Sep, Thu 9 Oct 08:30–09:30
    limits = worktime.clock(friday, 10, True, hours)
    assert limits.warn_at < limits.deadline < limits.escalate_at and limits.official
    late = worktime.clock(datetime(2026, 12, 30, 9, 0, tzinfo=worktime.BEIJING), 40, True, hours)
    assert not late.official  # 2027's holidays are not published: said, not guessed


# ---------------------------------------------------------------- accounts


def test_sign_in_revocation_and_api_keys(client: TestClient, engine: Engine) -> None:
    with engine.begin() as conn:
        users.add(conn, "temp1", "dispatcher", PASSWORD)
        users.add(conn, "hotline", "viewer", None)
        key = users.new_api_key(conn, "hotline", "12345 system")
    wrong = client.post("/api/token", data={"username": "temp1", "password": "not the password"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    token = client.post("/api/token", data={"username": "temp1", "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/incidents?limit=1", headers=auth).status_code == 200
    assert client.post("/api/token/revoke", headers=auth).status_code == 204
    assert client.get("/api/incidents?limit=1", headers=auth).json()["error"]["code"] == "unauthorized"
    assert client.get("/api/incidents?limit=1", headers={"X-API-Key": key}).status_code == 200
    with engine.begin() as conn:
        users.disable(conn, "hotline")
    assert client.get("/api/incidents?limit=1", headers={"X-API-Key": key}).status_code == 401
    assert (
        client.get("/api/incidents?limit=1", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    )


# ---------------------------------------------------------------- intake


def _report(**extra: Any) -> dict[str, Any]:
    return {"source": "wechat", "category": "E0501", "description": "游商占道", **extra}


def test_intake_locates_routes_numbers_and_starts_the_clock(client: TestClient) -> None:
    lon, lat = 120.3791, 36.0962  # API.md's GCJ-02 example
    got = client.post("/api/incidents", json=_report(lon=lon, lat=lat, crs="gcj02"))
    assert got.status_code == 201, got.text
    case = got.json()
    located = client.get("/api/locate", params={"lon": lon, "lat": lat, "crs": "gcj02"}).json()
    assert case["micro_grid"] == located["micro_grid"]["code"] and case["inside"]
    assert case["street"] == located["street"]["code"] and case["generation"] == located["generation"]
    # the public (this reporter too) sees the point snapped to 50 m; staff see it exactly
    assert case["point"]["coordinates"] == pytest.approx(located["point"]["coordinates"], abs=36 / 90_000)
    assert case["location_input"] == {}
    received = datetime.fromisoformat(case["received_at"])
    assert case["number"] == received.astimezone(worktime.BEIJING).strftime("%Y%m%d") + case["number"][8:]
    assert len(case["number"]) == 15 and case["status"] == "received"
    assert (case["unit"], case["routed_by"]) == (case["street"], "territory")  # 事件先属地
    assert case["unit_name"].endswith("街道办事处")
    hours = worktime.WorkHours.parse("08:30-17:30")
    assert datetime.fromisoformat(case["deadline"]) == hours.add(received, 4)  # E0501: 4 working hours
    assert case["history"][0]["action"] == "create" and case["reporters"] == []  # public sees no reporters


def test_intake_by_address_asset_and_camera(
    client: TestClient, conn: Connection, accounts: dict[str, Any]
) -> None:
    by_address = client.post("/api/incidents", json=_report(address="恩县路64号")).json()
    assert by_address["located_by"] == "address" and by_address["community"] is not None
    assert "64" not in by_address["location_note"]  # the public filer's answer shows the road, not the door
    staff = client.get(f"/api/incidents/{by_address['id']}", headers=accounts["disp1"]).json()
    assert "恩县路64号" in staff["location_note"]
    cover = client.post(
        "/api/incidents", json={"source": "grid_worker", "category": "C0100", "asset_id": COVER}
    ).json()
    assert cover["located_by"] == "asset" and cover["asset_id"] == COVER
    assert (cover["unit"], cover["routed_by"]) == ("U01", "owner")  # 部件先属主: the sewage cover's owner
    camera = conn.execute(
        text("SELECT id FROM assets WHERE kind = 'camera' AND (attributes->>'ai')::bool ORDER BY id LIMIT 1")
    ).scalar_one()
    machine = client.post(
        "/api/incidents",
        json={"source": "camera", "category": "E0507", "camera_id": camera, "machine_confidence": 0.91},
    )
    assert machine.status_code == 201 and machine.json()["located_by"] == "camera"
    refused = client.post(
        "/api/incidents", json={"source": "camera", "category": "E0501", "camera_id": camera}
    )
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "category"
    not_camera = client.post(
        "/api/incidents", json={"source": "camera", "category": "E0507", "camera_id": COVER}
    )
    assert not_camera.status_code == 400 and not_camera.json()["error"]["field"] == "camera_id"


def test_unlocated_and_outside_reports_are_kept_and_go_to_the_district(client: TestClient) -> None:
    nowhere = client.post("/api/incidents", json=_report(category="E0102"))
    assert nowhere.status_code == 201
    assert nowhere.json()["inside"] is False and nowhere.json()["unit"] == "370203"
    unknown_address = client.post("/api/incidents", json=_report(address="火星路1号")).json()
    assert unknown_address["located_by"] == "needs_location" and unknown_address["unit"] == "370203"
    assert unknown_address["location_note"].startswith("needs location")
    outside = client.post("/api/incidents", json=_report(category="E0102", lon=120.5, lat=36.3)).json()
    assert outside["inside"] is False and outside["street"] is None
    assert "outside every grid" in outside["location_note"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (_report(category="E9999"), 400, "category"),
        (_report(description="长" * 2001), 422, "description"),
        (_report(photos=[f"https://p.example/{i}.jpg" for i in range(10)]), 422, "photos"),
        (_report(lon=120.37), 422, None),
        (_report(lon=120.37, lat=36.09, address="恩县路64号"), 422, None),
        (_report(lon=200.0, lat=36.09), 400, "lon"),
        (_report(lon=120.37, lat=36.09, crs="EPSG:9999"), 400, "crs"),
        (_report(asset_id="12345"), 400, "asset_id"),
        (_report(asset_id="3702030102999999"), 400, "asset_id"),
        ({**_report(), "source": "fax"}, 422, "source"),
    ],
)
def test_bad_reports_are_refused_naming_the_problem(
    client: TestClient, body: dict[str, Any], status: int, field: str | None
) -> None:
    got = client.post("/api/incidents", json=body)
    assert got.status_code == status, got.text
    if field:
        assert got.json()["error"]["field"].startswith(field)


def test_idempotency_key_returns_the_same_case(client: TestClient, conn: Connection) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = client.post("/api/incidents", json=_report(lon=120.37, lat=36.09), headers=key)
    again = client.post("/api/incidents", json=_report(lon=120.37, lat=36.09), headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["idempotent-replayed"] == "true" and again.json()["id"] == first.json()["id"]
    other = client.post("/api/incidents", json=_report(lon=120.38, lat=36.09), headers=key)
    assert other.status_code == 409 and other.json()["error"]["field"] == "Idempotency-Key"
    stored = conn.execute(
        text("SELECT count(*) FROM incidents WHERE idempotency_key = :k"), {"k": key["Idempotency-Key"]}
    ).scalar_one()
    assert stored == 1


def test_likely_duplicates_within_the_categorys_50_m_and_72_h_in_metres(
    client: TestClient, conn: Connection, accounts: dict[str, Any]
) -> None:
    base = (120.3600, 36.0880)
    first = client.post("/api/incidents", json=_report(category="E0504", lon=base[0], lat=base[1])).json()
    # 30 m and 70 m north (a degree of latitude is ~110.95 km here); a dispatcher files the
    # second (staff see exact metres; the public, metres from the snapped point, in 50 m steps)
    near = client.post(
        "/api/incidents",
        json=_report(category="E0504", lon=base[0], lat=base[1] + 30 / 110_950),
        headers=accounts["disp1"],
    ).json()
    far = client.post(
        "/api/incidents", json=_report(category="E0504", lon=base[0], lat=base[1] + 70 / 110_950)
    ).json()
    other_kind = client.post(
        "/api/incidents", json=_report(category="E0505", lon=base[0], lat=base[1])
    ).json()
    ids = {d["id"]: d["distance_m"] for d in near["likely_duplicates"]}
    truth = conn.execute(
        text(
            "SELECT ST_Distance(a.point::geography, b.point::geography) FROM incidents a, incidents b "
            "WHERE a.id = :a AND b.id = :b"
        ),
        {"a": first["id"], "b": near["id"]},
    ).scalar_one()
    assert ids[first["id"]] == pytest.approx(truth, abs=0.01) and 29 < truth < 31
    assert first["id"] not in {d["id"] for d in far["likely_duplicates"]}  # ~70 m away
    assert near["id"] in {d["id"] for d in far["likely_duplicates"]}  # ~40 m away
    assert other_kind["likely_duplicates"] == [] or all(
        d["id"] not in (first["id"], near["id"]) for d in other_kind["likely_duplicates"]
    )


# ---------------------------------------------------------------- workflow


def _move(client: TestClient, case: int, auth: dict[str, str], to: str, **extra: Any) -> httpx.Response:
    return client.post(f"/api/incidents/{case}/transitions", json={"to": to, **extra}, headers=auth)


def test_the_workflow_legal_and_illegal_with_roles(client: TestClient, accounts: dict[str, Any]) -> None:
    case = client.post(
        "/api/incidents", json=_report(address="恩县路64号")
    ).json()  # 即墨路街道, field1's unit
    cid = case["id"]
    assert case["unit"] == "370203020"
    assert _move(client, cid, {}, "registered").status_code == 401
    assert _move(client, cid, accounts["viewer1"], "registered").status_code == 403
    assert _move(client, cid, accounts["field1"], "registered").status_code == 403
    illegal = _move(client, cid, accounts["disp1"], "closed")
    assert illegal.status_code == 409 and illegal.json()["error"]["code"] == "illegal_transition"
    assert "registered" in illegal.json()["error"]["message"]
    assert _move(client, cid, accounts["disp1"], "registered").json()["responded_at"] is not None
    assert _move(client, cid, accounts["disp1"], "dispatched").status_code == 200
    assert _move(client, cid, accounts["field9"], "in_progress").status_code == 403  # another street's staff
    assert _move(client, cid, accounts["field1"], "in_progress").status_code == 200
    no_photo = _move(client, cid, accounts["field1"], "verifying")
    assert no_photo.status_code == 400 and no_photo.json()["error"]["field"] == "photos"
    after = ["https://photos.example/after.jpg"]
    assert _move(client, cid, accounts["field1"], "verifying", photos=after).status_code == 200
    own = _move(client, cid, accounts["field1"], "closed")
    assert own.status_code == 403 and "another person" in own.json()["error"]["message"]
    no_note = _move(client, cid, accounts["field2"], "rework")
    assert no_note.status_code == 400 and no_note.json()["error"]["field"] == "note"
    assert _move(client, cid, accounts["field2"], "rework", note="井盖仍松动").json()["status"] == "rework"
    assert _move(client, cid, accounts["field1"], "in_progress").status_code == 200
    assert _move(client, cid, accounts["field1"], "verifying", photos=after).status_code == 200
    closed = _move(client, cid, accounts["field2"], "closed").json()
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert _move(client, cid, accounts["disp1"], "in_progress").status_code == 409
    rated = client.post(
        f"/api/incidents/{cid}/evaluation", json={"satisfied": True}, headers=accounts["disp1"]
    )
    assert rated.json()["satisfied"] is True
    steps = [(h["from_status"], h["to_status"], h["actor"]) for h in rated.json()["history"]]
    assert steps[:3] == [(None, "received", "public"), ("received", "registered", "disp1"),
                         ("registered", "dispatched", "disp1")]  # fmt: skip
    assert ("verifying", "rework", "field2") in steps and steps[-1] == ("closed", "closed", "disp1")


def test_the_event_log_is_append_only(engine: Engine, client: TestClient) -> None:
    case = client.post("/api/incidents", json=_report(lon=120.37, lat=36.09)).json()
    for statement in ("UPDATE incident_events SET note = 'x'", "DELETE FROM incident_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(f"{statement} WHERE incident_id = :i"), {"i": case["id"]})


def test_transfer_and_merge_keep_everyone(client: TestClient, accounts: dict[str, Any]) -> None:
    reporter = {"name": "王女士", "phone": "13812341234", "consent": True}
    first = client.post("/api/incidents", json=_report(lon=120.355, lat=36.085, reporter=reporter)).json()
    second = client.post(
        "/api/incidents", json=_report(lon=120.355, lat=36.0851, reporter={"phone": "13900001111"})
    ).json()
    assert first["id"] in {d["id"] for d in second["likely_duplicates"]}
    merged = client.post(
        f"/api/incidents/{second['id']}/merge", json={"into": first["id"]}, headers=accounts["disp1"]
    ).json()
    phones = sorted(r["phone"] for r in merged["reporters"])
    assert phones == ["13812341234", "13900001111"]  # a dispatcher sees phones in full
    dup = client.get(f"/api/incidents/{second['id']}", headers=accounts["disp1"]).json()
    assert dup["status"] == "duplicate" and dup["merged_into"] == first["id"]
    again = client.post(
        f"/api/incidents/{second['id']}/merge", json={"into": first["id"]}, headers=accounts["disp1"]
    )
    assert again.status_code == 409
    _move(client, first["id"], accounts["disp1"], "registered")
    moved = client.post(
        f"/api/incidents/{first['id']}/transfer",
        json={"unit": "D02", "note": "游商"},
        headers=accounts["disp1"],
    ).json()
    expected = ("D02", "区综合行政执法局", first["unit"])
    assert (moved["unit"], moved["unit_name"], moved["second_unit"]) == expected
    outside = client.post(  # a known unit, but not one the matrix gives this case
        f"/api/incidents/{first['id']}/transfer", json={"unit": "D05"}, headers=accounts["disp1"]
    )
    assert outside.status_code == 400 and outside.json()["error"]["code"] == "unit_outside_matrix"
    bad = client.post(
        f"/api/incidents/{first['id']}/transfer", json={"unit": "X99"}, headers=accounts["disp1"]
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "unit"


def test_personal_data_by_role_and_retention(
    client: TestClient, accounts: dict[str, Any], engine: Engine
) -> None:
    reporter = {"name": "李先生", "phone": "13812345678", "consent": False}
    case = client.post("/api/incidents", json=_report(address="恩县路64号", reporter=reporter)).json()
    url = f"/api/incidents/{case['id']}"
    seen = {who: client.get(url, headers=accounts[who]).json()["reporters"] for who in accounts}
    assert seen["admin1"][0] == {**seen["admin1"][0], "name": "李先生", "phone": "13812345678"}
    assert seen["disp1"][0]["name"] is None and seen["disp1"][0]["phone"] == "13812345678"  # no consent
    assert seen["field1"][0]["phone"] == "13812345678"  # the handling unit
    assert seen["field9"][0]["phone"] == "138****5678" and seen["viewer1"][0]["phone"] == "138****5678"
    assert client.get(url).json()["reporters"] == []
    listed = client.get("/api/incidents", params={"limit": 1000}).text
    assert "13812345678" not in listed and "李先生" not in listed
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE incidents SET status = 'closed', closed_at = now() - interval '800 days' "
                "WHERE id = :i"
            ),
            {"i": case["id"]},
        )
        assert privacy.anonymise(conn, 730) >= 1
        row = conn.execute(
            text("SELECT name, phone, anonymised_at FROM incident_reporters WHERE incident_id = :i"),
            {"i": case["id"]},
        ).one()
    assert row.name is None and row.phone is None and row.anonymised_at is not None


def test_list_filters_paging_and_geojson(client: TestClient, accounts: dict[str, Any]) -> None:
    client.post("/api/incidents", json=_report(category="E0302", lon=120.3791, lat=36.0962, crs="gcj02"))
    all_ = client.get("/api/incidents", params={"category": "E0302", "limit": 1000}).json()
    assert all_["numberMatched"] >= 1 and all(i["category"] == "E0302" for i in all_["incidents"])
    street = all_["incidents"][0]["street"]
    by_area = client.get("/api/incidents", params={"area": street, "category": "E0302"}).json()
    assert by_area["numberMatched"] >= 1 and all(i["street"] == street for i in by_area["incidents"])
    page = client.get("/api/incidents", params={"limit": 2, "offset": 1, "sort": "received_at"}).json()
    assert page["numberReturned"] <= 2
    geo = client.get("/api/incidents", params={"f": "geojson", "bbox": "120.30,36.05,120.45,36.15"}).json()
    assert geo["type"] == "FeatureCollection" and all(
        f["geometry"]["type"] == "Point" for f in geo["features"]
    )
    assert client.get("/api/incidents", params={"area": "12"}).json()["error"]["field"] == "area"
    assert client.get("/api/incidents", params={"sort": "name"}).status_code in (400, 422)
    soon = (datetime.now().astimezone() + timedelta(days=1)).isoformat()
    assert client.get("/api/incidents", params={"since": soon}).json()["numberMatched"] == 0


# ---------------------------------------------------------------- never lost


def test_concurrent_intake_with_retries_stores_exactly_the_accepted(live_server: str, engine: Engine) -> None:
    """8 clients × 30 reports, every report sent twice (a retry) and some keys raced by two clients."""
    run = uuid.uuid4().hex[:8]
    keys = [f"{run}-{i:04d}" for i in range(240)]

    def send(key: str) -> list[int]:
        body = _report(lon=120.36 + int(key[-4:]) * 1e-4, lat=36.09, description=key)
        answers = []
        with httpx.Client(base_url=live_server, timeout=30) as http:
            for _ in range(2):
                got = http.post("/api/incidents", json=body, headers={"Idempotency-Key": key})
                assert got.status_code in (200, 201), got.text
                answers.append(got.json()["id"])
        return answers

    racing = keys + keys[::7]  # some keys sent by two clients at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, racing))
    acknowledged = {key: ids for key, ids in zip(racing, answers, strict=True)}
    assert all(len(set(ids)) == 1 for ids in answers)
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                text("SELECT idempotency_key, id FROM incidents WHERE idempotency_key LIKE :p"),
                {"p": f"{run}-%"},
            ).all()
        )
    assert stored == {key: ids[0] for key, ids in acknowledged.items()}  # exactly the accepted, once each


def test_concurrent_reports_share_commits_and_a_bad_one_fails_alone(live_server: str, engine: Engine) -> None:
    """Reports sent at once are filed together (``api.filing``: their cases share a transaction);
    a report with a photo never uploaded (found only while filing), one of an unknown category
    and a key reused for another request each get their own error, and the rest are filed."""
    run = uuid.uuid4().hex[:8]
    good = [
        (f"{run}-{i:02d}", _report(lon=120.36 + i * 1e-4, lat=36.09, description=f"{run} {i}"))
        for i in range(20)
    ]
    bad = [
        (f"{run}-photo", _report(lon=120.37, lat=36.09, photos=["/api/photos/" + "0" * 64])),
        (f"{run}-kind", _report(lon=120.37, lat=36.09, category="X9999")),
        (good[0][0], _report(lon=120.37, lat=36.09, description="another request under a used key")),
    ]
    sent = good + bad
    start = threading.Barrier(len(sent))

    def send(item: tuple[str, dict[str, Any]]) -> httpx.Response:
        with httpx.Client(base_url=live_server, timeout=30) as http:
            start.wait()
            return http.post("/api/incidents", json=item[1], headers={"Idempotency-Key": item[0]})

    with ThreadPoolExecutor(max_workers=len(sent)) as pool:
        got = list(pool.map(send, sent))
    codes = [r.status_code for r in got]
    assert codes[1:20] == [201] * 19, [r.text for r in got[1:20] if r.status_code != 201]
    photo, kind, reused = got[20:]
    assert photo.status_code == 400 and photo.json()["error"]["field"] == "photos[0]", photo.text
    assert kind.status_code == 400 and kind.json()["error"]["field"] == "category", kind.text
    # the two requests under one key: whichever came first is filed, the other is a conflict
    assert sorted([codes[0], reused.status_code]) == [201, 409]
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT idempotency_key, number, xmin::text FROM incidents WHERE idempotency_key LIKE :p"),
            {"p": f"{run}-%"},
        ).all()
    assert sorted(k for k, _, _ in stored) == sorted(k for k, _ in good)  # the good ones, once each
    assert len({n for _, n, _ in stored}) == len(stored)
    assert len({x for _, _, x in stored}) < len(stored), "no two reports shared a commit"


def test_the_filer_files_a_batch_in_one_commit_and_a_failing_batch_report_by_report(
    test_settings: Settings, engine: Engine, demo: int
) -> None:
    """``api.filing.Filer`` on the real database: reports handed over together are one
    transaction, numbered in the order given; a report that breaks its batch in a way no
    check foresaw makes the batch be filed again report by report, and fails alone."""
    state = cast(WorkerState, SimpleNamespace(
        db=Database(engine), settings=test_settings, work_hours=WorkHours.parse(test_settings.work_hours)
    ))  # fmt: skip
    filer = Filer(state)
    with engine.connect() as conn:
        index = AreaIndex(conn, demo)
    run = uuid.uuid4().hex[:8]

    def report(i: int, where: AreaIndex) -> Report:
        body = IncidentIn.model_validate(_report(lon=120.36 + i * 1e-4, lat=36.09, description=f"{run} {i}"))
        return Report(body, PUBLIC, f"{run}-{i}", where)

    async def gathered(reports: list[Report]) -> list[Any]:
        return await asyncio.gather(*(filer.file(r) for r in reports), return_exceptions=True)

    def hand_over(reports: list[Report]) -> list[Any]:  # a loop of its own (a browser test may run one here)
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, gathered(reports)).result()

    together = hand_over([report(i, index) for i in range(5)])
    broken = cast(AreaIndex, SimpleNamespace())  # no ``locate``: fails inside the batch's transaction
    apart = hand_over([report(5, index), report(6, broken), report(7, index)])
    assert all(created for _, created in together) and [c["number"] for c, _ in together] == sorted(
        c["number"] for c, _ in together
    )
    assert isinstance(apart[1], AttributeError) and apart[0][1] and apart[2][1]
    with engine.connect() as conn:
        commits = dict(
            conn.execute(
                text("SELECT id, xmin::text FROM incidents WHERE idempotency_key LIKE :p"), {"p": f"{run}-%"}
            ).all()
        )
    assert len(commits) == 7  # the five, and the two good ones of the broken batch
    assert len({commits[c["id"]] for c, _ in together}) == 1  # one batch, one commit
    assert commits[apart[0][0]["id"]] != commits[apart[2][0]["id"]]  # filed again one by one


def test_database_down_answers_503_and_the_retry_stores_once(
    test_settings: Settings, client: TestClient, engine: Engine
) -> None:
    down = test_settings.model_copy(update={"database_url": "postgresql+psycopg://wangge@127.0.0.1:9/none"})
    key = {"Idempotency-Key": uuid.uuid4().hex}
    with TestClient(create_app(down)) as unreachable:
        unreachable.app.state.worker.index = client.app.state.worker.index  # the locator is in memory
        failed = unreachable.post("/api/incidents", json=_report(lon=120.37, lat=36.09), headers=key)
    assert failed.status_code == 503 and failed.headers["retry-after"]
    retried = client.post("/api/incidents", json=_report(lon=120.37, lat=36.09), headers=key)
    assert retried.status_code == 201
    with engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM incidents WHERE idempotency_key = :k"), {"k": key["Idempotency-Key"]}
        ).scalar_one()
    assert count == 1


def test_locate_lists_open_cases_nearby_of_the_same_kind(
    client: TestClient, accounts: dict[str, Any]
) -> None:
    case = client.post("/api/incidents", json=_report(category="E0201", lon=120.3655, lat=36.0871)).json()
    params = {"lon": 120.3655, "lat": 36.0872, "category": "E0201"}
    near = client.get("/api/locate", params=params, headers=accounts["disp1"]).json()
    found = {i["id"]: i["distance_m"] for i in near["nearby_incidents"]}
    assert found[case["id"]] == pytest.approx(11.1, abs=0.2)  # 0.0001° of latitude, exact for staff
    public = {
        i["id"]: i["distance_m"] for i in client.get("/api/locate", params=params).json()["nearby_incidents"]
    }
    assert public[case["id"]] % 50 == 0  # from the snapped point, in steps of the snap
    other = client.get("/api/locate", params={"lon": 120.3655, "lat": 36.0872, "category": "E0302"}).json()
    assert case["id"] not in {i["id"] for i in other["nearby_incidents"]}


def test_overdue_turns_amber_then_red_and_escalates(client: TestClient, engine: Engine) -> None:
    case = client.post("/api/incidents", json=_report(category="E0102", lon=120.36, lat=36.09)).json()
    assert case["overdue"] is None and case["escalated_to"] is None
    url = f"/api/incidents/{case['id']}"
    for hours_ago, level, escalated in ((3.5, "amber", None), (5, "red", "community"), (9, "red", "street")):
        with engine.begin() as conn:  # E0102: 4 natural hours; warn at 3.2 h, escalate at 8 h
            # (the clock as if received :h hours ago; received_at itself never changes)
            conn.execute(
                text(
                    "UPDATE incidents SET warn_at = now() - make_interval(secs => (:h - 3.2) * 3600), "
                    "deadline = now() - make_interval(secs => (:h - 4) * 3600), "
                    "escalate_at = now() - make_interval(secs => (:h - 8) * 3600) WHERE id = :i"
                ),
                {"h": hours_ago, "i": case["id"]},
            )
        got = client.get(url).json()
        assert (got["overdue"], got["escalated_to"]) == (level, escalated)
    overdue = client.get(
        "/api/incidents", params={"overdue": "true", "category": "E0102", "limit": 1000}
    ).json()
    assert case["id"] in {i["id"] for i in overdue["incidents"]}


def test_the_catalogue_is_kept_until_its_tables_change(engine: Engine, demo: int) -> None:
    rename = text("UPDATE categories SET name = :name WHERE code = 'E0401'")
    with rolled_back(engine) as conn:
        kept = categories.load(conn)
        assert categories.load(conn) is kept  # one counter read, no rebuild
        conn.execute(rename, {"name": "改名一"})
        assert categories.load(conn).categories["E0401"].name == "改名一"  # its own edit, at once
        conn.execute(rename, {"name": "改名二"})  # the counter moved once this transaction
        assert categories.load(conn).categories["E0401"].name == "改名二"  # still read afresh
        conn.execute(text("UPDATE departments SET name = name || '·' WHERE code = 'D01'"))
        assert categories.load(conn).departments["D01"].endswith("·")
    with rolled_back(engine) as conn:  # the edits rolled back: the catalogue kept before is right again
        assert categories.load(conn) is kept and kept.categories["E0401"].name != "改名二"
    with engine.begin() as conn:
        before = conn.execute(text("SELECT name FROM categories WHERE code = 'E0401'")).scalar_one()
        conn.execute(rename, {"name": "改名三"})
    try:
        with rolled_back(engine) as conn:  # another transaction, after the commit: the new catalogue
            assert categories.load(conn).categories["E0401"].name == "改名三"
    finally:
        with engine.begin() as conn:
            conn.execute(rename, {"name": before})
    with rolled_back(engine) as conn:
        assert categories.load(conn).categories["E0401"].name == before


def test_categories_are_data_an_admin_edits(client: TestClient, accounts: dict[str, Any]) -> None:
    listed = client.get("/api/categories").json()
    assert len(listed["departments"]) == 55 and {c["code"] for c in listed["categories"]} >= {
        "C0100",
        "E0510",
    }
    change = {"deadline_hours": 3, "department": "D01"}
    assert client.patch("/api/categories/E0401", json=change, headers=accounts["disp1"]).status_code == 403
    assert (
        client.patch(
            "/api/categories/E0401", json={"department": "X1"}, headers=accounts["admin1"]
        ).status_code
        == 400
    )
    edited = client.patch("/api/categories/E0401", json=change, headers=accounts["admin1"]).json()
    assert (edited["deadline_hours"], edited["department"]) == (3.0, "D01")
    case = client.post("/api/incidents", json=_report(category="E0401", lon=120.36, lat=36.09)).json()
    assert datetime.fromisoformat(case["deadline"]) - datetime.fromisoformat(
        case["received_at"]
    ) == timedelta(hours=3)
    client.patch("/api/categories/E0401", json={"deadline_hours": 2}, headers=accounts["admin1"])
    assert client.patch("/api/categories/E9999", json=change, headers=accounts["admin1"]).status_code == 404

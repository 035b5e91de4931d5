"""Hardening, round two (issue 16): each test is the reproduction from the issue, now answered well."""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import h3
import httpx
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from api.app import create_app
from api.logs import RedactSecrets, redact
from api.settings import Settings
from bench.server import uvicorn_server
from geo.crs import LocalPlane
from layers.accounts import users
from layers.analytics import aggregates
from layers.grid import areas
from layers.io.area_files import ImportProblems, cell_text, export_layer, import_layer
from tests.conftest import PASSWORD
from tests.zoo import COPY_GENERATION, geojson_file


@pytest.fixture(scope="module")
def open311_key(engine: Engine) -> str:
    with engine.begin() as conn:
        users.add(conn, "hardening-311", "viewer", None)
        return users.new_api_key(conn, "hardening-311", "hardening tests")


# -- 10: a control character in a description keeps the XML feed well-formed ----------------------


def test_control_characters_do_not_break_the_xml_feed(bound_client: TestClient) -> None:
    report = {
        "source": "wechat",
        "category": "E0501",
        "description": "游商\u0001占道\u000b",
        "lon": 120.37,
        "lat": 36.09,
    }
    filed = bound_client.post("/api/incidents", json=report)
    assert filed.status_code == 201, filed.text
    number = filed.json()["number"]
    one = bound_client.get(f"/open311/v2/requests/{number}.xml")
    (request,) = ET.fromstring(one.content)  # well-formed: parses
    assert request.findtext("description") == "游商占道"
    feed = bound_client.get("/open311/v2/requests.xml")
    assert ET.fromstring(feed.content).tag == "service_requests"


# -- 11: dates at the edges of the calendar are a 400 naming the field ------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/analytics/trends", {"month": "0001-01"}, "month"),
        ("/api/analytics/trends", {"month": "9999-12"}, "month"),
        ("/api/stats/kpi", {"month": "9999-12"}, "month"),
        ("/api/stats/kpi", {"month": "0001-01", "months": 60}, "month"),
        ("/api/reports/0001-01", {}, "month"),
        ("/api/analytics/hotspots", {"until": "9999-12-31"}, "until"),
        ("/api/analytics/repeats", {"until": "0001-01-01"}, "until"),
    ],
)
def test_dates_at_the_edges_of_the_calendar(
    client: TestClient, path: str, params: dict[str, Any], field: str
) -> None:
    got = client.get(path, params=params)
    assert got.status_code == 400, got.text
    error = got.json()["error"]
    assert error["field"] == field and "'0-12'" not in error["message"]


def test_open311_end_date_at_the_start_of_the_calendar(client: TestClient) -> None:
    got = client.get("/open311/v2/requests.json", params={"end_date": "0001-01-01T00:00:00"})
    assert got.status_code == 400 and "end_date" in got.json()[0]["description"]


def test_a_deeply_nested_body_is_a_400(client: TestClient) -> None:
    body = "[" * 100_000 + "]" * 100_000
    for path in ("/api/locate/batch", "/api/incidents"):
        got = client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert got.status_code in (400, 422), (path, got.status_code)
        assert got.json()["error"].get("field") in ("body", None)


# -- 12: raw UTF-8 in an Open311 form is read as UTF-8, not as mojibake -----------------------------


def test_raw_utf8_in_an_open311_form(bound_client: TestClient, open311_key: str) -> None:
    fields = {
        "api_key": open311_key,
        "service_code": "E0201",
        "address_string": "恩县路64号",
        "description": "电线杆小广告",
    }
    raw = "&".join(f"{k}={v}" for k, v in fields.items()).encode("utf-8")  # no percent-encoding
    created = bound_client.post(
        "/open311/v2/requests.json",
        content=raw,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert created.status_code == 201, created.text
    (request,) = bound_client.get(
        f"/open311/v2/requests/{created.json()[0]['service_request_id']}.json"
    ).json()
    assert request["description"] == "电线杆小广告" and request["lat"] is not None  # located by its address
    encoded = "&".join(f"{k}={quote(v)}" for k, v in fields.items())
    assert (
        bound_client.post(
            "/open311/v2/requests.json",
            content=encoded,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ).status_code
        == 201
    )
    latin = bound_client.post(
        "/open311/v2/requests.json",
        content="description=caf\xe9".encode("latin-1"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert latin.status_code == 400 and "UTF-8" in latin.json()[0]["description"]


# -- 13: every CRS has a valid domain, checked on input ---------------------------------------------


@pytest.mark.parametrize(("crs", "x", "y"), [("EPSG:3857", 1e300, 1e300), ("EPSG:4549", 1e12, 3_994_000.0)])
def test_coordinates_outside_the_domain_of_their_crs(
    client: TestClient, crs: str, x: float, y: float
) -> None:
    report = {"source": "wechat", "category": "E0501", "description": "x", "crs": crs, "lon": x, "lat": y}
    got = client.post("/api/incidents", json=report)
    assert got.status_code == 400 and "outside the area of" in got.json()["error"]["message"]
    located = client.get("/api/locate", params={"lon": x, "lat": y, "crs": crs})
    assert located.status_code == 400


# -- 14: CSV answers never carry a formula a spreadsheet would run ---------------------------------


def test_batch_csv_cells_are_formula_safe(client: TestClient) -> None:
    body = (
        'name,lon,lat\n=HYPERLINK("http://evil"),120.3791,36.0962\n@SUM(A1),120.37,36.09\n-3,120.37,36.09\n'
    )
    got = client.post(
        "/api/locate/batch", content=body, headers={"Content-Type": "text/csv", "Accept": "text/csv"}
    )
    rows = list(csv.reader(io.StringIO(got.text)))
    assert [r[1] for r in rows[1:]] == [
        '\'=HYPERLINK("http://evil")',
        "'@SUM(A1)",
        "-3",
    ]  # numbers stay numbers
    assert all(not cell.startswith(("=", "+", "@")) for r in rows for cell in r)


def test_area_export_is_formula_safe_and_imports_back(conn: Connection, demo: int, tmp_path: Path) -> None:
    conn.execute(
        text("UPDATE areas SET name = '=cmd|calc' WHERE generation = :g AND code = '370203020'"), {"g": demo}
    )
    path = tmp_path / "streets.csv"
    export_layer(conn, "streets", path)
    assert "'=cmd|calc" in path.read_text(encoding="utf-8")
    assert cell_text("'=cmd|calc") == "=cmd|calc"


# -- 26: a partial grid import says first that an import is a complete generation -------------------


def test_a_single_grid_import_says_what_a_grid_import_is(
    conn: Connection, grids: list[dict[str, Any]], tmp_path: Path
) -> None:
    path = geojson_file(tmp_path / "one.geojson", grids[:1])
    with pytest.raises(ImportProblems) as failed:
        import_layer(conn, "grids", path)
    first = str(failed.value.problems[0])
    assert first.startswith("a grid import is a complete generation") and "136 parent areas" in first
    assert sum(str(p).endswith("has no grids") for p in failed.value.problems) == 136  # then the details


# -- 27: the hotspot study area is two cell edges in metres, east-west as north-south ----------------


def test_study_area_is_buffered_in_metres(conn: Connection, demo: int) -> None:
    res = 9
    cells, _ = aggregates.study({}, conn, None, res, 1)
    shape = aggregates.study_area(conn)
    plane = LocalPlane(*shapely.centroid(shape).coords[0])
    edge = h3.average_hexagon_edge_length(res, unit="m")
    lat, lon = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cells]).T
    centres = plane.to_plane(shapely.points(lon, lat))
    metres = shapely.distance(plane.to_plane(shape), centres)
    east = lon > shapely.bounds(shape)[2]  # centres beyond the district's eastern end
    assert metres.max() <= 2 * edge * 1.001
    assert metres[east].max() > 1.8 * edge  # was 1.6 edges when the pad was degrees


# -- 1–5: the public never learns a case's exact point, its door, nor staff names --------------------

EXACT = (120.372513, 36.093527)  # a spot inside Shibei, not on a 50 m snap point


def _staff_case(client: TestClient, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    report = {"source": "hotline", "category": "E0505", "description": "hardening", **extra}
    if "address" not in extra:
        report |= {"lon": EXACT[0], "lat": EXACT[1]}
    filed = client.post("/api/incidents", json=report, headers=headers)
    assert filed.status_code == 201, filed.text
    return filed.json()


def test_binary_search_on_the_public_bbox_finds_only_the_snapped_point(
    bound_client: TestClient, accounts: dict[str, Any]
) -> None:
    case = _staff_case(bound_client, accounts["disp1"])
    x, y = EXACT

    def found(x0: float, y0: float, x1: float, y1: float) -> bool:
        listed = bound_client.get("/api/incidents", params={"bbox": f"{x0},{y0},{x1},{y1}", "limit": 1000})
        return any(c["id"] == case["id"] for c in listed.json()["incidents"])

    eps = 2e-5  # ~2 m around the exact point: the attack's last steps
    assert not found(x - eps, y - eps, x + eps, y + eps)
    sx, sy = bound_client.get(f"/api/incidents/{case['id']}").json()["point"]["coordinates"]
    assert found(sx - eps, sy - eps, sx + eps, sy + eps)  # the public position, as the public sees it
    staff = bound_client.get(
        "/api/incidents",
        params={"bbox": f"{x - eps},{y - eps},{x + eps},{y + eps}"},
        headers=accounts["disp1"],
    )
    assert any(c["id"] == case["id"] for c in staff.json()["incidents"])  # staff filter on the exact point


def test_trilateration_from_public_distances_gets_no_closer_than_the_snap(
    bound_client: TestClient, accounts: dict[str, Any]
) -> None:
    case = _staff_case(bound_client, accounts["disp1"])
    for dx, dy in ((0.0005, 0), (0, 0.0005), (-0.0004, -0.0003)):
        near = bound_client.get(
            "/api/locate", params={"lon": EXACT[0] + dx, "lat": EXACT[1] + dy, "category": "E0505"}
        ).json()["nearby_incidents"]
        (mine,) = [c for c in near if c["id"] == case["id"]]
        assert mine["distance_m"] % 50 == 0
    again = {
        "source": "wechat",
        "category": "E0505",
        "description": "again",
        "lon": EXACT[0],
        "lat": EXACT[1],
    }
    duplicates = bound_client.post("/api/incidents", json=again).json()["likely_duplicates"]
    assert duplicates and all(d["distance_m"] % 50 == 0 for d in duplicates)
    staff = bound_client.get(
        "/api/locate",
        params={"lon": EXACT[0] + 0.0005, "lat": EXACT[1], "category": "E0505"},
        headers=accounts["disp1"],
    ).json()["nearby_incidents"]
    assert any(c["id"] == case["id"] and c["distance_m"] % 50 != 0 for c in staff)  # exact for staff


def test_the_public_sees_the_road_not_the_door(bound_client: TestClient, accounts: dict[str, Any]) -> None:
    case = _staff_case(bound_client, accounts["disp1"], address="恩县路64号")
    public = bound_client.get(f"/api/incidents/{case['id']}")
    assert public.status_code == 200
    # every text the public gets, but for times, the case number and the unit codes
    # (where 64 may turn up by chance), names no door
    times = {"received_at", "responded_at", "warn_at", "deadline", "escalate_at", "closed_at", "at"}
    codes = {"number", "unit", "second_unit", "street", "community", "grid", "micro_grid", *times}

    def texts(value: Any, key: str = "") -> list[str]:
        if isinstance(value, dict):
            return [t for k, v in value.items() for t in texts(v, k)]
        if isinstance(value, list):
            return [t for v in value for t in texts(v, key)]
        return [value] if isinstance(value, str) and key not in codes else []

    assert not [t for t in texts(public.json()) if "64" in t]
    (request,) = bound_client.get(f"/open311/v2/requests/{case['number']}.json").json()
    assert request["address"] == "恩县路"
    staff = bound_client.get(f"/api/incidents/{case['id']}", headers=accounts["disp1"]).json()
    assert "64" in staff["location_note"] and staff["location_input"]["address"] == "恩县路64号"


def test_public_hotspots_stop_at_res_10(client: TestClient, accounts: dict[str, Any]) -> None:
    assert client.get("/api/analytics/hotspots", params={"res": 10}).status_code == 200
    fine = client.get("/api/analytics/hotspots", params={"res": 12})
    assert fine.status_code == 401 and fine.json()["error"]["field"] == "res"
    assert (
        client.get("/api/analytics/hotspots", params={"res": 12}, headers=accounts["viewer1"]).status_code
        == 200
    )


def test_the_public_history_names_no_staff_and_no_notes(
    bound_client: TestClient, accounts: dict[str, Any]
) -> None:
    case = _staff_case(bound_client, accounts["disp1"])
    moved = bound_client.post(
        f"/api/incidents/{case['id']}/transitions",
        json={"to": "registered", "note": "王师傅 13900001111 去看"},
        headers=accounts["disp1"],
    )
    assert moved.status_code == 200, moved.text
    public = bound_client.get(f"/api/incidents/{case['id']}")
    assert "disp1" not in public.text and "王师傅" not in public.text and "13900001111" not in public.text
    assert [e["to_status"] for e in public.json()["history"]] == ["received", "registered"]
    staff = bound_client.get(f"/api/incidents/{case['id']}", headers=accounts["disp1"]).json()
    assert staff["history"][-1]["actor"] == "disp1" and "王师傅" in staff["history"][-1]["note"]


# -- 6: unvalidated credentials count against the address; heavy operations cost more; shared ------


def test_random_credentials_do_not_bypass_the_rate_limit(test_settings: Settings, demo: int) -> None:
    with TestClient(create_app(test_settings.model_copy(update={"rate_limit_per_min": 10}))) as limited:
        answers = [
            limited.get(
                "/api/categories", headers={"X-API-Key": f"wg_{k}", "Authorization": f"Bearer junk{k}"}
            )
            for k in range(15)
        ]
        assert sum(a.status_code == 429 for a in answers) >= 5


def test_a_big_batch_costs_more_than_one_request(test_settings: Settings, demo: int) -> None:
    with TestClient(create_app(test_settings.model_copy(update={"rate_limit_per_min": 7}))) as limited:
        body = {"points": [[120.37, 36.09]] * 20_000}  # 20 requests' worth
        refused = limited.post("/api/locate/batch", json=body)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "20,000 points" in refused.json()["error"]["message"]


def test_two_workers_share_one_budget(test_settings: Settings, demo: int) -> None:
    env = {"DATABASE_URL": test_settings.sqlalchemy_url(), "WANGGE_RATE_LIMIT_PER_MIN": "20"}
    with uvicorn_server(env, warm_path="/healthz", workers=2) as base, httpx.Client(base_url=base) as http:
        answered = [http.get("/api/categories").status_code for _ in range(40)]
    assert 20 <= answered.count(200) <= 23  # one budget of 20 (and a second's refill), not 20 per worker


# -- 7: CPU-heavy work runs off the event loop -------------------------------------------------------


def test_healthz_stays_fast_while_a_million_point_batch_runs(live_server: str) -> None:
    body = json.dumps({"points": [[120.37 + (k % 1000) * 1e-5, 36.09] for k in range(1_000_000)]})
    done: list[int] = []

    def batch() -> None:
        with httpx.Client(timeout=120) as http:
            done.append(http.post(f"{live_server}/api/locate/batch", content=body).status_code)

    # the worker's pool of JSON-parsing processes starts with its first batch (a second of
    # imports, once): start it first, then measure the steady state
    assert httpx.post(
        f"{live_server}/api/locate/batch", json={"points": [[120.37, 36.09]]}, timeout=60
    ).is_success
    worker = threading.Thread(target=batch)
    worker.start()
    took: list[float] = []
    with httpx.Client(base_url=live_server, timeout=10) as http:
        while worker.is_alive():
            start = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            took.append(time.perf_counter() - start)
            time.sleep(0.01)
    worker.join()
    assert done == [200]
    # The measure: p99 ≤ 100 ms while the batch runs (a batch on the event loop would
    # hold every call for seconds); one hiccup of the shared VM is not the batch's.
    assert len(took) >= 50, f"the batch took only {len(took)} calls' time"
    p99, slowest = float(np.percentile(took, 99)), max(took)
    assert p99 < 0.1, f"/healthz p99 {p99 * 1000:.0f} ms over {len(took)} calls while the batch ran"
    assert slowest < 1.0, f"/healthz took {slowest * 1000:.0f} ms while the batch ran"


# -- 8: monthly report PDFs are cached per month and data, and printed one at a time ---------------


def test_report_pdfs_are_cached_and_capped(client: TestClient) -> None:
    start = time.perf_counter()
    first = client.get("/api/reports/2026-10", params={"f": "pdf"})
    printed = time.perf_counter() - start
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    start = time.perf_counter()
    again = client.get("/api/reports/2026-10", params={"f": "pdf"})
    assert again.content == first.content and time.perf_counter() - start < printed / 3  # from the cache
    state = client.app.state.worker  # type: ignore[attr-defined]
    state.reports.clear()
    with anyio.from_thread.start_blocking_portal() as portal:
        portal.call(state.printing.acquire_on_behalf_of, "another request")
        try:
            busy = client.get("/api/reports/2026-09", params={"f": "pdf"})
        finally:
            portal.call(state.printing.release_on_behalf_of, "another request")
    assert busy.status_code == 503 and int(busy.headers["retry-after"]) >= 1
    assert busy.json()["error"]["code"] == "busy"


# -- 9: failed sign-ins are slowed down per account and per address, audited, never for good --------


def test_failed_sign_ins_pause_the_account_and_are_audited(client: TestClient, engine: Engine) -> None:
    with engine.begin() as conn:
        users.add(conn, "guessed-at", "viewer", "the right password")
    try:
        wrong = {"username": "guessed-at", "password": "a wrong guess"}
        answers = [client.post("/api/token", data=wrong).status_code for _ in range(7)]
        assert answers[:5] == [401] * 5 and answers[5:] == [429, 429]
        paused = client.post("/api/token", data={"username": "guessed-at", "password": "the right password"})
        assert paused.status_code == 429 and int(paused.headers["retry-after"]) >= 1  # for a while only
        throttled = client.get("/api/audit", params={"action": "auth.throttled"})  # admins only: 401 here
        assert throttled.status_code == 401
        with engine.connect() as conn:
            query = "SELECT count(*) FROM audit_log WHERE action = 'auth.throttled' AND target = :t"
            logged = conn.execute(text(query), {"t": "user:guessed-at"}).scalar_one()
        assert logged == 3
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE name = 'guessed-at'"))


# -- 15, 16: links from the configured base URL; api_key only where Open311 needs it, never logged ---


def test_links_do_not_follow_a_forged_host(client: TestClient) -> None:
    for path in ("/?f=json", "/collections", "/tiles"):
        got = client.get(path, headers={"Host": "evil.example"})
        assert got.status_code == 200 and "evil.example" not in got.text, path


def test_api_key_in_the_query_counts_only_for_open311(client: TestClient, open311_key: str) -> None:
    assert (
        client.get("/api/incidents", params={"limit": 1}, headers={"X-API-Key": open311_key}).status_code
        == 200
    )
    staff_only = client.get("/api/analytics/hotspots", params={"res": 12, "api_key": open311_key})
    assert staff_only.status_code == 401  # the query key is not a credential here
    assert (
        client.get(
            "/api/analytics/hotspots", params={"res": 12}, headers={"X-API-Key": open311_key}
        ).status_code
        == 200
    )


def test_keys_and_tokens_are_redacted_from_log_lines() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/open311/v2/requests.json?api_key=wg_secret&x=1", "1.1", 201), None,
    )  # fmt: skip
    RedactSecrets().filter(record)
    line = record.getMessage()
    assert "wg_secret" not in line and "api_key=***&x=1" in line
    assert "eyJ" not in redact("Authorization: Bearer eyJhbGciOi.x.y")


# -- 28: the server says which optional parts are ready --------------------------------------------


def test_capabilities_say_what_is_ready(client: TestClient) -> None:
    got = client.get("/api/capabilities").json()
    assert got["pdf"]["ready"] is True and got["chinese_fonts"]["ready"] is True  # make test installs both
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text(encoding="utf-8")
    run_packages = next(line for line in makefile.splitlines() if line.startswith("SYSTEM_PACKAGES :="))
    assert "chromium" in run_packages and "fonts-noto-cjk" in run_packages  # `make run` installs them too


# -- 19: upload errors name the file the user sent and the problem, never our internals ------------


@pytest.mark.parametrize(
    ("name", "body"), [("网格.gpkg", b"SQLite format 3\x00" + b"\x00" * 200), ("grids.zip", b"PK")]
)
def test_upload_errors_name_the_users_file_only(
    client: TestClient, accounts: dict[str, Any], name: str, body: bytes
) -> None:
    got = client.post(
        "/api/layers/grids",
        files={"file": (name, body, "application/octet-stream")},
        headers=accounts["admin1"],
    )
    assert got.status_code == 400, got.text
    message = got.json()["error"]["message"]
    assert name in message
    assert "/tmp" not in got.text and "vsi" not in got.text and "wangge-upload" not in got.text
    assert "SELECT" not in got.text.upper().replace("SELECTED", "")


# -- 21: the addresses and cameras collections of API.md ---------------------------------------------


def test_addresses_and_cameras_are_ogc_collections(client: TestClient) -> None:
    listed = {c["id"] for c in client.get("/collections").json()["collections"]}
    assert {"addresses", "cameras"} <= listed
    page = client.get("/collections/addresses/items", params={"road": "恩县路", "limit": 5}).json()
    assert page["numberMatched"] > 5 and page["numberReturned"] == 5
    assert {f["properties"]["road"] for f in page["features"]} == {"恩县路"}
    assert any(link["rel"] == "next" for link in page["links"])
    one = page["features"][0]
    again = client.get(f"/collections/addresses/items/{one['id']}").json()
    assert again["properties"]["house_number"] == one["properties"]["house_number"]
    x, y = one["geometry"]["coordinates"]
    boxed = client.get(
        "/collections/addresses/items", params={"bbox": f"{x - 1e-4},{y - 1e-4},{x + 1e-4},{y + 1e-4}"}
    )
    assert one["id"] in {f["id"] for f in boxed.json()["features"]}
    cameras = client.get("/collections/cameras/items", params={"limit": 2}).json()
    assert cameras["numberMatched"] > 0 and "ai" in cameras["features"][0]["properties"]
    wrong = client.get("/collections/addresses/items", params={"subclass": "0101"})
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "subclass"
    assert client.get("/collections/addresses/items/notanumber").status_code == 404


# -- 18: units scope dispatchers and field staff; the inspector is the signed-in user -----------------


def test_units_scope_dispatchers_and_field_staff(bound_client: TestClient, engine: Engine) -> None:
    people = {
        "disp-jimo": ("dispatcher", "370203020"),
        "disp-all": ("dispatcher", "370203"),
        "field-none": ("field", None),
    }
    with engine.begin() as conn:
        for name, (role, unit) in people.items():
            users.add(conn, name, role, PASSWORD, unit)
    try:
        tokens = {}
        for name in people:
            got = bound_client.post("/api/token", data={"username": name, "password": PASSWORD})
            tokens[name] = {"Authorization": f"Bearer {got.json()['access_token']}"}
        elsewhere = {
            "source": "wechat",
            "category": "E0501",
            "description": "x",
            "lon": 120.3051,
            "lat": 36.0905,
        }
        outside = {"source": "wechat", "category": "E0501", "description": "x", "lon": 120.5, "lat": 36.3}
        in_liaoning = bound_client.post("/api/incidents", json=elsewhere).json()
        assert not in_liaoning["street"].startswith("370203020")
        register = {"to": "registered"}
        refused = bound_client.post(
            f"/api/incidents/{in_liaoning['id']}/transitions", json=register, headers=tokens["disp-jimo"]
        )
        assert refused.status_code == 403 and "outside your unit" in refused.json()["error"]["message"]
        district = bound_client.post(
            f"/api/incidents/{in_liaoning['id']}/transitions", json=register, headers=tokens["disp-all"]
        )
        assert district.status_code == 200
        nowhere = bound_client.post("/api/incidents", json=outside).json()
        for step in ("registered", "dispatched"):
            bound_client.post(
                f"/api/incidents/{nowhere['id']}/transitions", json={"to": step}, headers=tokens["disp-all"]
            )
        started = bound_client.post(
            f"/api/incidents/{nowhere['id']}/transitions",
            json={"to": "in_progress"},
            headers=tokens["field-none"],
        )
        assert started.status_code == 403  # a field account without a unit acts on no case
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE name = ANY(:n)"), {"n": list(people)})


def test_inspections_by_the_signed_in_user_of_the_assets_street(
    bound_client: TestClient, accounts: dict[str, Any]
) -> None:
    mine, theirs = "3702030101000819", "3702030101000007"  # 即墨路街道 (field1's street), 辽宁路街道
    body = {"inspector": "somebody else", "result": "ok"}
    saved = bound_client.post(f"/api/assets/{mine}/inspections", json=body, headers=accounts["field1"])
    assert saved.status_code == 201 and saved.json()["inspector"] == "field1"
    other = bound_client.post(f"/api/assets/{theirs}/inspections", json=body, headers=accounts["field1"])
    assert other.status_code == 403
    backdated = {"result": "ok", "inspected_at": "2024-04-10T09:00:00+08:00", "campaign_id": 1}
    late = bound_client.post(f"/api/assets/{mine}/inspections", json=backdated, headers=accounts["field1"])
    assert late.status_code == 400 and late.json()["error"]["field"] == "inspected_at"
    out_of_campaign = bound_client.post(
        f"/api/assets/{mine}/inspections", json={"result": "ok", "campaign_id": 1}, headers=accounts["field1"]
    )
    assert out_of_campaign.status_code == 400 and out_of_campaign.json()["error"]["field"] == "campaign_id"


# -- 24 (in part): a past month's report counts that month's inspections, not the last 30 days' --------


def test_a_past_reports_inspection_figure_is_that_months(conn: Connection, demo: int) -> None:
    from layers.analytics import report

    campaign_month = report.build(conn, "2024-04")  # the reference campaign ran 2024-04-08 to 21
    assert 0.4 < campaign_month["inspection_share"] < 0.5  # 12,921 of 28,714 covers
    assert report.build(conn, "2024-06")["inspection_share"] < 0.1  # no campaign then


def test_two_workers_both_follow_a_generation_change(
    test_settings: Settings, engine: Engine, demo: int
) -> None:
    """Each worker polls the active generation: after `layers activate`, every worker answers from it."""
    env = {"DATABASE_URL": test_settings.sqlalchemy_url(), "WANGGE_INDEX_CHECK_S": "0.2"}
    point = {"lon": 120.36, "lat": 36.10}
    with uvicorn_server(env, workers=2) as base:

        def ask(path: str, **params: object) -> dict[str, object]:
            with httpx.Client(base_url=base, timeout=30) as fresh:  # a new connection: any worker may take it
                return fresh.get(path, params=params).json()

        seen = {ask("/readyz")["worker"] for _ in range(40)}
        assert len(seen) == 2, "both workers should take connections"
        assert {ask("/api/locate", **point)["generation"] for _ in range(20)} == {demo}
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO generations (id, label) VALUES (991, 'copy for two workers')"))
            conn.execute(text(COPY_GENERATION), {"g": demo, "new": 991})
            areas.activate(conn, 991)
        try:
            time.sleep(0.5)
            answers = [ask("/api/locate", **point)["generation"] for _ in range(30)]
            assert answers == [991] * 30
        finally:
            with engine.begin() as conn:
                areas.activate(conn, demo)
                conn.execute(text("DELETE FROM generations WHERE id = 991"))

"""GET /api/locate and POST /api/locate/batch over HTTP, and the CLI, against PostGIS."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from api.app import create_app
from api.settings import Settings
from geo.crs import from_wgs84
from layers.grid import areas
from tests.zoo import COPY_GENERATION

# A point well inside the district (WGS84), and the same place in other systems.
LON, LAT = 120.36, 36.10


def _postgis_micro(conn: Connection, lon: float, lat: float) -> str | None:
    return conn.execute(
        text(
            "SELECT min(code) FROM areas a JOIN generations g ON g.id = a.generation AND g.status = 'active' "
            "WHERE a.level = 'micro_grid' AND ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
        ),
        {"x": lon, "y": lat},
    ).scalar()


def test_locate_answers_the_whole_chain(client: TestClient, conn: Connection) -> None:
    body = client.get("/api/locate", params={"lon": LON, "lat": LAT}).json()
    assert body["inside"] is True and body["distance_m"] == 0
    micro = body["micro_grid"]["code"]
    assert micro == _postgis_micro(conn, LON, LAT)
    assert body["grid"]["code"] == micro[:15] and body["community"]["code"] == micro[:12]
    assert body["street"]["code"] == micro[:9] and body["district"] == {"code": "370203", "name": "市北区"}
    assert body["street"]["name"].endswith("街道") and body["community"]["name"].endswith("居委会")
    assert body["grid"]["worker"]["name"]
    assert "phone" not in json.dumps(body)
    assert body["point"] == {"type": "Point", "coordinates": [LON, LAT]}
    assert body["boundary_distance_m"] > 0 and body["generation"] >= 1


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "EPSG:3857", "EPSG:4549", "EPSG:4528", "cgcs2000", "GCJ02"])
def test_every_crs_lands_on_the_same_micro_grid(client: TestClient, crs: str) -> None:
    x, y = from_wgs84(LON, LAT, crs)
    body = client.get("/api/locate", params={"lon": float(x), "lat": float(y), "crs": crs}).json()
    expected = client.get("/api/locate", params={"lon": LON, "lat": LAT}).json()["micro_grid"]["code"]
    assert body["micro_grid"]["code"] == expected
    assert body["point"]["coordinates"] == pytest.approx([LON, LAT], abs=1e-7)


def test_the_gcj02_mistake_lands_elsewhere(client: TestClient) -> None:
    x, y = from_wgs84(LON, LAT, "gcj02")
    as_wgs = client.get("/api/locate", params={"lon": float(x), "lat": float(y)}).json()
    right = client.get("/api/locate", params={"lon": LON, "lat": LAT}).json()
    assert as_wgs["micro_grid"]["code"] != right["micro_grid"]["code"]  # ~460 m off: never guessed


def test_out_crs(client: TestClient) -> None:
    body = client.get("/api/locate", params={"lon": LON, "lat": LAT, "out_crs": "EPSG:4549"}).json()
    assert body["point"]["coordinates"] == pytest.approx(
        [float(v) for v in from_wgs84(LON, LAT, "EPSG:4549")], abs=1e-3
    )


_NEAREST = """
SELECT code, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) AS m
FROM areas a JOIN generations g ON g.id = a.generation AND g.status = 'active'
WHERE level = 'micro_grid' ORDER BY m LIMIT 1
"""


def test_outside_answers_nearest_and_metres(client: TestClient, conn: Connection) -> None:
    body = client.get("/api/locate", params={"lon": 120.29, "lat": 36.10}).json()
    assert body["inside"] is False and body["ambiguous"] is False
    nearest, metres = conn.execute(text(_NEAREST), {"x": 120.29, "y": 36.10}).one()
    assert body["micro_grid"]["code"] == nearest
    assert body["distance_m"] == pytest.approx(metres, rel=0.005)  # local plane vs spheroid


def test_ambiguous_near_an_edge_and_with_poor_accuracy(client: TestClient) -> None:
    body = client.get("/api/locate", params={"lon": LON, "lat": LAT}).json()
    edge = body["boundary_distance_m"]
    assert body["ambiguous"] is (edge < 5)
    poor = client.get("/api/locate", params={"lon": LON, "lat": LAT, "accuracy_m": edge + 1}).json()
    assert poor["ambiguous"] is True
    good = client.get("/api/locate", params={"lon": LON, "lat": LAT, "accuracy_m": 0}).json()
    assert good["ambiguous"] is (edge < 5)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": 36.1}, "lon"),
        ({"lon": 120.3}, "lat"),
        ({"lon": "abc", "lat": 36.1}, "lon"),
        ({"lon": "nan", "lat": 36.1}, "lon"),
        ({"lon": 120.3, "lat": "Infinity"}, "lat"),
        ({"lon": 181, "lat": 36.1}, "lon"),
        ({"lon": 120.3, "lat": 91}, "lat"),
        ({"lon": 120.3, "lat": 36.1, "crs": "EPSG:2000"}, "crs"),
        ({"lon": 120.3, "lat": 36.1, "accuracy_m": -1}, "accuracy_m"),
    ],
)
def test_bad_input_names_the_field(client: TestClient, params: dict[str, object], field: str) -> None:
    r = client.get("/api/locate", params=params)
    assert 400 <= r.status_code < 500
    assert r.json()["error"]["field"] == field


def test_batch_json_in_input_order_with_bad_rows(client: TestClient, conn: Connection) -> None:
    gx, gy = (float(v) for v in from_wgs84(LON, LAT, "gcj02"))
    pts = [
        [gx, gy],
        ["x", 1],
        [500, 1],
        [gx + 0.01, gy],
        None,
        [float(v) for v in from_wgs84(120.29, 36.1, "gcj02")],
    ]
    r = client.post("/api/locate/batch", json={"crs": "gcj02", "points": pts})
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 6
    assert results[0]["micro_grid"] == _postgis_micro(conn, LON, LAT)
    assert results[1]["error"]["field"] == "points[1]"
    assert results[2]["error"]["field"] == "points[2]"
    assert results[3]["inside"] is True and results[3]["micro_grid"] != results[0]["micro_grid"]
    assert results[4]["error"]["field"] == "points[4]"
    assert results[5]["inside"] is False and results[5]["distance_m"] > 0
    assert set(results[0]) == {"inside", "distance_m", "street", "community", "grid", "micro_grid"}


def test_batch_geojson(client: TestClient) -> None:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [LON, LAT]}, "properties": {}},
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                "properties": {},
            },
        ],
    }
    results = client.post("/api/locate/batch", json=fc).json()["results"]
    assert results[0]["inside"] is True and results[1]["error"]["field"] == "features[1]"


def test_batch_csv_upload_and_csv_answer(client: TestClient) -> None:
    csv_text = f"编号,经度,纬度\nA,{LON},{LAT}\nB,bad,36\n".encode("gbk")
    r = client.post(
        "/api/locate/batch", files={"file": ("pts.csv", csv_text, "text/csv")}, headers={"Accept": "text/csv"}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0] == "row,编号,lon,lat,inside,distance_m,street,community,grid,micro_grid,error"
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows[0]["row"] == "1" and rows[0]["编号"] == "A" and rows[0]["lon"] == str(LON)
    assert (
        rows[0]["inside"] == "true"
        and rows[0]["distance_m"] == "0"
        and rows[0]["street"].startswith("370203")
    )
    assert rows[1]["编号"] == "B" and rows[1]["lon"] == "bad" and rows[1]["micro_grid"] == ""
    assert rows[1]["error"] == "row 2: lon and lat must be numbers"
    raw = client.post(
        "/api/locate/batch", content=f"lon,lat\n{LON},{LAT}\n", headers={"Content-Type": "text/csv"}
    ).json()
    assert raw["results"][0]["inside"] is True


def test_batch_rejections(client: TestClient) -> None:
    empty = client.post("/api/locate/batch", json={"points": []})
    assert empty.status_code == 400 and empty.json()["error"]["field"] == "points"
    nocols = client.post("/api/locate/batch", content="a,b\n1,2\n", headers={"Content-Type": "text/csv"})
    assert (
        nocols.status_code == 400
        and "needs lon and lat columns; it has: a, b" in nocols.json()["error"]["message"]
    )
    notjson = client.post("/api/locate/batch", content="{", headers={"Content-Type": "application/json"})
    assert notjson.status_code == 400 and notjson.json()["error"]["field"] == "body"
    badcrs = client.post("/api/locate/batch", json={"crs": "mars", "points": [[1, 2]]})
    assert badcrs.status_code == 400 and badcrs.json()["error"]["code"] == "unknown_crs"


def test_batch_over_the_limits(test_settings: Settings, engine: Engine, demo: int) -> None:
    small = test_settings.model_copy(update={"batch_max_points": 3, "max_upload_mb": 1})
    with TestClient(create_app(small)) as c:
        r = c.post("/api/locate/batch", json={"points": [[LON, LAT]] * 4})
        assert r.status_code == 413 and r.json()["error"]["field"] == "points"
        big = c.post(
            "/api/locate/batch",
            content=b"[" + b" " * (2 * 1024 * 1024) + b"]",
            headers={"Content-Type": "application/json"},
        )
        assert big.status_code == 413


def test_large_batch_streams_every_row(client: TestClient) -> None:
    n = 50_000
    pts = [[120.30 + (i % 1000) * 0.00013, 36.06 + (i // 1000) * 0.0019] for i in range(n)]
    results = client.post("/api/locate/batch", json={"points": pts}).json()["results"]
    assert len(results) == n and all("micro_grid" in r for r in results)


def test_index_follows_the_active_generation(test_settings: Settings, engine: Engine, demo: int) -> None:
    fast = test_settings.model_copy(update={"index_check_s": 0.0})
    with TestClient(create_app(fast)) as c:
        assert c.get("/api/locate", params={"lon": LON, "lat": LAT}).json()["generation"] == demo
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO generations (id, label) VALUES (990, 'copy')"))
            conn.execute(text(COPY_GENERATION), {"g": demo, "new": 990})
            areas.activate(conn, 990)
        try:
            assert c.get("/api/locate", params={"lon": LON, "lat": LAT}).json()["generation"] == 990
        finally:
            with engine.begin() as conn:
                areas.activate(conn, demo)
                conn.execute(text("DELETE FROM generations WHERE id = 990"))


def test_cli_locate_one_and_many(test_settings: Settings, demo: int, tmp_path: Path) -> None:
    env = {"DATABASE_URL": test_settings.sqlalchemy_url(), "PATH": "/usr/bin:/bin"}
    one = subprocess.run(
        [sys.executable, "-m", "api.cli", "locate", str(LON), str(LAT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert one.returncode == 0, one.stderr
    answered = json.loads(one.stdout)
    assert answered["micro_grid"]["code"].startswith("370203")
    assert answered["nearest_assets"] and answered["nearest_assets"][0]["distance_m"] <= 100
    source = tmp_path / "in.csv"
    source.write_text(f"id,lon,lat\n1,{LON},{LAT}\n2,oops,1\n")
    out = tmp_path / "out.csv"
    many = subprocess.run(
        [sys.executable, "-m", "api.cli", "locate", "--file", str(source), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert many.returncode == 0, many.stderr
    assert "located 1 of 2 points (1 bad rows)" in many.stderr
    rows = out.read_text().splitlines()
    assert len(rows) == 3 and ",true," in rows[1] and "must be numbers" in rows[2]


@pytest.mark.slow
def test_a_million_point_csv_batch(client: TestClient) -> None:
    """The batch limit the issue names, through HTTP end to end (`make test-slow`)."""
    import numpy as np

    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(120.30, 120.43, 1_000_000), rng.uniform(36.06, 36.16, 1_000_000)
    body = "lon,lat\n" + "\n".join(f"{x:.6f},{y:.6f}" for x, y in zip(lon, lat, strict=True))
    r = client.post("/api/locate/batch", content=body.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 1_000_000 and all("micro_grid" in row for row in results[::997])

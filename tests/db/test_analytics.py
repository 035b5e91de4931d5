"""Analytics: Gi* against PySAL esda, H3 parents, coverage against brute-force geodesics, trends, repeats."""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections import OrderedDict
from datetime import date, datetime, timedelta

import esda
import libpysal
import numpy as np
import openpyxl
import pytest
import scipy.sparse as sp
import shapely
from fastapi.testclient import TestClient
from h3.api import basic_int as h3i
from pyproj import Geod
from sqlalchemy import Engine, text

from geo import hexes, hotspots
from layers.analytics import aggregates
from layers.cases import worktime


def test_parents_by_bit_arithmetic_equal_h3(engine: Engine) -> None:
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(120.3, 120.44, 500), rng.uniform(36.05, 36.17, 500)
    cells = hexes.cells(lon, lat)
    with engine.connect() as conn:
        for res in range(hexes.MIN_RES, hexes.MAX_RES + 1):
            expected = [h3i.cell_to_parent(int(c), res) for c in cells]
            assert hexes.parents(cells, res).tolist() == expected
            in_sql = conn.execute(
                text(f"SELECT {hexes.parent_sql('c', res)} FROM unnest(CAST(:c AS bigint[])) AS c"),
                {"c": cells.tolist()},
            ).scalars()
            assert list(in_sql) == expected
    with pytest.raises(Exception, match="outside 5–12"):
        hexes.parent_sql("h3", 13)


def test_every_stored_case_cell_is_its_point_cell(engine: Engine, demo: int) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT h3, ST_X(point), ST_Y(point) FROM incidents "
                "WHERE point IS NOT NULL ORDER BY id LIMIT 2000"
            )
        ).all()
        assert (
            conn.execute(
                text("SELECT count(*) FROM incidents WHERE (point IS NULL) <> (h3 IS NULL)")
            ).scalar()
            == 0
        )
    stored, lon, lat = zip(*rows, strict=True)
    assert list(stored) == hexes.cells(lon, lat).tolist()


def test_gi_star_equals_esda_on_the_reference_data(engine: Engine, client: TestClient) -> None:
    until = date(2026, 10, 31)
    with engine.connect() as conn:
        window = aggregates.Window(
            datetime.combine(date(2026, 6, 1), datetime.min.time(), worktime.BEIJING),
            datetime.combine(until + timedelta(days=1), datetime.min.time(), worktime.BEIJING),
        )
        cells, weights = aggregates.study(OrderedDict(), conn, None, 9, 1)
        found, counts = aggregates.cell_counts(conn, window, 9)
    values = np.zeros(cells.size)
    values[np.searchsorted(cells, found)] = counts
    ours = hotspots.gi_star(values, weights)
    no_self = sp.csr_matrix(weights - sp.diags(weights.diagonal()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.WSP(no_self).to_W(silence_warnings=True)
        reference = esda.G_Local(values, w, transform="B", star=True, permutations=0)
    assert np.abs(reference.Zs - ours.z).max() <= 1e-6
    assert np.allclose(2 * reference.p_norm, ours.p)  # esda's p_norm is one-sided
    # the API answers the same statistic for the cells it shows
    answer = client.get(
        "/api/analytics/hotspots", params={"since": "2026-06-01", "until": "2026-10-31"}
    ).json()
    z_by_cell = {h3i.int_to_str(int(c)): z for c, z in zip(cells, reference.Zs, strict=True)}
    assert answer["summary"]["cells"] == cells.size and answer["summary"]["cases"] == counts.sum()
    assert all(abs(f["properties"]["z"] - z_by_cell[f["id"]]) <= 1e-6 for f in answer["features"])
    hot = [f for f in answer["features"] if f["properties"]["class"] == "hot"]
    assert hot and all(f["properties"]["q"] <= 0.05 and f["properties"]["z"] > 0 for f in hot)
    assert answer["summary"]["hot"] == len(hot)


def test_fdr_is_stricter_than_raw_p() -> None:
    rng = np.random.default_rng(3)
    weights = (
        sp.identity(400, format="csr") + sp.eye(400, k=1, format="csr") + sp.eye(400, k=-1, format="csr")
    )
    noise = hotspots.gi_star(rng.poisson(4, 400), weights)
    assert (noise.p <= 0.05).sum() > (noise.label != "none").sum()  # pure noise: raw p finds "hotspots"
    assert (noise.label != "none").sum() <= 2


def test_coverage_equals_brute_force_geodesic_distances(client: TestClient, engine: Engine) -> None:
    answer = client.get(
        "/api/analytics/coverage", params={"layer": "parking", "radius_m": 500, "by": "street"}
    ).json()
    uncovered = {f["id"]: f["properties"]["distance_m"] for f in answer["uncovered"]["features"]}
    with engine.connect() as conn:
        grids = aggregates.micro_grids(conn)
        parks = aggregates.facilities(conn, "parking", "operating", False)
    assert answer["facilities"] == len(parks)
    geod = Geod(ellps="WGS84")
    plon = np.array([p[1] for p in parks])
    plat = np.array([p[2] for p in parks])
    sample = grids[:: max(1, len(grids) // 300)]
    for g in sample:
        _, _, metres = geod.inv(np.full(plon.size, g["lon"]), np.full(plon.size, g["lat"]), plon, plat)
        nearest = float(metres.min())
        if nearest <= 500:
            assert g["code"] not in uncovered
        else:
            assert uncovered[g["code"]] == pytest.approx(nearest, abs=0.1)
    total = answer["micro_grids"]
    assert total["covered"] == total["total"] - len(uncovered)
    assert sum(s["micro_grids"] for s in answer["groups"]) == len(grids) == 7082
    assert sum(s["households_covered"] for s in answer["groups"]) == answer["households"]["covered"]


def test_coverage_csv_ev_and_other_layers(client: TestClient) -> None:
    ev = client.get("/api/analytics/coverage", params={"ev": "true", "radius_m": 500}).json()
    operating = client.get("/api/analytics/coverage", params={"radius_m": 500}).json()
    assert ev["status"] == operating["status"] == "operating"
    assert ev["facilities"] < operating["facilities"]  # most older car parks have no charging spaces
    assert ev["micro_grids"]["covered"] < operating["micro_grids"]["covered"]
    csv = client.get("/api/analytics/coverage", params={"f": "csv", "by": "community"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("community,name,micro_grids") and len(lines) == 1 + 137
    covers = client.get("/api/analytics/coverage", params={"layer": "manhole_covers", "radius_m": 100}).json()
    assert covers["micro_grids"]["share"] > 0.9


def test_uncovered_micro_grids_download_as_geojson_csv_and_xlsx(client: TestClient, engine: Engine) -> None:
    """The planner's question: which micro-grids are more than 500 m from a car park with EV charging."""
    params = {"layer": "parking", "ev": "true", "radius_m": 500}
    summary = client.get("/api/analytics/coverage", params=params).json()
    expected = summary["micro_grids"]["total"] - summary["micro_grids"]["covered"]
    geojson = client.get("/api/analytics/coverage/uncovered", params=params)
    assert geojson.status_code == 200 and geojson.headers["content-type"] == "application/geo+json"
    assert 'filename="uncovered-parking-ev-500m.geojson"' in geojson.headers["content-disposition"]
    features = geojson.json()["features"]
    assert len(features) == expected > 0
    first = features[0]["properties"]
    assert set(first) == {"code", "name", "street", "street_name", "community", "community_name",
                          "households", "distance_m", "nearest", "nearest_name"}  # fmt: skip
    assert first["code"].startswith(first["community"]) and first["community"].startswith(first["street"])
    assert first["street_name"].endswith("街道") and first["nearest_name"].endswith("停车场")
    with engine.connect() as conn:
        ev_parks = {p[0]: p for p in aggregates.facilities(conn, "parking", "operating", True)}
        points = {g["code"]: (g["lon"], g["lat"]) for g in aggregates.micro_grids(conn)}
    geod = Geod(ellps="WGS84")
    for f in features[:: max(1, len(features) // 50)]:
        p = f["properties"]
        assert p["distance_m"] > 500 and p["nearest"] in ev_parks
        assert shapely.from_geojson(json.dumps(f["geometry"])).is_valid
        lon, lat = (np.full(len(ev_parks), v) for v in points[p["code"]])
        plon, plat = [np.array([q[i] for q in ev_parks.values()]) for i in (1, 2)]
        metres = geod.inv(lon, lat, plon, plat)[2]
        assert list(ev_parks)[int(metres.argmin())] == p["nearest"]
    csv_answer = client.get("/api/analytics/coverage/uncovered", params={**params, "f": "csv"})
    assert csv_answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_answer.content.decode("utf-8-sig"))))
    assert [r["code"] for r in rows] == [f["id"] for f in features]
    assert (
        float(rows[0]["distance_m"]) == first["distance_m"]
        and int(rows[0]["households"]) == first["households"]
    )
    xlsx = client.get("/api/analytics/coverage/uncovered", params={**params, "f": "xlsx"})
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["uncovered"]
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][0] == "微网格编码 code" and len(table) == 1 + expected
    assert table[1][0] == first["code"] and table[1][6] == first["households"]  # numbers stay numbers
    wrong = client.get("/api/analytics/coverage/uncovered", params={**params, "f": "pdf"})
    assert wrong.status_code == 422 and "f" in wrong.text


def test_trends_add_up_and_name_risers(client: TestClient, engine: Engine) -> None:
    answer = client.get("/api/analytics/trends", params={"month": "2026-07"}).json()
    with engine.connect() as conn:
        july = conn.execute(
            text(
                "SELECT count(*) FROM incidents WHERE status <> 'duplicate' "
                "AND received_at >= '2026-07-01 00:00+08' AND received_at < '2026-08-01 00:00+08'"
            )
        ).scalar_one()
    assert sum(r["count"] for r in answer["results"]) == july
    for r in answer["results"]:
        if r["previous"]:
            assert r["change_pct"] == round((r["count"] - r["previous"]) / r["previous"] * 100, 1)
    assert all(r["change"] > 0 for r in answer["risers"]) and all(r["change"] < 0 for r in answer["fallers"])
    profile = answer["seasonal_profile"]
    barbecue = profile["E0510"]  # roadside barbecue (露天烧烤) peaks in summer
    assert max(barbecue[5:8]) > 2 * min(barbecue[0:2] + barbecue[11:12])
    by_street = client.get("/api/analytics/trends", params={"month": "2026-07", "by": "street"}).json()
    assert all(r["name"].endswith("街道") for r in by_street["results"] if r["street"])


def test_repeat_locations_cluster_within_the_radius(client: TestClient) -> None:
    base = (120.3602, 36.0851)
    offsets = [(0, 0), (0.0001, 0.0001), (0.0002, 0)]  # within ~20 m of each other
    for dx, dy in [*offsets, (0.001, 0.001)]:  # the last one ~140 m away
        body = {"source": "wechat", "category": "E0301", "lon": base[0] + dx, "lat": base[1] + dy}
        assert client.post("/api/incidents", json=body).status_code == 201
    answer = client.get(
        "/api/analytics/repeats", params={"category": "E0301", "days": 1, "min_cases": 3}
    ).json()
    clusters = [c for c in answer["clusters"] if abs(c["lat"] - base[1]) < 0.001]
    assert [c["cases"] for c in clusters] == [3]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("hotspots", {"res": 4}, "res"),
        ("hotspots", {"res": 13}, "res"),
        ("hotspots", {"res": 5, "area": "370203020009005001"}, "res"),  # a micro-grid holds no res-5 cell
        ("hotspots", {"area": "370203999"}, "area"),
        ("hotspots", {"category": "Z9999"}, "category"),
        ("hotspots", {"since": "2026-05-01", "until": "2026-04-01"}, "since"),
        ("coverage", {"radius_m": 0}, "radius_m"),
        ("coverage", {"radius_m": 25_000}, "radius_m"),
        ("coverage", {"layer": "rivers"}, "layer"),
        ("coverage", {"layer": "manhole_covers", "ev": "true"}, "ev"),
        ("trends", {"month": "2099-01"}, "month"),
        ("trends", {"month": "July"}, "month"),
        ("trends", {"by": "planet"}, "by"),
        ("repeats", {"radius_m": 5000}, "radius_m"),
    ],
)
def test_bad_analytics_input_names_the_field(client: TestClient, path: str, params: dict, field: str) -> None:
    answer = client.get(f"/api/analytics/{path}", params=params)
    assert answer.status_code in (400, 422), answer.text  # 422: the schema says it, 400: the rule does
    assert answer.json()["error"]["field"] == field


def test_patrol_time_and_inspection_coverage(client: TestClient, engine: Engine) -> None:
    answer = client.get("/api/analytics/patrol", params={"minutes_per_household": 3, "walk_kmh": 4}).json()
    with engine.connect() as conn:
        grids = aggregates.micro_grids(conn)
        covers = conn.execute(
            text("SELECT count(*) FROM assets WHERE kind = 'manhole_cover' AND micro_grid IS NOT NULL")
        ).scalar_one()
    minutes = {g["code"]: g["perimeter_m"] / (4000 / 60) + 3 * g["households"] for g in grids}
    over = {code for code, m in minutes.items() if m > 180}
    assert {r["code"] for r in answer["results"]} == over and answer["over_limit"] == len(over)
    assert all(r["minutes"] == pytest.approx(minutes[r["code"]], abs=0.06) for r in answer["results"])
    inspected = client.get("/api/analytics/inspections", params={"days": 3650, "by": "street"}).json()
    assert inspected["covers"] == covers and len(inspected["results"]) == 22
    assert 0 < inspected["inspected"] <= covers

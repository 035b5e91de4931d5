"""Geocoding with messy input, reverse geocoding, and the generated address layer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from layers.addresses.parsing import normalize, parse


@pytest.mark.parametrize(
    "q",
    [
        "恩县路64号",
        "市北区恩县路64号",
        "山东省青岛市市北区恩县路64号",
        "恩县路６４号",
        "恩县路64號",
        "恩 县 路 6 4 号",
        "即墨路街道恩县路64号",
        "恩县路64",
        "  恩县路64号  ",
        "青岛恩县路64号",
    ],
)
def test_messy_forms_of_one_address_find_it_first(client: TestClient, q: str) -> None:
    results = client.get("/api/geocode", params={"q": q}).json()["results"]
    assert results[0]["address"] == "市北区恩县路64号"
    assert results[0]["score"] == 1.0


@pytest.mark.parametrize("q", ["恩县略64号", "恩县64号", "恩县璐64号"])
def test_typos_still_find_the_doorplate_first(client: TestClient, q: str) -> None:
    results = client.get("/api/geocode", params={"q": q}).json()["results"]
    assert results[0]["address"] == "市北区恩县路64号"
    assert 0 < results[0]["score"] < 1


def test_exact_house_number_ranks_above_neighbours(client: TestClient) -> None:
    results = client.get("/api/geocode", params={"q": "辽宁路100号", "limit": 8}).json()["results"]
    assert results[0]["house_number"] == "100"
    assert {r["road"] for r in results} == {"辽宁路"}
    assert all(results[0]["score"] > r["score"] for r in results[1:] if r["house_number"] != "100")


def test_the_product_example_lands_in_its_community(client: TestClient) -> None:
    top = client.get("/api/geocode", params={"q": "恩县路64号"}).json()["results"][0]
    assert top["community"]["name"] == "恩县路社区居委会"
    assert top["street"]["name"] == "即墨路街道"
    assert top["micro_grid"]["code"].startswith(top["community"]["code"])
    assert top["point"]["type"] == "Point"


def test_reverse_gives_nearest_addresses_in_metres(client: TestClient, conn: Connection) -> None:
    lon, lat = conn.execute(
        text(
            "SELECT ST_X(geom), ST_Y(geom) FROM addresses WHERE road = '恩县路' "
            "AND house_number = '64' AND building = ''"
        )
    ).one()
    results = client.get("/api/reverse", params={"lon": lon + 0.0001, "lat": lat}).json()["results"]
    brute = conn.execute(
        text(
            "SELECT address, ST_Distance(geom::geography, "
            "ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) AS m FROM addresses ORDER BY m LIMIT 5"
        ),
        {"x": lon + 0.0001, "y": lat},
    ).all()
    assert [r["address"] for r in results] == [b[0] for b in brute]
    assert results[0]["distance_m"] == pytest.approx(brute[0][1], abs=0.01)
    assert results[0]["community"]["code"] and results[0]["micro_grid"]["code"]


def test_reverse_takes_any_crs(client: TestClient) -> None:
    wgs = client.get("/api/reverse", params={"lon": 120.36, "lat": 36.10}).json()["results"][0]
    gcj = client.get("/api/reverse", params={"lon": 120.365, "lat": 36.1, "crs": "gcj02"}).json()["results"][
        0
    ]
    assert wgs["address"] and gcj["address"]


def test_address_layer_is_big_enough_and_real_named(conn: Connection) -> None:
    plates, roads = conn.execute(
        text("SELECT count(*) FILTER (WHERE building = ''), count(DISTINCT road) FROM addresses")
    ).one()
    assert plates >= 50_000 and roads >= 100
    named = {r[0] for r in conn.execute(text("SELECT DISTINCT road FROM addresses"))}
    assert {"辽宁路", "延安三路", "登州路", "宁夏路", "恩县路", "台柳路", "瑞岛路", "重庆南路"} <= named
    outside = conn.execute(
        text(
            "SELECT count(*) FROM addresses a WHERE NOT EXISTS (SELECT 1 FROM areas d JOIN generations g "
            "ON g.id = d.generation AND g.status = 'active' "
            "WHERE d.level = 'district' AND ST_Covers(d.geom, a.geom))"
        )
    ).scalar_one()
    assert outside == 0


def test_bad_geocode_input(client: TestClient) -> None:
    assert client.get("/api/geocode").json()["error"]["field"] == "q"
    assert client.get("/api/geocode", params={"q": ""}).status_code == 422
    assert client.get("/api/geocode", params={"q": "x" * 201}).status_code == 422
    assert client.get("/api/geocode", params={"q": "完全不存在的地方"}).json()["results"] == []
    assert client.get("/api/reverse", params={"lon": 999, "lat": 1}).json()["error"]["field"] == "lon"


def test_normalisation() -> None:
    assert normalize("ＱＩＮＧＤＡＯ 恩县路６４號") == "qingdao恩县路64号"
    parsed = parse("恩县路64-1号2单元")
    assert (parsed.door, parsed.number, parsed.sub, parsed.unit) == ("64-1", "64", "1", "2")

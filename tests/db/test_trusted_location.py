"""Location a dispatcher can trust: how an address matched, numerals and doors, named places,
roads of other districts, and intake that never routes a guess (issue 15)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from layers.addresses.gazetteer import roads_elsewhere
from layers.addresses.parsing import parse


def _geocode(client: TestClient, q: str, limit: int = 5) -> dict[str, Any]:
    got = client.get("/api/geocode", params={"q": q, "limit": limit})
    assert got.status_code == 200, got.text
    return got.json()


def _file(client: TestClient, address: str) -> dict[str, Any]:
    got = client.post("/api/incidents", json={"source": "hotline", "category": "E0501", "address": address})
    assert got.status_code == 201, got.text
    return got.json()


@pytest.mark.parametrize(
    ("q", "door", "building", "unit", "room"),
    [
        ("恩县路六十四号", "64", "", "", ""),
        ("恩县路64號", "64", "", "", ""),
        ("恩县路64-1号", "64-1", "", "", ""),
        ("恩县路甲64号", "甲64", "", "", ""),
        ("恩县路64号3号楼2单元501", "64", "3号楼", "2", "501"),
        ("恩县路六十四号三栋二单元五零一室", "64", "3号楼", "2", "501"),
        ("恩县路64号3-2-501", "64", "3号楼", "2", "501"),
        ("台东一路一百零八号", "108", "", "", ""),
    ],
)
def test_numerals_and_doors_are_read_before_matching(
    q: str, door: str, building: str, unit: str, room: str
) -> None:
    parsed = parse(q)
    assert (parsed.door, parsed.building, parsed.unit, parsed.room, parsed.rest) == (
        door,
        building,
        unit,
        room,
        "",
    )
    assert parsed.road in ("恩县路", "台东一路")  # a road's own numeral (台东一路) is kept


def test_every_answer_says_how_it_matched(client: TestClient, conn: Connection) -> None:
    exact = _geocode(client, "恩县路六十四号")
    assert exact["results"][0]["address"] == "市北区恩县路64号"
    assert (exact["results"][0]["match"], exact["trusted"], exact["parsed"]["number"]) == (
        "exact",
        True,
        "64",
    )
    inside = _geocode(client, "恩县路64号3号楼2单元501")
    assert inside["results"][0]["match"] == "exact" and inside["parsed"]["room"] == "501"
    assert inside["parsed"]["unit"] == "2" and inside["parsed"]["building"] == "3号楼"
    sub = _geocode(client, "恩县路64-1号")["results"][0]  # no 64-1 plate: 64 is the nearest, not "exact"
    assert (sub["house_number"], sub["match"], sub["number_difference"]) == ("64", "house_near", 0)
    plates = set(
        conn.execute(text("SELECT house_number::int FROM addresses WHERE road = '恩县路'")).scalars()
    )
    gap = max(plates) + 2  # past the road's last doorplate, two numbers on
    near = _geocode(client, f"恩县路{gap}号")["results"][0]
    assert (near["match"], near["number_difference"]) == ("house_near", abs(int(near["house_number"]) - gap))
    assert near["number_difference"] > 0
    road = _geocode(client, "恩县路")
    assert road["results"][0]["match"] == "road" and road["trusted"] is False
    far = _geocode(client, "恩县路9999号")  # the number was not ignored silently: only the road matched
    assert far["results"][0]["match"] == "road" and far["trusted"] is False
    typo = _geocode(client, "恩县略64号")
    assert typo["results"][0]["address"] == "市北区恩县路64号"
    assert typo["results"][0]["match"] == "fuzzy" and typo["trusted"] is False


@pytest.mark.parametrize(
    "q",
    [
        "香港中路10号",
        "东海西路15号",
        "太平路1号",
        "湛山一路3号",
        "燕儿岛路10号",
        "市南区宁夏路100号",
        "青岛市李沧区京口路2号",
    ],
)
def test_roads_of_other_districts_are_never_offered(client: TestClient, q: str) -> None:
    answer = _geocode(client, q)
    assert answer["results"] == [] and answer["trusted"] is False
    assert "市南区" in answer["outside"] or "李沧区" in answer["outside"]
    case = _file(client, q)
    assert case["located_by"] == "needs_location" and case["unit"] == "370203"
    assert case["street"] is None and case["inside"] is False and case["routed_by"] == "needs_location"
    assert "not of the district" in case["location_note"] or "not in the district" in case["location_note"]


def test_the_list_of_other_districts_roads_holds_none_of_ours(conn: Connection) -> None:
    ours = set(conn.execute(text("SELECT name FROM roads")).scalars())
    assert ours and not ours & set(roads_elsewhere())


def test_a_fuzzy_match_is_not_routed_and_an_exact_one_is(client: TestClient) -> None:
    guessed = _file(client, "恩县略64号")
    assert guessed["located_by"] == "needs_location" and guessed["unit"] == "370203"
    assert "fuzzy" in guessed["location_note"] and guessed["point"] is None
    sure = _file(client, "恩县路六十四号")
    assert sure["located_by"] == "address" and sure["street"] == "370203020"
    assert sure["routed_by"] != "needs_location" and sure["unit"] != "370203"
    unknown = _file(client, "火星路1号")
    assert unknown["located_by"] == "needs_location"


def test_places_are_found_by_name_and_alias(client: TestClient) -> None:
    museum = _geocode(client, "青岛啤酒博物馆")
    top = museum["results"][0]
    assert top["place"] == {"name": "青岛啤酒博物馆", "kind": "landmark", "generated": False}
    assert (top["match"], museum["trusted"], top["road"]) == ("exact", True, "登州路")
    alias = _geocode(client, "啤酒博物馆")["results"][0]
    assert alias["place"]["name"] == "青岛啤酒博物馆" and alias["point"] == top["point"]
    assert _geocode(client, "台东步行街")["results"][0]["place"]["name"] == "台东商业步行街"


def test_a_generated_compound_with_building_unit_and_room(client: TestClient, conn: Connection) -> None:
    name = conn.execute(
        text(
            "SELECT name FROM places WHERE kind = 'compound' GROUP BY name HAVING count(*) = 1 "
            "ORDER BY name LIMIT 1"
        )
    ).scalar_one()
    answer = _geocode(client, f"{name}3号楼2单元501")
    top = answer["results"][0]
    assert top["place"]["name"] == name and top["place"]["generated"] is True and top["match"] == "exact"
    assert answer["parsed"]["place"] == name and answer["parsed"]["room"] == "501"
    assert answer["trusted"] and top["community"]["code"]
    case = _file(client, f"{name}3号楼2单元501")
    assert case["located_by"] == "address" and case["community"] == top["community"]["code"]


def test_a_name_two_communities_share_offers_both_and_chooses_none(
    client: TestClient, conn: Connection
) -> None:
    name = conn.execute(
        text("SELECT name FROM places GROUP BY name HAVING count(*) > 1 ORDER BY name LIMIT 1")
    ).scalar_one()
    answer = _geocode(client, name)
    assert answer["ambiguous"] is True and answer["trusted"] is False
    assert len(answer["results"]) >= 2 and {r["match"] for r in answer["results"]} == {"exact"}
    assert len({r["community"]["code"] for r in answer["results"]}) >= 2
    case = _file(client, name)
    assert case["located_by"] == "needs_location" and case["unit"] == "370203"
    assert "places of this name" in case["location_note"]


def test_the_grid_workers_phone_is_for_dispatchers(client: TestClient, accounts: dict[str, Any]) -> None:
    params = {"lon": 120.36, "lat": 36.085}
    public = client.get("/api/locate", params=params).json()["grid"]["worker"]
    staff = client.get("/api/locate", params=params, headers=accounts["disp1"]).json()["grid"]["worker"]
    assert "phone" not in public or public["phone"] is None
    assert staff["name"] == public["name"] and staff["phone"] and staff["phone"][0] == "1"


def test_nearby_open_cases_of_every_category(client: TestClient, conn: Connection) -> None:
    lon, lat, number = conn.execute(
        text(
            "SELECT ST_X(point), ST_Y(point), number FROM incidents "
            "WHERE status IN ('received', 'registered', 'dispatched', 'in_progress') AND point IS NOT NULL "
            "ORDER BY id LIMIT 1"
        )
    ).one()
    plain = client.get("/api/locate", params={"lon": lon, "lat": lat}).json()
    assert plain["nearby_incidents"] == []  # plain locate stays SQL-free
    near = client.get("/api/locate", params={"lon": lon, "lat": lat, "nearby": "true"}).json()
    assert number in [c["number"] for c in near["nearby_incidents"]]

"""Parking projects: 瑞岛路地下停车场's published figures and placement, the generated car parks."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from geo.errors import InvalidInput
from layers.assets import store

RUIDAO = "3702030201000001"


def test_ruidao_has_its_published_figures(client: TestClient) -> None:
    props = client.get(f"/api/assets/{RUIDAO}").json()["properties"]
    a = props["attributes"]
    assert props["name"] == "瑞岛路地下停车场"
    assert (a["spaces"], a["ev_spaces"]) == (669, 134) and round(a["ev_spaces"] / a["spaces"], 3) == 0.2
    assert (a["site_area_m2"], a["floor_area_m2"], a["garage_area_m2"], a["commercial_area_m2"]) == (
        40_100,
        29_400,
        23_400,
        5_800,
    )
    assert a["investment_cny"] == 355_000_000 and a["progress_pct"] == 70
    assert a["status"] == "under_construction" and a["due_date"] == "2026-12-31"
    assert a["start_date"].startswith("2025-10")


def test_ruidao_sits_where_it_is_described(conn: Connection, demo: int) -> None:
    site_m2, shore_m, south, east = conn.execute(
        text(
            "SELECT ST_Area(a.site::geography), "
            "ST_Distance(a.site::geography, ST_Boundary(d.geom)::geography), "
            "ST_YMin(a.site), ST_XMax(a.site) "
            "FROM assets a, areas d JOIN generations g ON g.id = d.generation AND g.status = 'active' "
            "WHERE a.id = :id AND d.level = 'district'"
        ),
        {"id": RUIDAO},
    ).one()
    assert site_m2 == pytest.approx(40_100, rel=0.01)
    assert shore_m < 100  # by Jiaozhou Bay
    ruidao_north = conn.execute(
        text(
            "SELECT max(ST_Y(geom)) FROM addresses WHERE road = '瑞岛路' AND building = '' "
            "AND ST_X(geom) BETWEEN :w AND :e"
        ),
        {"w": east - 200, "e": east},
    ).scalar()
    ruihu_west = conn.execute(
        text("SELECT min(ST_X(geom)) FROM addresses WHERE road = '瑞湖路' AND building = ''")
    ).scalar()
    assert ruidao_north < south  # north of 瑞岛路
    assert ruihu_west > east  # west of 瑞湖路


def test_generated_car_parks(conn: Connection, demo: int) -> None:
    rows = (
        conn.execute(
            text("SELECT attributes FROM assets WHERE kind = 'parking' AND id <> :id"), {"id": RUIDAO}
        )
        .scalars()
        .all()
    )
    assert len(rows) >= 40
    statuses = {r["status"] for r in rows}
    assert statuses == {"operating", "under_construction", "planned"}
    assert all(r["ev_spaces"] <= r["spaces"] for r in rows)
    sizes = sorted(r["spaces"] for r in rows)
    assert sizes[0] < 100 and sizes[-1] > 300  # small surface lots to large garages
    outside = conn.execute(
        text("SELECT count(*) FROM assets WHERE kind = 'parking' AND micro_grid IS NULL")
    ).scalar()
    assert outside == 0


def test_ev_spaces_beyond_spaces_are_refused(conn: Connection) -> None:
    record = store.AssetRecord(
        id="3702030201900001",
        kind="parking",
        name="x",
        lon=120.36,
        lat=36.1,
        attributes={
            "status": "planned",
            "progress_pct": 0,
            "structure": "surface",
            "spaces": 10,
            "ev_spaces": 11,
        },
    )
    with pytest.raises(InvalidInput, match=r"EV spaces \(11\) exceed spaces \(10\)") as info:
        store.write_assets(conn, [record], "370203")
    assert info.value.field == "attributes.ev_spaces"


def test_parking_collection(client: TestClient) -> None:
    body = client.get(
        "/collections/parking/items", params={"status": "under_construction", "limit": 100}
    ).json()
    ids = [f["id"] for f in body["features"]]
    assert RUIDAO in ids
    ruidao = next(f for f in body["features"] if f["id"] == RUIDAO)
    assert ruidao["geometry"]["type"] == "MultiPolygon" and ruidao["properties"]["spaces"] == 669


def test_generated_car_parks_are_honest_about_ev_charging(conn: Connection, demo: int) -> None:
    """Most car parks built before 2018 have no charging spaces; new ones nearly all do."""
    rows = conn.execute(
        text("SELECT attributes FROM assets WHERE kind = 'parking' AND id <> :id"), {"id": RUIDAO}
    ).scalars()
    by_age: dict[bool, list[int]] = {True: [], False: []}
    for r in rows:
        by_age[r["start_date"] < "2018-01-01"].append(r["ev_spaces"])
    old, new = by_age[True], by_age[False]
    assert sum(e > 0 for e in old) < len(old) / 2
    assert sum(e > 0 for e in new) > len(new) / 2
    assert 0 < sum(e == 0 for e in old + new) < len(old + new)

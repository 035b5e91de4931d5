"""Assets: component IDs, checked writes, location by the database, nearest in metres, the API."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from geo.errors import Conflict, InvalidInput
from layers.assets import store
from layers.assets.kinds import parse_asset_id
from layers.grid import areas

GOOD = {
    "material": "ductile_iron",
    "shape": "round",
    "size_mm": 700,
    "load_class": "D400",
    "setting": "carriageway",
    "owner": "排水管理单位",
    "maintainer": "市政养护单位",
}
LON, LAT = 120.36, 36.10


def _cover(asset_id: str, **changes: object) -> store.AssetRecord:
    fields = {"lon": LON, "lat": LAT, "attributes": dict(GOOD)}
    fields.update(changes)
    return store.AssetRecord(id=asset_id, kind=str(fields.pop("kind", "manhole_cover")), name="", **fields)


@pytest.mark.parametrize(
    ("asset_id", "message"),
    [
        ("370203010200012", "16 digits"),
        ("370203010200012x", "16 digits"),
        ("3702040102000123", "district 370204"),
        ("3702030102000000", "serial 000000"),
        ("3702030199000001", "class 01 subclass 99"),
        ("3702030501000001", "class 05 subclass 01"),
        ("3702030201000001", "is a parking ID, not a manhole_cover"),
    ],
)
def test_malformed_ids_are_refused_with_the_reason(conn: Connection, asset_id: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        store.write_assets(conn, [_cover(asset_id)], "370203")


def test_attributes_are_checked(conn: Connection) -> None:
    with pytest.raises(InvalidInput, match="attribute colour: Extra inputs are not permitted"):
        store.write_assets(conn, [_cover("3702030102900001", attributes={**GOOD, "colour": "red"})], "370203")
    with pytest.raises(InvalidInput, match="attribute status"):
        store.write_assets(
            conn, [_cover("3702030102900001", attributes={**GOOD, "status": "fine"})], "370203"
        )
    with pytest.raises(InvalidInput, match="unknown asset kind 'hydrant'"):
        store.write_assets(conn, [_cover("3702030102900001", kind="hydrant")], "370203")


def test_ids_are_unique(conn: Connection, demo: int) -> None:
    existing = conn.execute(text("SELECT id FROM assets LIMIT 1")).scalar_one()
    with pytest.raises(Conflict, match=f"asset {existing} exists already"):
        store.write_assets(conn, [_cover(existing)], "370203")
    with pytest.raises(Conflict, match="appears twice"):
        store.write_assets(conn, [_cover("3702030102900001"), _cover("3702030102900001")], "370203")


def test_parse() -> None:
    parsed = parse_asset_id("3702030102000123")
    assert (parsed.district, parsed.major, parsed.sub, parsed.serial) == ("370203", "01", "02", "000123")


def test_every_reference_cover_is_located_as_postgis_says(conn: Connection, demo: int) -> None:
    total, located, wrong = conn.execute(
        text(
            "SELECT count(*), count(micro_grid), count(*) FILTER (WHERE micro_grid IS DISTINCT FROM ("
            "  SELECT min(a.code) FROM areas a WHERE a.generation = s.generation AND a.level = 'micro_grid' "
            "  AND ST_Covers(a.geom, s.point))) FROM assets s WHERE kind = 'manhole_cover'"
        )
    ).one()
    assert 25_000 <= total <= 35_000 and located == total and wrong == 0
    kinds = dict(conn.execute(text("SELECT subclass, count(*) FROM assets GROUP BY subclass")).all())
    assert kinds["0102"] > kinds["0111"] > 0 and len(kinds) >= 10  # sewage common, gas rarer, a real mix


def test_location_on_write_and_outside_is_null(conn: Connection, demo: int) -> None:
    store.write_assets(conn, [_cover("3702030102900001"), _cover("3702030102900002", lon=120.2)], "370203")
    rows = dict(
        conn.execute(text("SELECT id, micro_grid FROM assets WHERE id LIKE '370203010290000%'")).all()
    )
    expected = conn.execute(
        text(
            "SELECT min(code) FROM areas WHERE generation = :g AND level = 'micro_grid' "
            "AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
        ),
        {"g": demo, "x": LON, "y": LAT},
    ).scalar()
    assert rows == {"3702030102900001": expected, "3702030102900002": None}


def test_relocated_when_another_generation_becomes_active(conn: Connection, demo: int) -> None:
    asset_id, micro = conn.execute(text("SELECT id, micro_grid FROM assets ORDER BY id LIMIT 1")).one()
    conn.execute(text("INSERT INTO generations (id, label) VALUES (991, 'redrawn')"))
    conn.execute(
        text(
            "INSERT INTO areas (generation, code, level, name, parent_code, geom) "
            "SELECT 991, code, level, name, parent_code, geom FROM areas WHERE generation = :g AND code <> :m"
        ),
        {"g": demo, "m": micro},
    )
    areas.activate(conn, 991)
    generation, now = conn.execute(
        text("SELECT generation, micro_grid FROM assets WHERE id = :i"), {"i": asset_id}
    ).one()
    assert generation == 991 and now is None  # its micro-grid is gone in the new generation
    assert conn.execute(text("SELECT count(*) FROM assets WHERE generation <> 991")).scalar_one() == 0


def test_nearest_equals_brute_force_in_metres(conn: Connection, demo: int) -> None:
    rng = np.random.default_rng(4)
    for x, y in zip(rng.uniform(120.31, 120.42, 15), rng.uniform(36.07, 36.15, 15), strict=True):
        got = store.nearest(conn, float(x), float(y), kind="manhole_cover", k=5, radius_m=300)
        brute = conn.execute(
            text(
                "SELECT id, ST_Distance(point::geography, "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) AS m "
                "FROM assets WHERE kind = 'manhole_cover' ORDER BY m, id LIMIT 5"
            ),
            {"x": x, "y": y},
        ).all()
        expected = [(i, m) for i, m in brute if m <= 300]
        assert [r["id"] for r in got] == [i for i, _ in expected]
        assert [r["distance_m"] for r in got] == pytest.approx([m for _, m in expected])


def test_asset_api(client: TestClient) -> None:
    feature = client.get("/api/assets/3702030102000123").json()
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    props = feature["properties"]
    assert props["kind"] == "manhole_cover" and props["subclass_name"] == "污水"
    assert props["areas"]["micro_grid"]["code"] == props["micro_grid"]
    assert props["areas"]["grid"]["worker"]["name"] and props["attributes"]["owner"]
    assert client.get("/api/assets/123").json()["error"]["field"] == "asset_id"
    assert client.get("/api/assets/3702030102999999").status_code == 404
    near = client.get("/api/assets/nearest", params={"lon": LON, "lat": LAT, "k": 3}).json()["results"]
    assert len(near) == 3 and near[0]["distance_m"] <= near[1]["distance_m"] <= near[2]["distance_m"]
    assert (
        client.get("/api/assets/nearest", params={"lon": LON, "lat": LAT, "kind": "ufo"}).status_code == 422
    )
    assert (
        client.get("/api/assets/nearest", params={"lon": LON, "lat": LAT, "radius_m": 0}).status_code == 422
    )


def test_locate_names_the_nearest_cover(client: TestClient) -> None:
    body = client.get("/api/locate", params={"lon": LON, "lat": LAT}).json()
    near = client.get("/api/assets/nearest", params={"lon": LON, "lat": LAT, "k": 1}).json()["results"][0]
    assert body["nearest_assets"][0]["id"] == near["id"]
    assert body["nearest_assets"][0]["distance_m"] == near["distance_m"]


def test_locate_sees_a_new_asset_within_a_second(client: TestClient, engine: Engine) -> None:
    import time

    lon, lat = 120.36311, 36.08907
    before = client.get("/api/locate", params={"lon": lon, "lat": lat}).json()["nearest_assets"]
    with engine.begin() as conn:
        cover = store.AssetRecord(
            "3702030102999991", "manhole_cover", "", lon + 2e-5, lat,
            {"material": "composite", "shape": "round", "size_mm": 600, "load_class": "B125",
             "setting": "sidewalk", "owner": "排水管理单位", "maintainer": "市政养护单位"},
        )  # fmt: skip
        store.write_assets(conn, [cover], "370203")
    try:
        time.sleep(1.2)  # WANGGE_INDEX_CHECK_S
        after = client.get("/api/locate", params={"lon": lon, "lat": lat}).json()["nearest_assets"]
        assert after[0]["id"] == "3702030102999991" and after[0]["distance_m"] == pytest.approx(1.8, abs=0.1)
        assert after != before
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM assets WHERE id = '3702030102999991'"))

"""A city, not a district: 市南区 loaded beside 市北区 in one database (issue 18, part 1).

Its own database in the session's cluster: a copy of the session's (Shibei as every session
has it), then ``load_reference(code="370202")`` as ``wangge demo load --district 370202``
does; the answers per district and for the city, the shared border, and what is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from api.app import create_app
from api.db import scratch_database
from api.settings import Settings
from geo.errors import InvalidGeometry, InvalidInput
from layers.cases.intake import chain_of
from layers.grid import areas
from layers.grid.areas import AreaRecord
from layers.grid.index import AreaIndex
from layers.grid.validate import check_generation
from layers.io.imports import loaded_district
from layers.reference.district import boundary_wgs84
from layers.reference.load import load_reference
from tests.conftest import AS_OF, rolled_back

SHINAN, SHIBEI = "370202", "370203"


@pytest.fixture(scope="module")
def city(test_settings: Settings, demo_template: str) -> Iterator[tuple[Settings, Engine]]:
    """A database holding both districts (and the settings that reach it): a copy of the
    session's, Shibei as every session has it, then 市南区 loaded beside it."""
    with scratch_database(test_settings, "wangge_city", template=demo_template) as (settings, engine):
        with engine.begin() as conn:
            load_reference(conn, settings.demo_seed, code=SHINAN, as_of=AS_OF)
        yield settings, engine


@pytest.fixture
def city_conn(city: tuple[Settings, Engine]) -> Iterator[Connection]:
    with rolled_back(city[1]) as connection:
        yield connection


@pytest.fixture(scope="module")
def index(city: tuple[Settings, Engine]) -> AreaIndex:
    with city[1].connect() as conn:
        return AreaIndex(conn, areas.require_active(conn))


@pytest.fixture(scope="module")
def http(city: tuple[Settings, Engine]) -> Iterator[TestClient]:
    with TestClient(create_app(city[0])) as c:
        yield c


def test_both_districts_live_in_one_generation_that_tiles(city_conn: Connection) -> None:
    generation = areas.require_active(city_conn)
    assert sorted(areas.codes(city_conn, generation, "district")) == [SHINAN, SHIBEI]
    assert areas.count_by_level(city_conn, generation, under=SHIBEI) == {
        "district": 1, "street": 22, "community": 137, "grid": 940, "micro_grid": 7_082,
    }  # fmt: skip
    assert areas.count_by_level(city_conn, generation, under=SHINAN) == {
        "district": 1, "street": 11, "community": 50, "grid": 520, "micro_grid": 3_900,
    }  # fmt: skip
    assert check_generation(city_conn, generation) == []
    names = dict(
        city_conn.execute(text("SELECT code, name FROM areas WHERE generation = :g"), {"g": generation}).all()
    )
    assert names[SHINAN] == "市南区" and names["370202001"] == "香港中路街道"
    per_district = dict(
        city_conn.execute(text("SELECT left(street, 6), count(*) FROM incidents GROUP BY 1")).all()
    )
    assert per_district[SHIBEI] > 60_000 and 30_000 < per_district[SHINAN] < 40_000
    assets = dict(city_conn.execute(text("SELECT left(id, 6), count(*) FROM assets GROUP BY 1")).all())
    assert assets[SHINAN] > 10_000 and assets[SHIBEI] > 25_000
    # every 市南 asset lies in a 市南 micro-grid (located by the trigger)
    strays = city_conn.execute(
        text("SELECT count(*) FROM assets WHERE id LIKE '370202%' AND micro_grid NOT LIKE '370202%'")
    ).scalar()
    assert strays == 0


def test_loading_again_skips_and_an_unknown_district_is_refused(city_conn: Connection) -> None:
    again = load_reference(city_conn, 20240601, code=SHINAN, as_of=AS_OF)
    assert again.skipped and again.counts["micro_grid"] == 3_900
    with pytest.raises(InvalidInput, match="370299 is not in the reference data"):
        load_reference(city_conn, 20240601, code="370299")


def _shared_vertices() -> np.ndarray:
    a = shapely.get_coordinates(boundary_wgs84(SHINAN))
    b = {tuple(p) for p in shapely.get_coordinates(boundary_wgs84(SHIBEI)).tolist()}
    return np.array([p for p in a.tolist() if tuple(p) in b])


def test_points_in_each_district_and_on_their_border(city_conn: Connection, index: AreaIndex) -> None:
    generation = areas.require_active(city_conn)
    inner = {
        code: shapely.get_coordinates(shapely.point_on_surface(boundary_wgs84(code)))[0]
        for code in (SHINAN, SHIBEI)
    }
    for code, (lon, lat) in inner.items():
        found = index.locate(np.array([lon]), np.array([lat]))
        assert found.inside[0] and index.codes[int(found.index[0])].startswith(code)
    shared = _shared_vertices()
    assert len(shared) > 50  # the Amap boundaries share their common edge vertex for vertex
    # on the border the index answers exactly one micro-grid: the lowest code covering it,
    # as PostGIS says (ST_Covers on the stored, snapped geometry)
    pts = shared[:: max(1, len(shared) // 60)]
    answer = index.locate(pts[:, 0].copy(), pts[:, 1].copy())
    sql = city_conn.execute(
        text(
            "SELECT (SELECT min(code) FROM areas WHERE generation = :g AND level = 'micro_grid' "
            "AND ST_Covers(geom, ST_SetSRID(ST_Point(x, y), 4326))) "
            "FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS p(x, y, n) "
            "ORDER BY n"
        ),
        {"g": generation, "xs": pts[:, 0].tolist(), "ys": pts[:, 1].tolist()},
    ).scalars().all()  # fmt: skip
    ours = [
        index.codes[int(i)] if inside else None for i, inside in zip(answer.index, answer.inside, strict=True)
    ]
    assert ours == sql
    assert {c[:6] for c in ours if c} <= {SHINAN, SHIBEI}
    assert SHINAN in {c[:6] for c in ours if c}  # on the shared edge the lower code, 市南区, wins


def test_routing_knows_the_district_of_a_point(index: AreaIndex) -> None:
    (lon, lat) = shapely.get_coordinates(shapely.point_on_surface(boundary_wgs84(SHINAN)))[0]
    chain, note = chain_of(index, float(lon), float(lat))
    assert chain.district == SHINAN and chain.street and chain.street.startswith(SHINAN) and note is None
    # out at sea south of 市南区: the district of the nearest micro-grid, never Shibei by default
    chain, note = chain_of(index, 120.36, 36.03)
    assert chain.district == SHINAN and chain.street is None and note and "outside every grid" in note
    # nothing to place it by: the city's desk, no district guessed
    assert chain_of(index, None, None)[0].district == "370200"


def test_the_api_answers_per_district_and_for_the_city(http: TestClient) -> None:
    districts = http.get("/collections/districts/items").json()
    assert [f["properties"]["code"] for f in districts["features"]] == [SHINAN, SHIBEI]
    shinan = http.get("/collections/micro_grids/items", params={"district": SHINAN, "limit": 1}).json()
    city = http.get("/collections/micro_grids/items", params={"limit": 1}).json()
    assert shinan["numberMatched"] == 3_900 and city["numberMatched"] == 10_982
    covers = http.get("/collections/manhole_covers/items", params={"district": SHINAN, "limit": 5}).json()
    assert covers["features"] and all(f["id"].startswith(SHINAN) for f in covers["features"])
    (lon, lat) = shapely.get_coordinates(shapely.point_on_surface(boundary_wgs84(SHINAN)))[0]
    located = http.get("/api/locate", params={"lon": lon, "lat": lat}).json()
    assert located["district"] == {"code": SHINAN, "name": "市南区"}
    trends = http.get("/api/analytics/trends", params={"by": "street", "month": "2026-10", "area": SHINAN})
    assert trends.status_code == 200
    streets = {r["street"] for r in trends.json()["results"]}
    assert streets and all(s.startswith(SHINAN) for s in streets)
    whole = http.get("/api/analytics/trends", params={"by": "street", "month": "2026-10"}).json()
    assert {r["street"][:6] for r in whole["results"] if r["street"]} == {SHINAN, SHIBEI}
    hot = http.get("/api/analytics/hotspots", params={"area": SHINAN, "res": 9})
    assert hot.status_code == 200 and hot.json()["features"]


def test_geocoding_keeps_the_districts_apart(http: TestClient) -> None:
    both = http.get("/api/geocode", params={"q": "宁夏路10号"}).json()  # 宁夏路 runs through both
    assert both["ambiguous"] and not both["trusted"]
    assert {r["address"] for r in both["results"][:2]} == {"市南区宁夏路10号", "市北区宁夏路10号"}
    named = http.get("/api/geocode", params={"q": "青岛市市南区宁夏路10号"}).json()
    assert named["trusted"] and named["results"][0]["address"] == "市南区宁夏路10号"
    elsewhere = http.get("/api/geocode", params={"q": "崂山区香港东路10号"}).json()
    assert elsewhere["outside"] and not elsewhere["results"]


def test_imports_must_name_their_district_in_a_city(city_conn: Connection) -> None:
    with pytest.raises(InvalidInput, match=r"several districts are loaded .*--district") as caught:
        loaded_district(city_conn, None)
    assert caught.value.field == "district"
    with pytest.raises(InvalidInput, match="370211 is not loaded"):
        loaded_district(city_conn, "370211")
    assert loaded_district(city_conn, SHINAN) == SHINAN


def test_districts_that_overlap_are_refused(city_conn: Connection) -> None:
    square = shapely.MultiPolygon([shapely.box(120.30, 36.05, 120.32, 36.07)])
    shifted = shapely.MultiPolygon([shapely.box(120.31, 36.05, 120.33, 36.07)])
    draft = areas.create_generation(city_conn, "overlapping districts", source="test")
    areas.write_areas(
        city_conn,
        draft,
        [
            AreaRecord(SHINAN, "district", "市南区", None, square),
            AreaRecord(SHIBEI, "district", "市北区", None, shifted),
        ],
    )
    problems = check_generation(city_conn, draft)
    assert any(p.code == SHINAN and f"overlaps its sibling {SHIBEI}" in p.reason for p in problems)


def test_a_generated_district_that_overlaps_one_loaded_is_not_activated(
    city_conn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layers.reference import district, load

    real = district.boundary_wgs84

    def wider(code: str = district.DISTRICT_CODE) -> Any:  # 市南区 grown 300 m into 市北区
        return shapely.MultiPolygon([real(code).buffer(0.003)]) if code == SHINAN else real(code)

    monkeypatch.setattr(district, "boundary_wgs84", wider)
    before = areas.require_active(city_conn)
    with pytest.raises(InvalidGeometry, match=rf"{SHINAN} does not fit: .*overlaps its sibling {SHIBEI}"):
        load.load_reference(city_conn, 20240601, code=SHINAN, force=True, as_of=AS_OF)
    assert areas.require_active(city_conn) == before


def test_the_map_switches_district(city: tuple[Settings, Engine], browser: Any, artifacts: Path) -> None:
    from bench.server import uvicorn_server

    settings = city[0]
    env = {"DATABASE_URL": settings.sqlalchemy_url(), "WANGGE_PHOTO_DIR": str(settings.photo_root)}
    with uvicorn_server(env) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/")
        page.wait_for_selector("#district option:nth-child(3)", state="attached")
        options = page.eval_on_selector_all("#district option", "os => os.map(o => o.textContent)")
        assert options == ["全市", "市南区 370202", "市北区 370203"]
        page.select_option("#district", SHINAN)
        page.wait_for_timeout(1500)  # the fit's animation, then the URL's state
        assert "d=370202" in page.evaluate("location.hash")
        lat, lon = (
            float(v) for v in page.evaluate("new URLSearchParams(location.hash.slice(1)).get('c')").split(",")
        )
        x0, y0, x1, y1 = boundary_wgs84(SHINAN).bounds
        assert x0 < lon < x1 and y0 < lat < y1  # the map went to 市南区
        page.screenshot(path=str(artifacts / "city_switcher_shinan.png"))
        page.select_option("#district", "")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(artifacts / "city_switcher_city.png"))
        page.close()
        assert errors == []


def test_kpis_per_district_and_of_one(http: TestClient) -> None:
    by_district = http.get("/api/stats/kpi", params={"by": "district", "month": "2026-10"}).json()
    rows = {r["district"]: r for r in by_district["results"] if r["district"]}
    assert set(rows) == {SHINAN, SHIBEI} and rows[SHINAN]["name"] == "市南区"
    assert rows[SHINAN]["received"] < rows[SHIBEI]["received"]
    one = http.get("/api/stats/kpi", params={"by": "street", "month": "2026-10", "area": SHINAN}).json()
    assert {r["street"][:6] for r in one["results"]} == {SHINAN}
    assert sum(r["received"] for r in one["results"]) == rows[SHINAN]["received"]
    assert http.get("/api/stats/kpi", params={"area": "370211"}).status_code == 400


def _areas_file(conn: Connection, path: Path, level: str, where: str) -> Path:
    rows = conn.execute(
        text(
            "SELECT json_build_object('type', 'FeatureCollection', 'features', json_agg(json_build_object("
            "'type', 'Feature', 'properties', json_build_object('code', code, 'name', name), "
            "'geometry', ST_AsGeoJSON(geom, 15)::json) ORDER BY code)) FROM areas "
            f"WHERE generation = :g AND level = :level AND {where}"
        ),
        {"g": areas.require_active(conn), "level": level},
    ).scalar_one()
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_districts_layer_is_imported_beside_the_others(city_conn: Connection, tmp_path: Path) -> None:
    from layers.io.area_files import ImportProblems
    from layers.io.imports import import_file

    mixed = _areas_file(
        city_conn,
        tmp_path / "mixed.geojson",
        "micro_grid",
        "code IN ('370202001001001001', '370203005001001001')",
    )
    with pytest.raises(ImportProblems) as caught:
        import_file(city_conn, "micro_grids", mixed, district=SHINAN)
    assert [str(p) for p in caught.value.problems] == ["row 2: is not in district 370202"]
    shinan = _areas_file(city_conn, tmp_path / "shinan.geojson", "micro_grid", "code LIKE '370202%'")
    done = import_file(city_conn, "micro_grids", shinan, district=SHINAN)
    assert done.count == 3_900 and done.generation is not None
    assert areas.count_by_level(city_conn, done.generation) == {
        "district": 2, "street": 33, "community": 187, "grid": 1_460, "micro_grid": 10_982,
    }  # fmt: skip
    assert check_generation(city_conn, done.generation) == []
    # a district's grids, then its micro-grids into the same draft, as a steward does it
    grids = _areas_file(city_conn, tmp_path / "grids.geojson", "grid", "code LIKE '370202%'")
    draft = import_file(city_conn, "grids", grids, district=SHINAN).generation
    assert draft is not None and areas.count_by_level(city_conn, draft, under=SHIBEI)["micro_grid"] == 7_082
    assert areas.count_by_level(city_conn, draft, under=SHINAN)["micro_grid"] == 0
    import_file(city_conn, "micro_grids", shinan, district=SHINAN, generation=draft)
    assert areas.count_by_level(city_conn, draft)["micro_grid"] == 10_982
    assert check_generation(city_conn, draft) == []

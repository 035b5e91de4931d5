"""Vector tiles: decoded, checked against locate, cached with ETags and invalidated on change."""

from __future__ import annotations

import math
import time

import mapbox_vector_tile
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape
from sqlalchemy import Engine, text

POINT = (120.36, 36.085)  # a point inside the district (WGS84), in 内蒙古路社区
MVT = "application/vnd.mapbox-vector-tile"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, float, float]:
    """The tile holding the point, and the point's position in it (0–4096, y down)."""
    n = 2**z
    fx = (lon + 180) / 360 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int(fx), int(fy), (fx % 1) * 4096, (fy % 1) * 4096


def decode(body: bytes) -> dict:
    return mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})


def test_a_micro_grid_tile_holds_the_located_micro_grid_where_the_point_is(client: TestClient) -> None:
    located = client.get("/api/locate", params={"lon": POINT[0], "lat": POINT[1]}).json()
    assert located["inside"]
    for z in (14, 15, 16):
        x, y, px, py = tile_of(*POINT, z)
        answer = client.get(f"/tiles/micro_grids/{z}/{x}/{y}.mvt")
        assert answer.status_code == 200 and answer.headers["content-type"] == MVT
        layer = decode(answer.content)["micro_grids"]
        assert layer["extent"] == 4096
        under = [
            f["properties"]["code"] for f in layer["features"] if shape(f["geometry"]).covers(Point(px, py))
        ]
        assert under == [located["micro_grid"]["code"]], z


def test_levels_by_zoom_and_only_public_properties(client: TestClient) -> None:
    x, y, _, _ = tile_of(*POINT, 12)
    streets = decode(client.get(f"/tiles/streets/12/{x}/{y}.mvt").content)["streets"]["features"]
    assert {len(f["properties"]["code"]) for f in streets} == {9}
    assert client.get(f"/tiles/micro_grids/11/{x // 2}/{y // 2}.mvt").content == b""  # below its zoom range
    x, y, _, _ = tile_of(*POINT, 15)
    grids = decode(client.get(f"/tiles/grids/15/{x}/{y}.mvt").content)["grids"]["features"]
    assert grids and all(set(f["properties"]) <= {"code", "name", "worker"} for f in grids)
    x, y, _, _ = tile_of(*POINT, 17)
    covers = decode(client.get(f"/tiles/manhole_covers/17/{x}/{y}.mvt").content)["manhole_covers"]["features"]
    assert covers and all(len(f["properties"]["id"]) == 16 and f["properties"]["status"] for f in covers)
    listing = client.get("/tiles").json()["tilesets"]
    assert [t["id"] for t in listing][:4] == ["streets", "communities", "grids", "micro_grids"]


def test_low_zoom_polygons_are_simplified(client: TestClient, engine: Engine) -> None:
    z = 12
    x, y, _, _ = tile_of(*POINT, z)
    features = decode(client.get(f"/tiles/streets/{z}/{x}/{y}.mvt").content)["streets"]["features"]
    in_tile = sum(
        shape(f["geometry"]).normalize().exterior.coords.__len__()
        for f in features
        if f["geometry"]["type"] == "Polygon"
    )
    codes = [f["properties"]["code"] for f in features if f["geometry"]["type"] == "Polygon"]
    with engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT sum(ST_NPoints(geom)) FROM areas a JOIN generations g ON g.id = a.generation "
                "AND g.status = 'active' WHERE code = ANY(:codes)"
            ),
            {"codes": codes},
        ).scalar_one()
    assert codes and 0 < in_tile < stored / 2  # half a pixel's tolerance drops most vertices at z12


def test_etag_and_cache_control_and_304(client: TestClient) -> None:
    x, y, _, _ = tile_of(*POINT, 16)
    first = client.get(f"/tiles/micro_grids/16/{x}/{y}.mvt")
    etag = first.headers["etag"]
    assert etag.startswith('"') and "max-age" in first.headers["cache-control"]
    again = client.get(f"/tiles/micro_grids/16/{x}/{y}.mvt")
    assert again.headers["etag"] == etag and again.content == first.content
    not_modified = client.get(f"/tiles/micro_grids/16/{x}/{y}.mvt", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""


def _set_status(engine: Engine, asset_id: str, status: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE assets SET attributes = attributes || jsonb_build_object('status', CAST(:s AS text))"
                " WHERE id = :id"
            ),
            {"s": status, "id": asset_id},
        )


def test_a_changed_asset_is_in_the_next_tile(client: TestClient, engine: Engine) -> None:
    x, y, _, _ = tile_of(*POINT, 17)
    url = f"/tiles/manhole_covers/17/{x}/{y}.mvt"
    before = decode(client.get(url).content)["manhole_covers"]["features"]
    cover = before[0]["properties"]["id"]
    status = before[0]["properties"]["status"]
    new = "missing" if status != "missing" else "normal"
    _set_status(engine, cover, new)
    try:
        deadline = time.monotonic() + 5  # the cache looks at the versions every index_check_s (1 s)
        seen = status
        while seen != new and time.monotonic() < deadline:
            time.sleep(0.2)
            features = decode(client.get(url).content)["manhole_covers"]["features"]
            seen = next(f["properties"]["status"] for f in features if f["properties"]["id"] == cover)
        assert seen == new
    finally:
        _set_status(engine, cover, status)


def test_bad_tile_addresses_are_named(client: TestClient) -> None:
    unknown = client.get("/tiles/rivers/14/1/1.mvt")
    assert unknown.status_code == 404 and "micro_grids" in unknown.json()["error"]["message"]
    outside = client.get("/tiles/streets/3/8/1.mvt")
    assert outside.status_code == 400 and outside.json()["error"]["field"] == "x"
    assert client.get("/tiles/streets/23/0/0.mvt").status_code == 422
    assert client.get("/tiles/streets/1/0/-1.mvt").status_code == 422

"""OGC API – Features as QGIS and OWSLib read it, and /api/areas."""

from __future__ import annotations

import json
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"


def test_root_negotiates(client: TestClient) -> None:
    landing = client.get("/", headers={"Accept": "application/json"})
    assert landing.status_code == 200
    rels = {link["rel"]: link["href"] for link in landing.json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["data"].endswith("/collections")
    assert client.get("/").json()["links"]  # no Accept header: JSON
    assert client.get("/?f=json", headers={"Accept": "text/html"}).json()["links"]
    html = client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert html.headers["content-type"].startswith("text/html")
    assert "generated" in html.text


def test_conformance_declares_core_and_geojson(client: TestClient) -> None:
    conforms = client.get("/conformance").json()["conformsTo"]
    assert CORE in conforms and GEOJSON in conforms


def test_collections_list_the_grid_layers_with_extent(client: TestClient) -> None:
    body = client.get("/collections").json()
    by_id = {c["id"]: c for c in body["collections"]}
    assert {"streets", "communities", "grids", "micro_grids"} <= set(by_id)
    grids = by_id["grids"]
    x0, y0, x1, y1 = grids["extent"]["spatial"]["bbox"][0]
    assert 120.29 < x0 < x1 < 120.44 and 36.06 < y0 < y1 < 36.17
    assert any(link["rel"] == "items" and link["type"] == "application/geo+json" for link in grids["links"])
    assert client.get("/collections/micro_grids").json()["id"] == "micro_grids"


def test_items_page_with_links_and_counts(client: TestClient) -> None:
    r = client.get("/collections/micro_grids/items", params={"limit": 50})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 7082 and body["numberReturned"] == 50
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert "next" in rels and "prev" not in rels
    second = client.get(rels["next"]).json()
    assert second["numberReturned"] == 50
    assert second["features"][0]["id"] > body["features"][-1]["id"]
    last = client.get("/collections/micro_grids/items", params={"limit": 50, "offset": 7050}).json()
    assert last["numberReturned"] == 32
    assert "next" not in {link["rel"] for link in last["links"]}


def test_items_bbox_and_parent_filters(client: TestClient) -> None:
    bbox = "120.36,36.09,120.37,36.10"
    body = client.get("/collections/grids/items", params={"bbox": bbox, "limit": 1000}).json()
    assert 0 < body["numberMatched"] < 940
    for f in body["features"]:
        xs = [c[0] for poly in f["geometry"]["coordinates"] for ring in poly for c in ring]
        ys = [c[1] for poly in f["geometry"]["coordinates"] for ring in poly for c in ring]
        assert min(xs) <= 120.37 and max(xs) >= 120.36 and min(ys) <= 36.10 and max(ys) >= 36.09
    kids = client.get("/collections/communities/items", params={"parent": "370203020"}).json()
    assert kids["numberMatched"] == 7
    assert all(f["properties"]["parent_code"] == "370203020" for f in kids["features"])


def test_item_by_code_and_no_personal_data(client: TestClient) -> None:
    grid = client.get("/collections/grids/items", params={"limit": 1}).json()["features"][0]
    code = grid["id"]
    one = client.get(f"/collections/grids/items/{code}")
    assert one.status_code == 200
    feature = one.json()
    assert feature["id"] == code and feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"]["worker_name"]
    assert "worker_phone" not in feature["properties"]
    assert "worker_phone" not in client.get("/collections/grids/items", params={"limit": 940}).text


def test_feature_errors(client: TestClient) -> None:
    missing = client.get("/collections/grids/items/370203020009999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.get("/collections/grids/items/370203020").status_code == 404  # a street code
    assert client.get("/collections/nope/items").status_code == 404
    bad = client.get("/collections/grids/items", params={"bbox": "1,2,3"})
    assert bad.status_code in (400, 422) and bad.json()["error"]["field"] == "bbox"
    swapped = client.get("/collections/grids/items", params={"bbox": "120.4,36.1,120.3,36.0"})
    assert swapped.status_code == 400
    assert client.get("/collections/grids/items", params={"limit": 0}).json()["error"]["field"] == "limit"
    assert (
        client.get("/collections/grids/items", params={"parent": "12ab"}).json()["error"]["field"] == "parent"
    )


def test_area_with_chain_children_and_figures(client: TestClient) -> None:
    community = client.get("/api/areas/370203020009").json()
    assert community["name"] == "恩县路社区居委会"
    assert [p["code"] for p in community["parents"]] == ["370203", "370203020"]
    assert community["parents"][1]["name"] == "即墨路街道"
    grid_codes = [c["code"] for c in community["children"]]
    assert grid_codes and all(c.startswith("370203020009") and len(c) == 15 for c in grid_codes)
    assert community["figures"]["households"] > 0 and community["figures"]["area_m2"] > 10_000
    district = client.get("/api/areas/370203", params={"geometry": "false"}).json()["figures"]
    assert district["assets"]["manhole_cover"] > 28_000 and district["assets"]["camera"] == 320
    assert sum(district["open_incidents"].values()) > 0
    assert community["figures"]["assets"]["manhole_cover"] < district["assets"]["manhole_cover"]
    grid = client.get(f"/api/areas/{grid_codes[0]}", params={"geometry": "false"}).json()
    assert grid["grid_worker"]["name"] and grid["geometry"] is None
    assert "phone" not in str(grid)
    assert client.get("/api/areas/12").status_code == 422  # not an area code, by the schema
    assert client.get("/api/areas/370203099").status_code == 404


def test_manhole_covers_collection_with_property_filters(client: TestClient) -> None:
    ids = {c["id"] for c in client.get("/collections").json()["collections"]}
    assert "manhole_covers" in ids
    body = client.get("/collections/manhole_covers/items", params={"limit": 5}).json()
    assert body["numberMatched"] > 25_000 and body["numberReturned"] == 5
    first = body["features"][0]
    assert len(first["id"]) == 16 and first["geometry"]["type"] == "Point"
    assert first["properties"]["owner"] and first["properties"]["material"]  # attributes as columns
    sewage = client.get(
        "/collections/manhole_covers/items", params={"subclass": "0102", "limit": 1000}
    ).json()
    assert sewage["numberMatched"] > 0 and all(
        f["properties"]["subclass"] == "0102" for f in sewage["features"]
    )
    damaged = client.get(
        "/collections/manhole_covers/items", params={"status": "damaged", "limit": 1000}
    ).json()
    assert 0 < damaged["numberMatched"] < 162
    assert all(f["properties"]["status"] == "damaged" for f in damaged["features"])
    in_box = client.get(
        "/collections/manhole_covers/items", params={"bbox": "120.35,36.09,120.36,36.10", "limit": 1000}
    ).json()
    assert all(120.35 <= f["geometry"]["coordinates"][0] <= 120.36 for f in in_box["features"])
    one = client.get(f"/collections/manhole_covers/items/{first['id']}").json()
    assert one["id"] == first["id"]
    assert client.get("/collections/manhole_covers/items/3702030102999999").status_code == 404
    wrong = client.get("/collections/manhole_covers/items", params={"parent": "370203020"})
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "parent"
    assert client.get("/collections/grids/items", params={"status": "x"}).json()["error"]["field"] == "status"


def _served(client: TestClient, collection: str) -> list[Any]:
    """Every geometry of a collection as a GIS client pages through it (7 decimals on the wire)."""
    shapes: list[Any] = []
    body = client.get(f"/collections/{collection}/items", params={"limit": 1000}).json()
    while True:
        shapes += [shapely.from_geojson(json.dumps(f["geometry"])) for f in body["features"]]
        following = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not following:
            return shapes
        body = client.get(following[0]).json()


@pytest.mark.parametrize("collection", ["grids", "micro_grids"])
def test_served_layers_are_valid_coverages_a_gis_can_union(client: TestClient, collection: str) -> None:
    shapes = _served(client, collection)
    assert len(shapes) == {"grids": 940, "micro_grids": 7082}[collection]
    assert all(shapely.is_valid(shapes)), [shapely.is_valid_reason(s) for s in shapes if not s.is_valid][:3]
    assert shapely.coverage_is_valid(shapes)
    union = shapely.union_all(shapes)  # what QGIS's "dissolve" does: failed with a TopologyException
    assert union.area == pytest.approx(sum(s.area for s in shapes), rel=1e-9)  # no overlap anywhere

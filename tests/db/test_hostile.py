"""Hostile input over HTTP: the broken-file corpus, zip tricks, huge geometries, bad encodings and
SQL-injection probes in every filter — each a clean 4xx, nothing written, nothing leaked."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.zoo import CORPUS, Corpus, geojson_file, replace_row

STATE = (
    "SELECT (SELECT count(*) FROM generations), (SELECT count(*) FROM areas), (SELECT count(*) FROM assets)"
)


def _upload(
    client: TestClient, admin: dict[str, str], name: str, content: bytes, collection: str = "grids"
) -> Any:
    return client.post(f"/api/layers/{collection}", files={"file": (name, content)}, headers=admin)


def _state(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(conn.execute(text(STATE)).one())


@pytest.mark.parametrize(("name", "make", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_broken_layer_files_over_http(
    client: TestClient, accounts: dict[str, Any], engine: Engine, grids: list[dict[str, Any]],
    tmp_path: Path, name: str, make: Corpus, expected: tuple[str, ...],
) -> None:  # fmt: skip
    before = _state(engine)
    got = _upload(
        client, accounts["admin1"], "broken.geojson", make(grids, tmp_path / "b.geojson").read_bytes()
    )
    assert got.status_code == 400, got.text
    problems = got.json()["error"]["problems"]
    assert all(any(e in p for p in problems) for e in expected), problems[:5]
    assert _state(engine) == before


def test_zip_tricks_huge_geometries_and_bad_text(
    client: TestClient,
    accounts: dict[str, Any],
    engine: Engine,
    grids: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    admin = accounts["admin1"]
    before = _state(engine)
    for entry in ("../evil.shp", "/abs/evil.shp"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr(entry, b"x")
        got = _upload(client, admin, "evil.zip", buffer.getvalue())
        assert got.status_code == 400 and "unsafe path" in got.json()["error"]["message"]
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.shp", b"\0" * (64 * 1024 * 1024))
    got = _upload(client, admin, "bomb.zip", bomb.getvalue())
    assert got.status_code == 413 and "unpacks to" in got.json()["error"]["message"]
    # a polygon of ~130,000 vertices (the limit is 100,000)
    x0, y0, x1, y1 = grids[4]["geometry"].bounds
    ring = shapely.Polygon(
        shapely.get_coordinates(shapely.box(x0, y0, x1, y1).exterior.segmentize((x1 - x0) / 37_500))
    )
    assert shapely.get_num_coordinates(ring) > 100_000
    huge = geojson_file(tmp_path / "huge.geojson", replace_row(grids, 4, geometry=ring))
    got = _upload(client, admin, "huge.geojson", huge.read_bytes())
    assert got.status_code == 400 and any(
        "the limit is 100,000" in p for p in got.json()["error"]["problems"]
    )
    not_text = b"code,name,wkt\n" + bytes(range(128, 256)) * 10
    got = _upload(client, admin, "garbage.csv", not_text, "manhole_covers")
    assert got.status_code == 400
    truncated = json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature"}]})[:30].encode()
    assert _upload(client, admin, "cut.geojson", truncated).status_code == 400
    assert _upload(client, admin, "x.exe", b"MZ").status_code == 400
    assert _upload(client, accounts["disp1"], "g.geojson", b"{}").status_code == 403
    assert _state(engine) == before


def test_oversized_upload(test_settings: Any, accounts: dict[str, Any], demo: int) -> None:
    from api.app import create_app

    with TestClient(create_app(test_settings.model_copy(update={"max_upload_mb": 1}))) as small:
        got = _upload(small, accounts["admin1"], "big.geojson", b" " * (2 * 1024 * 1024))
        assert got.status_code == 413


PROBES = [
    "' OR '1'='1",
    "1; DROP TABLE incidents; --",
    "370203' UNION SELECT name, phone FROM incident_reporters --",
    "%' OR 1=1 --",
    "\\'; SELECT pg_sleep(5); --",
]
FILTERS = [
    ("/api/incidents", "status"), ("/api/incidents", "category"), ("/api/incidents", "area"),
    ("/api/incidents", "unit"), ("/api/incidents", "source"), ("/api/incidents", "asset_id"),
    ("/api/incidents", "sort"), ("/api/incidents", "bbox"), ("/api/incidents", "since"),
    ("/collections/grids/items", "parent"), ("/collections/grids/items", "bbox"),
    ("/collections/manhole_covers/items", "subclass"), ("/collections/manhole_covers/items", "status"),
    ("/api/geocode", "q"), ("/api/stats/kpi", "by"), ("/api/stats/kpi", "category"),
    ("/api/stats/kpi", "month"),
    ("/open311/v2/requests.json", "service_code"), ("/open311/v2/requests.json", "status"),
    ("/open311/v2/requests.json", "service_request_id"), ("/api/assets/nearest?lon=120.37&lat=36.09", "kind"),
    ("/api/locate?lon=120.37&lat=36.09", "crs"), ("/api/locate?lon=120.37&lat=36.09", "category"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "param"), FILTERS, ids=[f"{p.split('?')[0]}:{q}" for p, q in FILTERS])
def test_sql_injection_probes(client: TestClient, engine: Engine, path: str, param: str) -> None:
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
        phones = conn.execute(
            text("SELECT phone FROM incident_reporters WHERE phone IS NOT NULL LIMIT 200")
        ).scalars()
        phones = set(phones)
    for probe in PROBES:
        got = client.get(path, params={param: probe})
        assert got.status_code < 500, (path, param, probe, got.text[:200])
        assert not any(phone in got.text for phone in phones)  # no reporter's phone came out
        if got.status_code == 200 and path.startswith("/api/incidents"):
            assert got.json()["numberMatched"] == 0, (
                param,
                probe,
            )  # the filter matched nothing, not everything
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar_one() >= before

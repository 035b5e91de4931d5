"""Point files in bulk: CSV, Parquet, GeoParquet and GeoJSON through the CLI, HTTP and Dask, same answers."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.settings import Settings
from geo.crs import from_wgs84
from layers.grid.holder import IndexHolder
from layers.io import pointfiles

ANSWER = ["inside", "distance_m", "street", "community", "grid", "micro_grid"]


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": settings.sqlalchemy_url(), "PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "locate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    """5,000 points over the district's box (inside, outside, and a few on no map at all)."""
    rng = np.random.default_rng(18)
    lon, lat = rng.uniform(120.30, 120.43, 5000), rng.uniform(36.06, 36.16, 5000)
    return lon, lat


def _answers(table: pa.Table) -> list[tuple[object, ...]]:
    return list(zip(*(table.column(c).to_pylist() for c in ANSWER), strict=True))


def _csv_answers(text: str) -> list[tuple[object, ...]]:
    rows = list(csv.DictReader(io.StringIO(text)))
    return [
        (
            r["inside"] == "true",
            float(r["distance_m"]),
            r["street"],
            r["community"],
            r["grid"],
            r["micro_grid"],
        )
        for r in rows
    ]


def test_csv_parquet_geojson_cli_and_http_agree_with_each_other_and_postgis(
    test_settings: Settings, client: TestClient, engine: Engine, demo: int, tmp_path: Path, sample
) -> None:
    lon, lat = sample
    ids = [f"p{i}" for i in range(len(lon))]
    (tmp_path / "in.csv").write_text(
        "id,lon,lat\n"
        + "\n".join(f"{i},{x!r},{y!r}" for i, x, y in zip(ids, lon.tolist(), lat.tolist(), strict=True))
    )
    pq.write_table(
        pa.table({"id": ids, "lon": lon, "lat": lat}), tmp_path / "in.parquet", row_group_size=1000
    )
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": {}}
        for x, y in zip(lon, lat, strict=True)
    ]
    (tmp_path / "in.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    done = {}
    for name, out in (
        ("in.csv", "out.parquet"),
        ("in.parquet", "out2.parquet"),
        ("in.geojson", "out3.parquet"),
    ):
        run = _cli(test_settings, "--file", str(tmp_path / name), "--out", str(tmp_path / out))
        assert run.returncode == 0, run.stderr
        assert "located 5,000 of 5,000 points (0 bad rows)" in run.stderr
        done[name] = _answers(pq.read_table(tmp_path / out))
    assert done["in.csv"] == done["in.parquet"] == done["in.geojson"]
    csv_run = _cli(test_settings, "--file", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "out.csv"))
    assert csv_run.returncode == 0, csv_run.stderr
    assert _csv_answers((tmp_path / "out.csv").read_text()) == done["in.csv"]
    over_http = client.post(
        "/api/locate/batch",
        content=(tmp_path / "in.csv").read_bytes(),
        headers={"Content-Type": "text/csv", "Accept": "text/csv"},
    )
    assert over_http.status_code == 200 and _csv_answers(over_http.text) == done["in.csv"]
    as_json = client.post("/api/locate/batch", json={"points": np.c_[lon, lat].tolist()}).json()["results"]
    assert [tuple(r[c] for c in ANSWER) for r in as_json] == done["in.csv"]
    # the in-process locator, and PostGIS itself, on the micro-grids of the points inside
    with engine.connect() as conn:
        index = IndexHolder(engine, check_s=60, cell_m=test_settings.locate_cell_m).get()
        located = index.locate(lon, lat)
        codes = [index.codes[i] for i in located.index]
        assert [a[5] for a in done["in.csv"]] == codes
        inside = np.flatnonzero(located.inside)[:300]
        pg = conn.execute(
            text(
                "SELECT (SELECT min(code) FROM areas a WHERE a.generation = :g AND a.level = 'micro_grid' "
                "AND ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(x, y), 4326))) "
                "FROM unnest(CAST(:x AS float8[]), CAST(:y AS float8[])) WITH ORDINALITY u(x, y, i) "
                "ORDER BY i"
            ),
            {"g": demo, "x": lon[inside].tolist(), "y": lat[inside].tolist()},
        ).scalars()
        assert list(pg) == [codes[i] for i in inside]


def test_slices_answered_side_by_side_come_back_in_order(
    test_settings: Settings, engine: Engine, demo: int, sample
) -> None:
    """``wangge locate --file`` answers slices on every core: the answer is the one thread's,
    row for row, over batches that do not divide into slices evenly."""
    lon, lat = sample
    index = IndexHolder(engine, check_s=60, cell_m=test_settings.locate_cell_m).get()
    batches = [
        pointfiles.frame_batch(pa.table({"lon": lon[i : i + 700], "lat": lat[i : i + 700]}), i)
        for i in range(0, len(lon), 700)
    ]
    one = pa.concat_tables(pointfiles.located(index, iter(batches), "wgs84", rows=250))
    many = pa.concat_tables(pointfiles.located(index, iter(batches), "wgs84", rows=250, threads=4))
    assert many.num_rows == len(lon) and many.equals(one)
    assert many.column("row").to_pylist() == list(range(1, len(lon) + 1))
    codes = [index.codes[i] for i in index.locate(lon, lat).index]
    assert many.column("micro_grid").to_pylist() == codes


def test_json_answer_of_the_cli_is_the_api_shape(test_settings: Settings, demo: int, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text('id,lon,lat\n"a,1",120.36,36.10\nb,x,36\nc,999,36\n')
    run = _cli(test_settings, "--file", str(tmp_path / "in.csv"), "--out", str(tmp_path / "out.json"))
    assert run.returncode == 0, run.stderr
    body = json.loads((tmp_path / "out.json").read_text())
    assert body["crs"] == "wgs84" and len(body["results"]) == 3
    assert body["results"][0]["inside"] is True and body["results"][0]["micro_grid"].startswith("370203")
    assert body["results"][1]["error"] == {
        "code": "invalid_coordinates",
        "message": "row 2: lon and lat must be numbers",
        "field": "row 2",
    }
    assert (
        body["results"][2]["error"]["field"] == "row 3" and "±180" in body["results"][2]["error"]["message"]
    )


def test_a_bad_cell_deep_in_a_streamed_csv_keeps_every_row(
    demo: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks before the bad cell were read as numbers; the rest is read again as text, no row twice."""
    monkeypatch.setattr(pointfiles, "BLOCK_BYTES", 4096)
    lines = [f"{i},=cmd{i},{120.3 + i * 1e-5!r},36.1" for i in range(3000)]
    lines[2500] = "2500,=cmd2500,oops,36.1"
    data = ("n,note,lon,lat\n" + "\n".join(lines) + "\n").encode()
    streamed = list(pointfiles.csv_batches(io.BufferedReader(io.BytesIO(data))))  # type: ignore[arg-type]
    assert len(streamed) > 3 and sum(len(b) for b in streamed) == 3000
    offsets = [b.offset for b in streamed]
    assert offsets == sorted(offsets) and offsets[0] == 0
    errors = {b.field(k): e["message"] for b in streamed for k, e in b.errors.items()}
    assert errors == {"row 2501": "row 2501: lon and lat must be numbers"}
    n = np.concatenate([np.asarray(b.extra.column("n").to_pylist(), dtype=int) for b in streamed])
    assert (n == np.arange(3000)).all()
    whole = list(pointfiles.csv_batches(data))
    assert len(whole) == 1 and whole[0].errors[2500]["field"] == "row 2501"


def test_gbk_formulas_and_geoparquet_crs(
    test_settings: Settings, client: TestClient, demo: int, tmp_path: Path
) -> None:
    body = "编号,经度,纬度\n=HYPERLINK(1),120.36,36.10\n".encode("gbk")
    r = client.post(
        "/api/locate/batch", content=body, headers={"Content-Type": "text/csv", "Accept": "text/csv"}
    )
    row = next(csv.DictReader(io.StringIO(r.text)))
    assert row["编号"] == "'=HYPERLINK(1)" and row["inside"] == "true"
    # GeoParquet in CGCS2000 3° GK (a PROJJSON id): read in the CRS it declares, another --crs refused
    gx, gy = (float(v) for v in from_wgs84(120.36, 36.10, "EPSG:4549"))
    table = pa.table({"name": ["x"], "geometry": shapely.to_wkb(shapely.points([gx], [gy]))})
    geo = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": ["Point"],
                "crs": {"id": {"authority": "EPSG", "code": 4549}},
            }
        },
    }
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    pq.write_table(table, tmp_path / "cgcs.parquet")
    run = _cli(test_settings, "--file", str(tmp_path / "cgcs.parquet"), "--out", str(tmp_path / "o.csv"))
    assert run.returncode == 0, run.stderr
    row = next(csv.DictReader(io.StringIO((tmp_path / "o.csv").read_text())))
    assert row["inside"] == "true" and row["name"] == "x"
    wrong = _cli(
        test_settings,
        "--file",
        str(tmp_path / "cgcs.parquet"),
        "--crs",
        "gcj02",
        "--out",
        str(tmp_path / "w.csv"),
    )
    assert wrong.returncode == 2 and "declares its CRS as EPSG:4549, not gcj02" in wrong.stderr


@pytest.mark.slow  # `make test-slow`: a cluster of processes
def test_dask_local_cluster_answers_equal_the_single_process(
    test_settings: Settings, demo: int, tmp_path: Path, sample
) -> None:
    lon, lat = sample
    pq.write_table(
        pa.table({"k": np.arange(len(lon)), "lon": lon, "lat": lat}),
        tmp_path / "in.parquet",
        row_group_size=500,
    )
    one = _cli(test_settings, "--file", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "one.parquet"))
    assert one.returncode == 0, one.stderr
    many = _cli(
        test_settings,
        "--file",
        str(tmp_path / "in.parquet"),
        "--out",
        str(tmp_path / "many.parquet"),
        "--dask",
        "local:2",
    )
    assert many.returncode == 0, many.stderr
    assert "located 5,000 of 5,000 points (0 bad rows) on 2 Dask workers" in many.stderr
    single = pq.read_table(tmp_path / "one.parquet")
    parts = pq.read_table(tmp_path / "many.parquet")
    assert parts.column("k").to_pylist() == list(range(len(lon)))
    assert _answers(parts) == _answers(single)
    unreachable = _cli(
        test_settings,
        "--file",
        str(tmp_path / "in.parquet"),
        "--out",
        str(tmp_path / "x.parquet"),
        "--dask",
        "tcp://127.0.0.1:9",
    )
    assert (
        unreachable.returncode == 2
        and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in unreachable.stderr
    )
    not_parquet = _cli(
        test_settings,
        "--file",
        str(tmp_path / "in.parquet"),
        "--out",
        str(tmp_path / "x.csv"),
        "--dask",
        "local",
    )
    assert not_parquet.returncode == 2 and "--dask reads Parquet" in not_parquet.stderr

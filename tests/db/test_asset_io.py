"""Asset import/export through the layers' file path: round trips, CRSs, encodings, bad rows."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import shapely
from sqlalchemy import Connection, text

from geo.crs import METRIC, WGS84, from_wgs84, transform
from layers.assets import store
from layers.io import asset_files
from layers.io.area_files import ImportProblems

COVER = {
    "material": "ductile_iron", "shape": "round", "size_mm": "700", "load_class": "D400",
    "setting": "carriageway", "owner": "供水单位", "maintainer": "供水单位", "status": "normal",
}  # fmt: skip
INSIDE = (120.3725, 36.0935)


def import_to_shibei(
    conn: Connection, collection: str, path: Path, **options: Any
) -> asset_files.AssetImport:
    """The assets of a file imported into Shibei, the session's one district."""
    return asset_files.import_assets(conn, collection, path, district="370203", **options)


def _csv(path: Path, rows: list[dict[str, object]], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_covers_from_a_gbk_csv_in_gcj02_are_added_and_located(
    conn: Connection, demo: int, tmp_path: Path
) -> None:
    x, y = (float(v) for v in from_wgs84(INSIDE[0], INSIDE[1], "gcj02"))
    rows = [
        {"id": f"37020301019{i:05d}", "lon": x + (i - 1) * 1e-4, "lat": y, "名称": "", **COVER}
        for i in range(1, 4)
    ]
    path = _csv(tmp_path / "covers.csv", rows, encoding="gb18030")
    result = import_to_shibei(conn, "manhole_covers", path, crs="gcj02")
    assert (result.count, result.crs) == (3, "gcj02")
    stored = conn.execute(
        text(
            "SELECT id, ST_X(point), ST_Y(point), micro_grid, attributes->>'owner', "
            "(SELECT min(code) FROM areas a WHERE a.generation = s.generation AND a.level = 'micro_grid' "
            " AND ST_Covers(a.geom, s.point)) FROM assets s WHERE id LIKE '37020301019%' ORDER BY id"
        )
    ).all()
    assert [r[0] for r in stored] == [r["id"] for r in rows]
    assert stored[0][1] == pytest.approx(INSIDE[0], abs=1e-7) and stored[0][2] == pytest.approx(
        INSIDE[1], abs=1e-7
    )
    assert all(r[3] is not None and r[3] == r[5] and r[4] == "供水单位" for r in stored)


def test_bad_rows_are_all_listed_and_nothing_is_written(conn: Connection, demo: int, tmp_path: Path) -> None:
    lon, lat = INSIDE
    rows = [
        {"id": "3702030101900001", "lon": lon, "lat": lat, **COVER},  # good
        {"id": "37020301019", "lon": lon, "lat": lat, **COVER},  # malformed
        {"id": "3702030101900001", "lon": lon, "lat": lat, **COVER},  # duplicate in the file
        {"id": "3702030102000123", "lon": lon, "lat": lat, **COVER},  # exists already
        {"id": "3702030201900001", "lon": lon, "lat": lat, **COVER},  # a car park's ID
        {"id": "3702030101900002", "lon": lon, "lat": lat, **COVER, "material": "wood"},
        {"id": "3702030101900003", "lon": 121.0, "lat": 37.5, **COVER},  # outside the district
        {"id": "3702030101900004", "lon": "", "lat": "", **COVER},
    ]
    path = _csv(tmp_path / "bad.csv", rows)
    before = conn.execute(text("SELECT count(*) FROM assets")).scalar_one()
    with pytest.raises(ImportProblems) as caught:
        import_to_shibei(conn, "manhole_covers", path)
    listed = [str(p) for p in caught.value.problems]
    assert len(listed) == 6, listed  # rows 2, 3, 5, 6, 7, 8: read problems come first, all at once
    assert any("row 2" in p and "16 digits" in p for p in listed) and any("duplicate" in p for p in listed)
    assert any("material" in p for p in listed) and any("no geometry" in p for p in listed)
    assert any("parking" in p for p in listed)
    assert any("row 7" in p and "km outside the district" in p for p in listed)
    del rows[1:3], rows[2:], rows[0]  # leave the existing ID
    with pytest.raises(ImportProblems, match=r"exists already \(import with --update"), conn.begin_nested():
        import_to_shibei(conn, "manhole_covers", _csv(tmp_path / "b2.csv", rows))
    assert conn.execute(text("SELECT count(*) FROM assets")).scalar_one() == before


def _beyond_the_east_edge(conn: Connection, metres: float) -> tuple[float, float]:
    """A point ``metres`` east of the district's easternmost vertex (so at most that far outside)."""
    boundary = asset_files.district_boundary(conn, "370203")
    coords = shapely.get_coordinates(boundary)
    x, y = coords[coords[:, 0].argmax()]
    lon, lat = transform(x + metres, y, METRIC, WGS84)
    return float(lon), float(lat)


def test_points_outside_the_district_beyond_the_tolerance_are_refused(
    conn: Connection, demo: int, tmp_path: Path
) -> None:
    near, far = _beyond_the_east_edge(conn, 20), _beyond_the_east_edge(conn, 200)
    rows = [
        {"id": "3702030101900011", "lon": near[0], "lat": near[1], **COVER},
        {"id": "3702030101900012", "lon": far[0], "lat": far[1], **COVER},
    ]
    with pytest.raises(ImportProblems) as caught, conn.begin_nested():
        import_to_shibei(conn, "manhole_covers", _csv(tmp_path / "edge.csv", rows))
    assert [str(p) for p in caught.value.problems] == [
        "row 2: lies 200 m outside the district (tolerance 30 m); check its CRS"
    ]
    done = import_to_shibei(conn, "manhole_covers", _csv(tmp_path / "near.csv", rows[:1]))
    assert done.count == 1 and "belong to no micro-grid: 3702030101900011" in done.notes[-1]
    with conn.begin_nested():
        wide = import_to_shibei(conn, "manhole_covers", _csv(tmp_path / "far.csv", rows[1:]), tolerance_m=500)
        assert wide.count == 1


def test_a_stewards_sheet_chinese_labels_every_problem_at_once_and_other_columns(
    conn: Connection, demo: int, tmp_path: Path
) -> None:
    """Chinese headings and values, a 备注 column, and a row missing seven fields: one pass names them all."""
    lon, lat = INSIDE
    sheet = [
        {"部件标识码": "3702030101900021", "名称": "测试井盖", "lon": lon, "lat": lat, "材质": "球墨铸铁",
         "形状": "圆形", "尺寸 (mm)": 700, "承载等级": "D400", "位置类型": "人行道", "权属单位": "市北区水务",
         "养护单位": "市北区水务", "状态": "完好", "防坠网": "是", "备注": "=HYPERLINK(\"x\")"},
        {"部件标识码": "3702030101900022", "lon": lon, "lat": lat, "状态": "缺失"},
    ]  # fmt: skip
    path = _csv(tmp_path / "sheet.csv", sheet)
    with pytest.raises(ImportProblems) as caught, conn.begin_nested():
        import_to_shibei(conn, "manhole_covers", path)
    listed = [str(p) for p in caught.value.problems]
    assert len(listed) == 7 and all(p.startswith("row 2: ") for p in listed), listed
    for field in ("material", "shape", "size_mm", "load_class", "setting", "owner", "maintainer"):
        assert any(f"{field}: missing" in p for p in listed), field
    done = import_to_shibei(conn, "manhole_covers", _csv(tmp_path / "one.csv", sheet[:1]))
    assert done.notes == [
        "columns 备注 are not manhole_cover attributes: kept as extra attributes (exports only)"
    ]
    stored = conn.execute(text("SELECT attributes FROM assets WHERE id = '3702030101900021'")).scalar_one()
    assert (stored["material"], stored["shape"], stored["setting"]) == ("ductile_iron", "round", "sidewalk")
    assert stored["anti_fall_net"] is True and stored["extra"] == {"备注": '=HYPERLINK("x")'}
    public = store.get_asset(conn, "3702030101900021")["attributes"]
    assert "extra" not in public  # a sheet's notes may name people: not for the public
    wrong = _csv(tmp_path / "wrong.csv", [{**sheet[0], "部件标识码": "3702030101900023", "材质": "木头"}])
    with pytest.raises(ImportProblems, match=r"material: '木头' is not one of cast_iron \(铸铁\)"):
        import_to_shibei(conn, "manhole_covers", wrong)


def test_update_upserts_by_id_all_or_nothing(conn: Connection, demo: int, tmp_path: Path) -> None:
    cover = "3702030102000123"
    before = store.get_asset(conn, cover)
    lon, lat = INSIDE
    changed = {"id": cover, "name": "改名井盖", "lon": lon, "lat": lat, **COVER, "status": "damaged"}
    new = {"id": "3702030101900031", "lon": lon, "lat": lat, **COVER}
    bad = {"id": "3702030101900032", "lon": lon, "lat": lat, **COVER, "size_mm": 5}
    with pytest.raises(ImportProblems, match="size_mm"), conn.begin_nested():
        import_to_shibei(conn, "manhole_covers", _csv(tmp_path / "u1.csv", [changed, new, bad]), update=True)
    assert store.get_asset(conn, cover)["name"] == before["name"]  # nothing written
    done = import_to_shibei(conn, "manhole_covers", _csv(tmp_path / "u2.csv", [changed, new]), update=True)
    assert (done.count, done.added, done.updated) == (2, 1, 1)
    after = store.get_asset(conn, cover)
    assert after["name"] == "改名井盖" and after["attributes"]["status"] == "damaged"
    assert (after["lon"], after["lat"]) == pytest.approx(INSIDE, abs=1e-7) and after["micro_grid"] is not None
    kept = {k: v for k, v in before["attributes"].items() if k not in changed}
    assert all(after["attributes"][k] == v for k, v in kept.items())  # what the file leaves out stays


@pytest.mark.parametrize(("suffix", "crs"), [(".gpkg", "EPSG:4549"), (".zip", "gcj02"), (".geojson", None)])
def test_car_parks_round_trip(
    conn: Connection, demo: int, tmp_path: Path, suffix: str, crs: str | None
) -> None:
    query = text(
        "SELECT id, name, attributes, ST_X(point), ST_Y(point), ST_Area(site::geography) "
        "FROM assets WHERE kind = 'parking' ORDER BY id"
    )
    before = conn.execute(query).all()
    path = tmp_path / f"parking{suffix}"
    assert asset_files.export_assets(conn, "parking", path, crs=crs) == len(before) >= 45
    conn.execute(text("DELETE FROM assets WHERE kind = 'parking'"))
    result = import_to_shibei(conn, "parking", path, crs="gcj02" if crs == "gcj02" else None)
    after = conn.execute(query).all()
    assert result.count == len(before)
    for a, b in zip(before, after, strict=True):
        assert (a[0], a[1]) == (b[0], b[1]) and a[2] == b[2]
        assert (b[3], b[4]) == pytest.approx((a[3], a[4]), abs=1e-7)  # the entrance comes back
        assert b[5] == pytest.approx(a[5], rel=1e-6)


def test_ev_spaces_over_spaces_is_refused_naming_the_row(conn: Connection, demo: int, tmp_path: Path) -> None:
    path = tmp_path / "parks.csv"
    square = "POLYGON((120.372 36.093, 120.373 36.093, 120.373 36.094, 120.372 36.094, 120.372 36.093))"
    _csv(path, [{"id": "3702030201900001", "wkt": square, "name": "测试停车场", "status": "operating",
                 "progress_pct": 100, "structure": "surface", "spaces": 10, "ev_spaces": 20}])  # fmt: skip
    with pytest.raises(ImportProblems, match=r"row 1.*EV spaces \(20\) exceed spaces \(10\)"):
        import_to_shibei(conn, "parking", path)

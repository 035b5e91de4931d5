"""Importing grid layers: the good path in every format, and a corpus of broken files.

Each broken file must fail with its problem named (row or code and reason) and leave
the database exactly as it was; good files land in a draft generation that can be
checked and activated atomically.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from sqlalchemy import Connection, text

from geo.crs import from_wgs84
from layers.grid import areas
from layers.grid.validate import check_generation
from layers.io.area_files import ImportProblems, dbf_encoding, export_layer, import_layer
from tests.zoo import CORPUS, Corpus, declared_metric, frame, geojson_file, replace_row, unsupported_crs


def _state(conn: Connection) -> tuple[int, int]:
    return (
        conn.execute(text("SELECT count(*) FROM generations")).scalar_one(),
        conn.execute(text("SELECT count(*) FROM areas")).scalar_one(),
    )


def _fails(conn: Connection, path: Path, *expected: str, **options: Any) -> list[str]:
    """Import ``path`` expecting failure; every ``expected`` text appears; nothing was written."""
    before = _state(conn)
    savepoint = conn.begin_nested()
    with pytest.raises(ImportProblems) as info:
        import_layer(conn, "grids", path, **options)
    savepoint.rollback()
    assert _state(conn) == before
    reported = [str(p) for p in info.value.problems]
    for text_ in expected:
        assert any(text_ in r for r in reported), (text_, reported[:5])
    return reported


def _imports(conn: Connection, path: Path, **options: Any) -> int:
    result = import_layer(conn, "grids", path, **options)
    assert result.count == 940
    assert areas.count_by_level(conn, result.generation)["grid"] == 940
    return result.generation


# -- good files ---------------------------------------------------------------------------------


def test_geojson_imports_into_a_draft_and_activates_atomically(
    conn: Connection, grids: list[dict[str, Any]], tmp_path: Path, demo: int
) -> None:
    generation = _imports(conn, geojson_file(tmp_path / "grids.geojson", grids))
    assert generation != demo
    assert areas.active_generation(conn) == demo  # the live one stays live while the draft is checked
    counts = areas.count_by_level(conn, generation)
    assert counts["community"] == 137 and counts["micro_grid"] == 0  # levels above copied in
    areas.activate(conn, generation)
    assert areas.active_generation(conn) == generation
    states = dict(conn.execute(text("SELECT id, status FROM generations")).all())
    assert states[demo] == "retired"  # the old one keeps its codes for what was located under it
    assert areas.count_by_level(conn, demo)["micro_grid"] == 7082


@pytest.mark.parametrize("suffix", [".gpkg", ".zip", ".csv"])
def test_exported_layers_import_again(conn: Connection, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"grids{suffix}"
    assert export_layer(conn, "grids", path) == 940
    _imports(conn, path)


def test_metric_crs_export_reimports_with_its_declared_crs(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "grids_4549.gpkg"
    export_layer(conn, "grids", path, crs="EPSG:4549")
    result = import_layer(conn, "grids", path)
    assert result.crs == "EPSG:4549"


def test_gcj02_file_needs_and_honours_crs(
    conn: Connection, grids: list[dict[str, Any]], tmp_path: Path
) -> None:
    shifted = [
        dict(
            r,
            geometry=shapely.transform(
                r["geometry"], lambda c: np.column_stack(from_wgs84(c[:, 0], c[:, 1], "gcj02"))
            ),
        )
        for r in grids
    ]
    path = geojson_file(tmp_path / "amap.geojson", shifted)
    # Read as WGS84 the polygons sit ~460 m off: they no longer nest in their communities.
    _fails(conn, path, "outside its parent")
    generation = _imports(conn, path, crs="gcj02")
    assert check_generation(conn, generation) == []


def _gbk_shapefile(tmp_path: Path, rows: list[dict[str, Any]], *, cpg: bool, fields: tuple[str, str]) -> Path:
    table = frame(rows).rename(columns={"code": fields[0], "name": fields[1]}).drop(columns="parent_code")
    folder = tmp_path / ("with_cpg" if cpg else "no_cpg")
    folder.mkdir()
    table.to_file(folder / "网格.shp", driver="ESRI Shapefile", engine="pyogrio", encoding="GBK")
    if not cpg:
        (folder / "网格.cpg").unlink()
    dbf = (folder / "网格.dbf").read_bytes()
    assert "编码".encode("gbk") in dbf or fields[0].encode("gbk") in dbf  # really GBK on disk
    archive = tmp_path / f"gbk_{'cpg' if cpg else 'nocpg'}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in folder.iterdir():
            z.write(part, part.name)
    return archive


@pytest.mark.parametrize("cpg", [True, False])
def test_gbk_shapefile_with_chinese_field_names(
    conn: Connection, grids: list[dict[str, Any]], tmp_path: Path, cpg: bool
) -> None:
    path = _gbk_shapefile(tmp_path, grids, cpg=cpg, fields=("编码", "名称"))
    generation = _imports(conn, path)
    name = conn.execute(
        text("SELECT name FROM areas WHERE generation = :g AND code = :c"),
        {"g": generation, "c": grids[0]["code"]},
    ).scalar_one()
    assert name == grids[0]["name"]  # e.g. "科技街社区第1网格", not mojibake


def test_unknown_field_names_are_listed_and_can_be_named(
    conn: Connection, grids: list[dict[str, Any]], tmp_path: Path
) -> None:
    path = _gbk_shapefile(tmp_path, grids, cpg=False, fields=("网格代号", "称呼"))
    before = _state(conn)
    with pytest.raises(Exception, match=r"no code field found .* the file has: 网格代号, 称呼"):
        import_layer(conn, "grids", path)
    assert _state(conn) == before
    _imports(conn, path, code_field="网格代号", name_field="称呼")


def test_dbf_encoding_sniffing() -> None:
    assert dbf_encoding("网格".encode("gbk"), None) == "GB18030"
    assert dbf_encoding("网格".encode(), None) == "UTF-8"
    assert dbf_encoding(b"", "UTF-8\n") == "UTF-8"
    assert dbf_encoding(b"", "CP936") == "GB18030"


@pytest.mark.parametrize(("name", "make", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_broken_file_fails_with_its_problem_and_writes_nothing(
    conn: Connection,
    grids: list[dict[str, Any]],
    tmp_path: Path,
    name: str,
    make: Corpus,
    expected: tuple[str, ...],
) -> None:
    _fails(conn, make(grids, tmp_path / "broken.geojson"), *expected)


def test_unsupported_declared_crs_is_named(
    conn: Connection, grids: list[dict[str, Any]], tmp_path: Path
) -> None:
    with pytest.raises(Exception, match="declares EPSG:2437, which the platform does not accept"):
        import_layer(conn, "grids", unsupported_crs(grids, tmp_path / "bj54.geojson"))


def test_conflicting_crs_option_is_refused(
    conn: Connection, grids: list[dict[str, Any]], tmp_path: Path
) -> None:
    path = declared_metric(grids, tmp_path / "m.geojson")
    with pytest.raises(Exception, match="declares EPSG:4549 but --crs says gcj02"):
        import_layer(conn, "grids", path, crs="gcj02")


def test_make_valid_repairs_and_says_so(
    conn: Connection, grids: list[dict[str, Any]], tmp_path: Path
) -> None:
    ring = [tuple(c) for c in shapely.get_coordinates(grids[5]["geometry"].geoms[0].exterior)]
    spike = (ring[2][0] + 1e-4, ring[2][1] + 1e-4)  # out and back: a zero-width spike
    spiked = shapely.Polygon([*ring[:3], spike, ring[2], *ring[3:]])
    assert not spiked.is_valid
    path = geojson_file(tmp_path / "spike.geojson", replace_row(grids, 5, geometry=spiked))
    _fails(conn, path, "row 6: invalid geometry")
    result = import_layer(conn, "grids", path, make_valid=True)
    assert len(result.notes) == 1 and result.notes[0].startswith(f"row 6 ({grids[5]['code']}): repaired")


@pytest.mark.parametrize("entry", ["../evil.shp", "/abs/evil.shp"])
def test_zip_with_unsafe_paths_is_refused(conn: Connection, tmp_path: Path, entry: str) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(entry, b"x")
    with pytest.raises(Exception, match="unsafe path"):
        import_layer(conn, "grids", path)


def test_zip_bomb_is_refused(conn: Connection, tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.shp", b"\0" * (64 * 1024 * 1024))
    with pytest.raises(Exception, match="unpacks to 67,108,864 bytes"):
        import_layer(conn, "grids", path)


def test_import_into_the_active_generation_is_refused(
    conn: Connection, grids: list[dict[str, Any]], tmp_path: Path, demo: int
) -> None:
    with pytest.raises(Exception, match=f"generation {demo} is active"):
        import_layer(conn, "grids", geojson_file(tmp_path / "g.geojson", grids), generation=demo)


def _exported_shapes(path: Path) -> np.ndarray:
    if path.suffix == ".csv":
        return shapely.from_wkt(pd.read_csv(path)["wkt"].to_numpy())
    return pyogrio.read_dataframe(f"/vsizip/{path}" if path.suffix == ".zip" else path).geometry.to_numpy()


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4549"])
@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".zip", ".csv"])
def test_exports_keep_validity_and_coverage(
    conn: Connection, demo: int, tmp_path: Path, suffix: str, crs: str
) -> None:
    path = tmp_path / f"micro_grids{suffix}"
    assert export_layer(conn, "micro_grids", path, crs=crs) == 7082
    shapes = _exported_shapes(path)
    assert len(shapes) == 7082 and bool(shapely.is_valid(shapes).all())
    assert shapely.coverage_is_valid(shapes)


def test_imported_areas_are_stored_at_served_precision(
    conn: Connection, grids: list[dict[str, Any]], tmp_path: Path
) -> None:
    """A vertex on a neighbour's edge (a T-junction) and 15 decimals: stored on the 1e-7° grid, and
    what 7 decimals print is what is stored."""
    shifted = [dict(g, geometry=shapely.transform(g["geometry"], lambda xy: xy + 3.3e-9)) for g in grids]
    shifted[0]["geometry"] = shapely.segmentize(shifted[0]["geometry"], 1e-4)  # vertices on neighbours' edges
    assert not shapely.coverage_is_valid([g["geometry"] for g in shifted])
    generation = import_layer(conn, "grids", geojson_file(tmp_path / "grids.geojson", shifted)).generation
    rows = conn.execute(
        text(
            "SELECT ST_AsBinary(geom), ST_AsGeoJSON(geom, 7) FROM areas WHERE generation = :g AND level = :l"
        ),
        {"g": generation, "l": "grid"},
    ).all()
    stored = shapely.from_wkb([bytes(r[0]) for r in rows])
    served = shapely.from_geojson([r[1] for r in rows])
    assert bool(shapely.equals_exact(stored, served, 0).all())
    coords = shapely.get_coordinates(stored) * 1e7
    assert np.abs(coords - np.round(coords)).max() < 1e-6
    assert shapely.coverage_is_valid(served)

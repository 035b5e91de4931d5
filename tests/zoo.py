"""The shared geometry zoo: small hand-made geometries with known answers, and the
hostile fixtures (a corpus of broken layer files) that every test may import.

``ZOO`` is for point location: a square with a hole, a two-part multipolygon and a
triangle sharing an edge with both. ``CORPUS`` holds makers of broken layer files, each
with the problems an import must name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import from_wgs84

ZOO = [
    shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)]]),
    shapely.MultiPolygon([shapely.box(4, 0, 6, 2), shapely.box(7, 0, 8, 1)]),
    shapely.Polygon([(4, 2), (6, 2), (4, 4)]),
]
BOWTIE = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])  # self-intersecting
EMPTY = shapely.Polygon()
NAMES_WITH_QUOTES = ("O'Brien 网格", 'say "hi"', "a\\b", "<script>alert(1)</script>")


def frame(rows: list[dict[str, Any]], crs: str | None = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "geometry"} for r in rows],
        geometry=[r["geometry"] for r in rows],
        crs=crs,
    )


def geojson_file(path: Path, rows: list[dict[str, Any]], crs_member: str | None = None) -> Path:
    body = json.loads(frame(rows).to_json(drop_id=True))
    if crs_member:  # near the top, where QGIS and GDAL write it
        body = {
            "type": body["type"],
            "crs": {"type": "name", "properties": {"name": crs_member}},
            "features": body["features"],
        }
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


def replace_row(rows: list[dict[str, Any]], i: int, **changes: Any) -> list[dict[str, Any]]:
    out = [dict(r) for r in rows]
    out[i].update(changes)
    return out


# -- the broken-file corpus ------------------------------------------------------------------------

Corpus = Callable[[list[dict[str, Any]], Path], Path]


def _bowtie(rows: list[dict[str, Any]], path: Path) -> Path:
    x0, y0, x1, y1 = rows[5]["geometry"].bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])
    return geojson_file(path, replace_row(rows, 5, geometry=bowtie))


def _outside(rows: list[dict[str, Any]], path: Path) -> Path:
    moved = shapely.affinity.translate(rows[7]["geometry"], xoff=0.003)
    return geojson_file(path, replace_row(rows, 7, geometry=moved))


def _duplicate(rows: list[dict[str, Any]], path: Path) -> Path:
    return geojson_file(path, replace_row(rows, 9, code=rows[8]["code"]))


def declared_metric(rows: list[dict[str, Any]], path: Path) -> Path:
    return geojson_file(path, rows, crs_member="urn:ogc:def:crs:EPSG::4549")


def _metres_as_degrees(rows: list[dict[str, Any]], path: Path) -> Path:
    metric = [
        dict(
            r,
            geometry=shapely.transform(
                r["geometry"], lambda c: np.column_stack(from_wgs84(c[:, 0], c[:, 1], "EPSG:4549"))
            ),
        )
        for r in rows
    ]
    return geojson_file(path, metric, crs_member="urn:ogc:def:crs:OGC:1.3:CRS84")


def _three_d(rows: list[dict[str, Any]], path: Path) -> Path:
    g = rows[3]["geometry"]
    return geojson_file(path, replace_row(rows, 3, geometry=shapely.force_3d(g, 12.5)))


def _empty(rows: list[dict[str, Any]], path: Path) -> Path:
    body = json.loads(geojson_file(path, rows).read_text())
    body["features"][11]["geometry"] = {"type": "MultiPolygon", "coordinates": []}
    path.write_text(json.dumps(body, ensure_ascii=False))
    return path


def _missing_parent(rows: list[dict[str, Any]], path: Path) -> Path:
    return geojson_file(path, replace_row(rows, 0, code="370203020099001", parent_code="370203020099"))


def _point(rows: list[dict[str, Any]], path: Path) -> Path:
    return geojson_file(path, replace_row(rows, 2, geometry=rows[2]["geometry"].centroid))


def _bad_code(rows: list[dict[str, Any]], path: Path) -> Path:
    return geojson_file(path, replace_row(rows, 4, code="3702030200091"))


def unsupported_crs(rows: list[dict[str, Any]], path: Path) -> Path:
    return geojson_file(path, rows, crs_member="urn:ogc:def:crs:EPSG::2437")  # Beijing 1954 GK


CORPUS: list[tuple[str, Corpus, tuple[str, ...]]] = [
    ("self-intersecting", _bowtie, ("row 6: invalid geometry: Self-intersection",)),
    ("child outside parent", _outside, ("outside its parent", "overlaps its sibling")),
    ("duplicate code", _duplicate, ("row 10: duplicate code", "(also row 9)")),
    ("declares 4549, holds degrees", declared_metric, ("lies outside China when read as EPSG:4549",)),
    ("declares CRS84, holds metres", _metres_as_degrees, ("when read as EPSG:4326: is that CRS right?",)),
    ("3D coordinates", _three_d, ("row 4: has 3D coordinates",)),
    ("empty geometry", _empty, ("row 12: has",)),
    ("missing parent", _missing_parent, ("parent 370203020099 does not exist",)),
    ("point among polygons", _point, ("row 3: is a Point; grid layers need polygons",)),
    ("malformed code", _bad_code, ("row 5: code '3702030200091' is not a 15-digit grid code",)),
]


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(abs(value))
    minutes = int((abs(value) - degrees) * 60)
    return float(degrees), float(minutes), round((abs(value) - degrees - minutes / 60) * 3600, 4)


def photo(
    lon: float | None = None,
    lat: float | None = None,
    *,
    size: tuple[int, int] = (1200, 900),
    fmt: str = "JPEG",
    device: tuple[str, str] | None = ("HUAWEI", "P40 Pro"),
    orientation: int | None = None,
    raw_gps: dict[int, Any] | None = None,
) -> bytes:
    """A photo as a phone writes it: EXIF with the camera and, when given, the GPS position."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (90, 140, 200))
    ImageDraw.Draw(image).rectangle(
        (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2), fill=(240, 200, 40)
    )
    exif = Image.Exif()
    if device:
        exif[0x010F], exif[0x0110] = device
    if orientation:
        exif[0x0112] = orientation
    if raw_gps is not None:
        exif[0x8825] = raw_gps
    elif lon is not None and lat is not None:
        exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: _dms(lat), 3: "E" if lon >= 0 else "W", 4: _dms(lon)}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


# Areas of generation :g copied into generation 990/991 (made first): a second generation to activate.
COPY_GENERATION = """
INSERT INTO areas (generation, code, level, name, parent_code, geom, households, population, worker_name,
                   worker_phone, party_branch, properties)
SELECT :new, code, level, name, parent_code, geom, households, population, worker_name, worker_phone,
       party_branch, properties FROM areas WHERE generation = :g
"""

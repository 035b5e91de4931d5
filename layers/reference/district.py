"""Generate Shibei's grid hierarchy: 22 streets / 137 communities / 940 grids / 7,082 micro-grids.

The district boundary and the street and community codes and names are real; the
polygons below the district are not public, so they are generated: the district is
cut into streets, each street into its real number of communities, each community
into grids and each grid into micro-grids (``geo.partition``), balanced by a
generated household surface — dense in the old town in the south-west and around
台东, sparse along the port on Jiaozhou Bay and on the hills — so that every
micro-grid is a plausible 3-hour door-to-door round. The same seed always gives the
same layers.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from geo.crs import LocalPlane, to_wgs84
from geo.partition import Part, node, partition, reading_order
from layers.grid.areas import AreaRecord

HERE = Path(__file__).resolve().parent
BOUNDARY_FILE = HERE / "shibei_boundary_amap_gcj02.geojson"
DIVISIONS_FILE = HERE / "shibei_divisions.csv"
DISTRICT_CODE = "370203"
GRID_COUNT = 940
MICRO_GRID_COUNT = 7_082
HOUSEHOLDS = 420_000  # ≈ 1.05 million residents at 2.5 per household
LATTICE_M = 15.0  # spacing of the household sample points
GENERATED_NOTE = "generated (not the official boundary)"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Division:
    """A real division from the national statistical codes."""

    level: str
    code: str
    name: str
    parent_code: str | None


def read_divisions() -> list[Division]:
    """The district, its 22 streets and 137 communities, in code order."""
    with DIVISIONS_FILE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = [
        Division(r["level"], r["code"], r["name"], None if r["level"] == "district" else r["parent_code"])
        for r in rows
    ]
    return sorted(out, key=lambda d: d.code)


def boundary_wgs84() -> MultiPolygon:
    """The real district boundary, converted from GCJ-02 to WGS84 by iterative inversion."""
    gcj = shapely.from_geojson(BOUNDARY_FILE.read_text(encoding="utf-8"))
    coords = shapely.get_coordinates(gcj)
    lon, lat = to_wgs84(coords[:, 0], coords[:, 1], "gcj02")
    geom = shapely.set_coordinates(gcj, np.column_stack([lon, lat]))
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


def household_surface(
    xy: npt.NDArray[np.float64],
    bounds: tuple[float, float, float, float],
    coast: BaseGeometry,
    rng: np.random.Generator,
) -> npt.NDArray[np.float64]:
    """Relative household density at metric points ``xy`` (generated, not census data)."""
    x0, y0, x1, y1 = bounds
    u, v = (xy[:, 0] - x0) / (x1 - x0), (xy[:, 1] - y0) / (y1 - y0)

    def bump(cu: float, cv: float, sigma: float) -> npt.NDArray[np.float64]:
        return np.exp(-((u - cu) ** 2 + (v - cv) ** 2) / (2 * sigma**2))

    density = 0.35 + 2.6 * bump(0.28, 0.22, 0.16)  # the old town in the south-west
    density += 1.8 * bump(0.52, 0.38, 0.12)  # 台东 commercial streets
    density += 1.0 * bump(0.62, 0.72, 0.18) + 0.8 * bump(0.85, 0.45, 0.15)
    for _ in range(12):  # neighbourhood-scale variety
        density *= 1 + rng.uniform(-0.35, 0.5) * bump(rng.uniform(), rng.uniform(), rng.uniform(0.03, 0.08))
    coast_m = shapely.distance(coast, shapely.points(xy))
    port = (v > 0.25) & (v < 0.9)
    density *= np.where(port, 1 - 0.92 * np.exp(-((coast_m / 700.0) ** 2)), 1.0)
    for cu, cv, sigma in ((0.45, 0.56, 0.035), (0.74, 0.63, 0.03), (0.9, 0.8, 0.04)):  # hills
        density *= 1 - 0.88 * bump(cu, cv, sigma)
    return np.clip(density, 0.02, None)


def _allocate(total: int, weights: npt.NDArray[np.float64], minimum: int) -> list[int]:
    """Integers that sum to ``total``, proportional to ``weights`` (largest remainder)."""
    spare = total - minimum * len(weights)
    raw = weights / weights.sum() * spare
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: spare - counts.sum()]] += 1
    return [int(c) + minimum for c in counts]


_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红玲建"
    "国文辉鹏飞斌宇浩凯晨欣怡婷雪琳颖倩海波春梅志宏"
)


def _worker(rng: np.random.Generator) -> tuple[str, str]:
    name = rng.choice(list(_SURNAMES)) + "".join(rng.choice(list(_GIVEN), size=int(rng.integers(1, 3))))
    phone = (
        "1"
        + str(rng.choice(["35", "36", "37", "38", "39", "52", "58", "87", "88"]))
        + "".join(str(d) for d in rng.integers(0, 10, 8))
    )
    return str(name), phone


def _short(community_name: str) -> str:
    return community_name.removesuffix("居委会")


def generate(seed: int, progress: Progress | None = None) -> list[AreaRecord]:
    """The whole hierarchy (1 + 22 + 137 + 940 + 7,082 records), deterministic from ``seed``."""
    rng = np.random.default_rng(seed)
    divisions = read_divisions()
    district = next(d for d in divisions if d.level == "district")
    streets = [d for d in divisions if d.level == "street"]
    communities = {s.code: [d for d in divisions if d.parent_code == s.code] for s in streets}

    lonlat = boundary_wgs84()
    centre = lonlat.centroid
    plane = LocalPlane(round(centre.x, 3), round(centre.y, 3))
    boundary = plane.to_plane(lonlat)
    minx, miny, maxx, maxy = boundary.bounds
    gx, gy = np.meshgrid(np.arange(minx, maxx, LATTICE_M), np.arange(miny, maxy, LATTICE_M))
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    xy = xy[shapely.contains_xy(boundary, xy[:, 0], xy[:, 1])]
    west = shapely.clip_by_rect(boundary.boundary, minx, miny, minx + 0.3 * (maxx - minx), maxy)
    density = household_surface(xy, boundary.bounds, west, rng)
    households = density / density.sum() * HOUSEHOLDS
    # Balance on households plus a little area, so empty land is still cut into rounds.
    weights = households / HOUSEHOLDS * 0.85 + 0.15 / len(xy)

    done = 0
    total = MICRO_GRID_COUNT

    root = Part(boundary, np.arange(len(xy)))
    street_parts = partition(root, xy, weights, [len(communities[s.code]) for s in streets], rng)
    community_parts: list[tuple[Division, Part]] = []
    for street, part in zip(streets, street_parts, strict=True):
        members = communities[street.code]
        targets = rng.uniform(0.75, 1.25, len(members))
        parts = partition(part, xy, weights, list(targets), rng)
        ordered = [parts[i] for i in reading_order([p.geom for p in parts])]
        community_parts.extend(zip(members, ordered, strict=True))

    community_hh = np.array([households[p.points].sum() for _, p in community_parts])
    grid_counts = _allocate(GRID_COUNT, community_hh * rng.uniform(0.8, 1.2, len(community_hh)), 3)
    grid_parts: list[tuple[str, str, Part]] = []  # (community code, grid code, part)
    for (community, part), n in zip(community_parts, grid_counts, strict=True):
        parts = partition(part, xy, weights, list(rng.uniform(0.7, 1.3, n)), rng)
        for serial, i in enumerate(reading_order([p.geom for p in parts]), start=1):
            grid_parts.append((community.code, f"{community.code}{serial:03d}", parts[i]))

    grid_hh = np.array([households[p.points].sum() for _, _, p in grid_parts])
    micro_counts = _allocate(MICRO_GRID_COUNT, grid_hh + grid_hh.mean() * 0.3, 3)
    micro: list[tuple[str, str, Part]] = []  # (grid code, micro code, part)
    for (_, grid_code, part), n in zip(grid_parts, micro_counts, strict=True):
        parts = partition(part, xy, weights, [1.0] * n, rng)
        for serial, i in enumerate(reading_order([p.geom for p in parts]), start=1):
            micro.append((grid_code, f"{grid_code}{serial:03d}", parts[i]))
        done += n
        if progress is not None:
            progress(done, total)

    return _assemble(district, streets, community_parts, grid_parts, micro, households, rng, plane)


def _assemble(
    district: Division,
    streets: list[Division],
    community_parts: list[tuple[Division, Part]],
    grid_parts: list[tuple[str, str, Part]],
    micro: list[tuple[str, str, Part]],
    households: npt.NDArray[np.float64],
    rng: np.random.Generator,
    plane: LocalPlane,
) -> list[AreaRecord]:
    """Node the micro-grids, build every parent as the union of its children, go to WGS84."""
    micro_geoms = node([p.geom for _, _, p in micro])
    hh_micro = _allocate(HOUSEHOLDS, np.array([households[p.points].sum() for _, _, p in micro]) + 1e-9, 0)
    size = rng.uniform(2.2, 2.8, len(micro))

    children: dict[str, list[str]] = {}
    geom_m: dict[str, BaseGeometry] = {}
    hh: dict[str, int] = {}
    pop: dict[str, int] = {}
    for (grid_code, code, _), geom, h, s in zip(micro, micro_geoms, hh_micro, size, strict=True):
        geom_m[code], hh[code], pop[code] = geom, h, round(h * s)
        children.setdefault(grid_code, []).append(code)
    for community_code, grid_code, _ in grid_parts:
        children.setdefault(community_code, []).append(grid_code)
    for community, _ in community_parts:
        children.setdefault(community.parent_code or "", []).append(community.code)
    children[district.code] = [s.code for s in streets]

    def build(code: str) -> None:
        for child in children.get(code, []):
            if child not in geom_m:
                build(child)
        kids = children[code]
        geom_m[code] = shapely.union_all([geom_m[c] for c in kids])
        hh[code] = sum(hh[c] for c in kids)
        pop[code] = sum(pop[c] for c in kids)

    build(district.code)

    names = {district.code: district.name, **{s.code: s.name for s in streets}}
    names.update({c.code: c.name for c, _ in community_parts})
    records: list[AreaRecord] = []

    def add(code: str, level: str, name: str, parent: str | None, **extra: Any) -> None:
        geom = plane.to_lonlat(geom_m[code])
        multi = geom if isinstance(geom, MultiPolygon) else MultiPolygon(list(shapely.get_parts(geom)))
        note = (
            {"boundary": "real (Amap, GCJ-02 → WGS84)"}
            if level == "district"
            else {"boundary": GENERATED_NOTE}
        )
        records.append(
            AreaRecord(code, level, name, parent, multi, hh[code], pop[code], properties=note, **extra)
        )

    add(district.code, "district", district.name, None)
    for s in streets:
        add(s.code, "street", s.name, district.code)
    for community, _ in community_parts:
        add(community.code, "community", community.name, community.parent_code)
    for community_code, grid_code, _ in grid_parts:
        serial = int(grid_code[-3:])
        worker, phone = _worker(rng)
        base = f"{_short(names[community_code])}第{serial}网格"
        add(
            grid_code,
            "grid",
            base,
            community_code,
            worker_name=worker,
            worker_phone=phone,
            party_branch=f"{base}党支部",
        )
        names[grid_code] = base
    for grid_code, code, _ in micro:
        add(code, "micro_grid", f"{names[grid_code]}{int(code[-3:])}号微网格", grid_code)
    return records

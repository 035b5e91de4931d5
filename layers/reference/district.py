"""Generate a reference district's grid hierarchy (Shibei: 22 streets / 137 communities / 940 grids /
7,082 micro-grids; 市南区 beside it: 11 / 50 / 520 / 3,900).

The district boundary and the street and community codes and names are real; the
polygons below the district are not public, so they are generated: the district is
cut into streets, each street into its real number of communities, each community
into grids and each grid into micro-grids (``geo.partition``), balanced by a
generated household surface — dense in the old town in the south-west and around
台东, sparse along the port on Jiaozhou Bay and on the hills — so that every
micro-grid is a plausible 3-hour door-to-door round. The same seed always gives the
same layers. Shibei is the reference district; the other districts of :data:`DISTRICTS`
are added beside it (``wangge demo load --district 370202``) and generated the same way,
from their own real boundary and divisions, with their own seed stream.
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
from geo.errors import InvalidInput
from geo.partition import Part, node, partition, reading_order
from layers.grid.areas import AreaRecord

HERE = Path(__file__).resolve().parent
DISTRICT_CODE = "370203"  # the reference district, Shibei
LATTICE_M = 15.0  # spacing of the household sample points
GENERATED_NOTE = "generated (not the official boundary)"

Progress = Callable[[int, int], None]
Surface = Callable[[npt.NDArray[np.float64], BaseGeometry, np.random.Generator], npt.NDArray[np.float64]]


@dataclass(frozen=True)
class Division:
    """A real division from the national statistical codes."""

    level: str
    code: str
    name: str
    parent_code: str | None


def read_divisions(code: str = DISTRICT_CODE) -> list[Division]:
    """The district, its streets and communities (Shibei: 22 and 137), in code order."""
    with district_of(code).divisions_file.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = [
        Division(r["level"], r["code"], r["name"], None if r["level"] == "district" else r["parent_code"])
        for r in rows
    ]
    return sorted(out, key=lambda d: d.code)


def boundary_wgs84(code: str = DISTRICT_CODE) -> MultiPolygon:
    """The real district boundary, converted from GCJ-02 to WGS84 by iterative inversion."""
    gcj = shapely.from_geojson(district_of(code).boundary_file.read_text(encoding="utf-8"))
    coords = shapely.get_coordinates(gcj)
    lon, lat = to_wgs84(coords[:, 0], coords[:, 1], "gcj02")
    geom = shapely.set_coordinates(gcj, np.column_stack([lon, lat]))
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


def _unit_square(xy: npt.NDArray[np.float64], boundary: BaseGeometry) -> tuple[npt.NDArray[np.float64], ...]:
    x0, y0, x1, y1 = boundary.bounds
    return (xy[:, 0] - x0) / (x1 - x0), (xy[:, 1] - y0) / (y1 - y0)


def shibei_surface(
    xy: npt.NDArray[np.float64], boundary: BaseGeometry, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Relative household density of Shibei at metric points ``xy`` (generated, not census data)."""
    minx, miny, maxx, maxy = boundary.bounds
    coast = shapely.clip_by_rect(boundary.boundary, minx, miny, minx + 0.3 * (maxx - minx), maxy)
    u, v = _unit_square(xy, boundary)

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


def shinan_surface(
    xy: npt.NDArray[np.float64], boundary: BaseGeometry, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Relative household density of 市南区 (generated, not census data): the old town of 中山路
    in the west, the dense streets between 香港中路 and the railway, sparse along the southern
    shore (八大关, the bathing beaches) and on the hills of 太平山 and 信号山."""
    u, v = _unit_square(xy, boundary)

    def bump(cu: float, cv: float, sigma: float) -> npt.NDArray[np.float64]:
        return np.exp(-((u - cu) ** 2 + (v - cv) ** 2) / (2 * sigma**2))

    density = 0.35 + 2.2 * bump(0.12, 0.55, 0.12) + 1.6 * bump(0.55, 0.7, 0.16) + 1.0 * bump(0.85, 0.75, 0.14)
    for _ in range(8):
        density *= 1 + rng.uniform(-0.35, 0.5) * bump(rng.uniform(), rng.uniform(), rng.uniform(0.03, 0.08))
    minx, miny, maxx, maxy = boundary.bounds
    shore = shapely.clip_by_rect(boundary.boundary, minx, miny, maxx, miny + 0.45 * (maxy - miny))
    shore_m = shapely.distance(shore, shapely.points(xy))
    density *= 1 - 0.85 * np.exp(-((shore_m / 400.0) ** 2))
    for cu, cv, sigma in ((0.42, 0.45, 0.05), (0.3, 0.5, 0.03)):  # 太平山, 信号山
        density *= 1 - 0.85 * bump(cu, cv, sigma)
    return np.clip(density, 0.02, None)


@dataclass(frozen=True)
class District:
    """A reference district: its real data files and the sizes its generated grids are cut to."""

    code: str
    key: str  # the files' prefix: shibei_boundary_amap_gcj02.geojson, shibei_divisions.csv
    households: int
    grids: int
    micro_grids: int
    surface: Surface
    commercial_street: str  # the street whose communities draw the commercial cases
    roads: tuple[str, ...]  # real road names the generated doorplates are laid on

    @property
    def boundary_file(self) -> Path:
        return HERE / f"{self.key}_boundary_amap_gcj02.geojson"

    @property
    def divisions_file(self) -> Path:
        return HERE / f"{self.key}_divisions.csv"

    def rng(self, seed: int, part: int = 0) -> np.random.Generator:
        """The random stream of one generated ``part`` (an offset of the seed) of the district:
        Shibei's are the seed's own, every other district's are its own."""
        return np.random.default_rng(
            seed + part if self.code == DISTRICT_CODE else [seed + part, int(self.code)]
        )

    def scaled(self, shibei: int) -> int:
        """A count given for Shibei, in proportion to this district's households."""
        return round(shibei * self.households / DISTRICTS[DISTRICT_CODE].households)


# Households are the generated districts' sizes (≈ 2.5 residents each); Shibei's grid counts
# are the published ones, the others' are cut to Shibei's households per grid and micro-grid.
DISTRICTS = {
    d.code: d
    for d in (
        District(
            "370203", "shibei", 420_000, 940, 7_082, shibei_surface, "370203021",
            ("辽宁路", "延安三路", "登州路", "宁夏路", "敦化路", "合肥路", "即墨路", "台东一路", "恩县路",
             "宁化路", "宣化路", "杭州路", "威海路", "大连路", "台柳路", "清江路", "瑞岛路", "瑞湖路",
             "长沙路", "重庆南路", "人民一路", "开平路", "四流南路", "桑梓路", "莱市二路", "台东三路",
             "华阳路", "鞍山路", "福州北路"),
        ),
        District(
            "370202", "shinan", 232_000, 520, 3_900, shinan_surface, "370202005",
            ("香港中路", "香港西路", "中山路", "湖北路", "太平路", "江苏路", "南京路", "福州南路",
             "燕儿岛路", "东海西路", "闽江路", "云南路", "宁夏路", "漳州路", "山东路", "延安三路",
             "湛山二路", "金门路", "珠海路", "徐州路", "广西路", "大学路", "观海一路", "莱阳路"),
        ),
    )
}  # fmt: skip


def district_of(code: str) -> District:
    """The reference district of ``code``; ``InvalidInput`` naming the known ones otherwise.

    >>> district_of("370202").key
    'shinan'
    >>> district_of("370299")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geo.errors.InvalidInput: district 370299 is not in the reference data (known: 370202 市南区, ...)
    """
    if code not in DISTRICTS:
        known = ", ".join(f"{c} {_district_name(c)}" for c in sorted(DISTRICTS))
        raise InvalidInput(f"district {code} is not in the reference data (known: {known})", field="district")
    return DISTRICTS[code]


def _district_name(code: str) -> str:
    with (HERE / f"{DISTRICTS[code].key}_divisions.csv").open(encoding="utf-8") as handle:
        return next(r["name"] for r in csv.DictReader(handle) if r["level"] == "district")


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


_MOBILE = ("35", "36", "37", "38", "39", "52", "58", "87", "88")


def persons(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """``n`` generated names and mobile numbers at once (legal representatives)."""
    surnames, lengths = rng.integers(0, len(_SURNAMES), n), rng.integers(1, 3, n)
    given, prefixes = rng.integers(0, len(_GIVEN), (n, 2)), rng.integers(0, len(_MOBILE), n)
    digits = rng.integers(0, 10, (n, 8))
    return [
        (
            _SURNAMES[surnames[i]] + "".join(_GIVEN[k] for k in given[i, : lengths[i]]),
            "1" + _MOBILE[prefixes[i]] + "".join(map(str, digits[i])),
        )
        for i in range(n)
    ]


def person(rng: np.random.Generator) -> tuple[str, str]:
    """A generated name and mobile number (a grid worker, a legal representative)."""
    given = rng.integers(0, len(_GIVEN), size=int(rng.integers(1, 3)))
    name = _SURNAMES[int(rng.integers(0, len(_SURNAMES)))] + "".join(_GIVEN[i] for i in given)
    # indices drawn as rng.choice draws them: the same people as before, without its array per call
    prefix = _MOBILE[int(rng.integers(0, len(_MOBILE)))]
    return name, "1" + prefix + "".join(str(d) for d in rng.integers(0, 10, 8))


def _short(community_name: str) -> str:
    return community_name.removesuffix("居委会")


def generate(seed: int, progress: Progress | None = None, code: str = DISTRICT_CODE) -> list[AreaRecord]:
    """A district's whole hierarchy (Shibei: 1 + 22 + 137 + 940 + 7,082 records), deterministic
    from ``seed``."""
    spec = district_of(code)
    rng = spec.rng(seed)
    divisions = read_divisions(code)
    district = next(d for d in divisions if d.level == "district")
    streets = [d for d in divisions if d.level == "street"]
    communities = {s.code: [d for d in divisions if d.parent_code == s.code] for s in streets}

    lonlat = boundary_wgs84(code)
    centre = lonlat.centroid
    plane = LocalPlane(round(centre.x, 3), round(centre.y, 3))
    boundary = plane.to_plane(lonlat)
    minx, miny, maxx, maxy = boundary.bounds
    gx, gy = np.meshgrid(np.arange(minx, maxx, LATTICE_M), np.arange(miny, maxy, LATTICE_M))
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    xy = xy[shapely.contains_xy(boundary, xy[:, 0], xy[:, 1])]
    density = spec.surface(xy, boundary, rng)
    households = density / density.sum() * spec.households
    # Balance on households plus a little area, so empty land is still cut into rounds.
    weights = households / spec.households * 0.85 + 0.15 / len(xy)

    done = 0
    total = spec.micro_grids

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
    grid_counts = _allocate(spec.grids, community_hh * rng.uniform(0.8, 1.2, len(community_hh)), 3)
    grid_parts: list[tuple[str, str, Part]] = []  # (community code, grid code, part)
    for (community, part), n in zip(community_parts, grid_counts, strict=True):
        parts = partition(part, xy, weights, list(rng.uniform(0.7, 1.3, n)), rng)
        for serial, i in enumerate(reading_order([p.geom for p in parts]), start=1):
            grid_parts.append((community.code, f"{community.code}{serial:03d}", parts[i]))

    grid_hh = np.array([households[p.points].sum() for _, _, p in grid_parts])
    micro_counts = _allocate(spec.micro_grids, grid_hh + grid_hh.mean() * 0.3, 3)
    micro: list[tuple[str, str, Part]] = []  # (grid code, micro code, part)
    for (_, grid_code, part), n in zip(grid_parts, micro_counts, strict=True):
        parts = partition(part, xy, weights, [1.0] * n, rng)
        for serial, i in enumerate(reading_order([p.geom for p in parts]), start=1):
            micro.append((grid_code, f"{grid_code}{serial:03d}", parts[i]))
        done += n
        if progress is not None:
            progress(done, total)

    return _assemble(spec, district, streets, community_parts, grid_parts, micro, households, rng, plane)


def _assemble(
    spec: District,
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
    hh_micro = _allocate(
        spec.households, np.array([households[p.points].sum() for _, _, p in micro]) + 1e-9, 0
    )
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
        worker, phone = person(rng)
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

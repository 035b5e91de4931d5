"""The in-memory index of a generation's hierarchy: point → micro-grid → the whole chain.

Built once per worker from PostGIS: the micro-grid polygons go into a
``geo.locate.Locator``; names, grid workers and the district's figures go into plain
dictionaries, so locating a point needs no SQL at all. Distances are metres in a
local plane around the district (``geo.crs.LocalPlane``: centimetres off at 100 m).

With a ``cache`` directory the built locator is kept there as memory-mapped arrays, named by a
digest of the polygons and the cell size: the workers of a machine map one copy, and a worker
that starts (or a generation that comes back) after the first build loads it instead of
building; the newest ``KEEP`` are kept.

SQL: the two bulk loads (every area with its WKB, every asset point) are written out:
they run once per generation and read as the SQL itself; the version check is Core.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from sqlalchemy import Connection, select, text

from geo.crs import LocalPlane
from geo.errors import InvalidGeometry, NotFound
from geo.locate import OUTSIDE, Locator
from layers.db.models import ASSET_CHANGES

FloatArray = npt.NDArray[np.float64]
# The locator's raster cell size, given in metres, as degrees: only a resolution (the
# answers are exact whatever the cell), so one mean figure for both axes will do.
DEGREES_PER_M = 1 / 111_000
KEEP = 4  # cached locators kept (other generations, other databases on the machine)
log = logging.getLogger("wangge.locate")


def cached_locator(polygons: npt.NDArray[np.object_], wkbs: list[bytes], cell: float, cache: Path) -> Locator:
    """The locator of ``polygons`` from ``cache`` if one was saved, else built and saved there.

    A cache that cannot be written (read-only, full) only costs the sharing: the built index
    is used as it is."""
    digest = hashlib.sha256(repr(cell).encode())
    for wkb in wkbs:
        digest.update(wkb)
    folder = cache / f"locator-{digest.hexdigest()[:24]}"
    if folder.is_dir():
        try:
            os.utime(folder)  # most recently used
            return Locator.load(folder, polygons)
        except (OSError, ValueError, KeyError, InvalidGeometry) as exc:
            log.warning("cached locator %s unreadable (%s): building it again", folder.name, exc)
            shutil.rmtree(folder, ignore_errors=True)
    built = Locator(polygons, cell=cell)
    partial = cache / f".{folder.name}.{os.getpid()}"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        built.save(partial)
        partial.rename(folder)  # atomic; another worker may have won the race, which is as good
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if not folder.is_dir():
            log.warning("locator not cached in %s: %s", cache, exc)
            return built
    for old in sorted(cache.glob("locator-*"), key=lambda f: f.stat().st_mtime, reverse=True)[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)  # a worker still mapping one keeps its pages
    return Locator.load(folder, polygons)


@dataclass(frozen=True)
class Located:
    """The answer for a batch of points (arrays aligned with the input)."""

    index: npt.NDArray[np.int64]  # micro-grid index: covering, or nearest when outside
    inside: npt.NDArray[np.bool_]
    distance_m: FloatArray  # 0 inside, else to the nearest micro-grid


class Nearest:
    """The micro-grids in a local plane around them: the nearest to points outside them all, and
    their edges (metres to the boundary). Each worker's own, beside the shared locator."""

    def __init__(self, polygons: npt.NDArray[np.object_]):
        x0, y0, x1, y1 = shapely.total_bounds(polygons)
        self.plane = LocalPlane(round((x0 + x1) / 2, 3), round((y0 + y1) / 2, 3))
        self.planar = self.plane.to_plane(polygons)
        self.tree = shapely.STRtree(self.planar)
        self.edges = shapely.boundary(self.planar)
        shapely.prepare(self.edges)

    def of(
        self, lon: FloatArray, lat: FloatArray
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
        """(positions of the points that have one, their nearest polygon, metres to it)."""
        px, py = self.plane.xy(lon, lat)
        found, nearest = self.tree.query_nearest(shapely.points(px, py), all_matches=False)
        return found, nearest, shapely.distance(self.planar[nearest], shapely.points(px[found], py[found]))


class AreaIndex:
    """Point location and the area chain for one generation."""

    def __init__(self, conn: Connection, generation: int, cell_m: float = 2.5, cache: Path | None = None):
        self.generation = generation
        rows = conn.execute(
            text(
                "SELECT code, level, name, worker_name, worker_phone, ST_AsBinary(geom) AS wkb FROM areas "
                "WHERE generation = :g ORDER BY code"
            ),
            {"g": generation},
        ).all()
        micro = [r for r in rows if r.level == "micro_grid"]
        if not micro:
            raise NotFound(f"generation {generation} has no micro-grids to locate in")
        self.codes = [r.code for r in micro]
        self.position = {code: i for i, code in enumerate(self.codes)}
        wkbs = [bytes(r.wkb) for r in micro]
        polygons = shapely.from_wkb(wkbs)
        cell = cell_m * DEGREES_PER_M
        self.locator = (
            Locator(polygons, cell=cell) if cache is None else cached_locator(polygons, wkbs, cell, cache)
        )
        self.nearest = Nearest(polygons)
        self.plane = self.nearest.plane
        self.names = {r.code: r.name for r in rows}
        self.workers = {r.code: r.worker_name for r in rows if r.worker_name}
        self.phones = {r.code: r.worker_phone for r in rows if r.worker_phone}  # dispatchers only
        self.districts = [r.code for r in rows if r.level == "district"]
        self.assets: AssetIndex | None = None  # set (and renewed) by the worker's holder

    @property
    def desk(self) -> str:
        """Where a case nobody can place waits: the district's desk, or with several districts the
        city's (``370200`` for Qingdao's) — never a district guessed for it."""
        if len(self.districts) == 1:
            return self.districts[0]
        return f"{self.codes[0][:4]}00"

    def locate(self, lon: FloatArray, lat: FloatArray) -> Located:
        """Covering micro-grid of each WGS84 point; the nearest one (and metres) when outside."""
        index = self.locator.locate(lon, lat)
        inside = index != OUTSIDE
        distance = np.zeros(len(index))
        out = np.flatnonzero(~inside)
        if len(out):
            found, nearest, metres = self.nearest.of(lon[out], lat[out])
            index[out[found]] = nearest
            distance[out[found]] = metres
        return Located(index, inside, distance)

    def boundary_distance_m(self, index: int, lon: float, lat: float) -> float:
        """Metres from the point to the nearest edge of micro-grid ``index``."""
        x, y = self.plane.xy(lon, lat)
        return float(shapely.distance(self.nearest.edges[index], shapely.Point(float(x), float(y))))

    def chain(self, index: int) -> dict[str, Any]:
        """District, street, community, grid (with its worker) and micro-grid of an index."""
        code = self.codes[index]
        grid = code[:15]
        return {
            "district": {"code": code[:6], "name": self.names.get(code[:6])},
            "street": {"code": code[:9], "name": self.names.get(code[:9])},
            "community": {"code": code[:12], "name": self.names.get(code[:12])},
            "grid": {"code": grid, "name": self.names.get(grid), "worker": {"name": self.workers.get(grid)}},
            "micro_grid": {"code": code, "name": self.names.get(code)},
        }


class AssetIndex:
    """Asset positions per kind in the index's local plane: the nearest of each kind, in-process.

    The locate answer's ``nearest_assets`` comes from here (no SQL on the hot path);
    distances are plane metres, centimetres off at 100 m. ``version`` says which state of
    the assets table it was built from (rebuilt by the worker when that changes).
    """

    def __init__(self, conn: Connection, plane: LocalPlane, version: tuple[Any, ...]):
        self.version = version
        rows = conn.execute(
            text("SELECT id, kind, subclass, ST_X(point), ST_Y(point) FROM assets ORDER BY id")
        ).all()
        self.kinds: dict[str, tuple[list[str], list[str], shapely.STRtree]] = {}
        by_kind: dict[str, list[Any]] = {}
        for row in rows:
            by_kind.setdefault(row[1], []).append(row)
        self.plane = plane
        for kind, items in by_kind.items():
            x, y = plane.xy(np.array([r[3] for r in items]), np.array([r[4] for r in items]))
            tree = shapely.STRtree(shapely.points(x, y))
            self.kinds[kind] = ([r[0] for r in items], [r[2] for r in items], tree)

    def nearest_each(self, lon: float, lat: float, radius_m: float) -> list[dict[str, Any]]:
        """The nearest asset of every kind within ``radius_m`` of a WGS84 point, nearest first."""
        x, y = self.plane.xy(lon, lat)
        here = shapely.Point(float(x), float(y))
        found = []
        for kind, (ids, subclasses, tree) in self.kinds.items():
            hit, distance = tree.query_nearest(
                here, max_distance=radius_m, return_distance=True, all_matches=True
            )
            if len(hit):
                order = sorted(range(len(hit)), key=lambda k: (distance[k], ids[hit[k]]))[0]
                i = int(hit[order])
                found.append(
                    {
                        "id": ids[i],
                        "kind": kind,
                        "subclass": subclasses[i],
                        "distance_m": float(distance[order]),
                    }
                )
        return sorted(found, key=lambda r: (r["distance_m"], r["id"]))


def assets_version(conn: Connection) -> tuple[Any, ...]:
    """The counter a trigger bumps whenever assets are added, removed or moved (one row: cheap)."""
    return (conn.execute(select(ASSET_CHANGES.c.version)).scalar_one(),)

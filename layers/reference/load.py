"""Load the reference district into the database (``wangge demo load`` and ``make run``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from geo.errors import InvalidGeometry
from layers.addresses import gazetteer
from layers.assets import store
from layers.cases import categories, phrases
from layers.grid import areas
from layers.grid.index import AreaIndex
from layers.grid.validate import check_generation
from layers.reference import campaign, district
from layers.reference.addresses import doorplates
from layers.reference.cameras import cameras
from layers.reference.covers import covers
from layers.reference.incidents import generate_incidents
from layers.reference.parking import car_parks
from layers.reference.places import places

# The reference responsibility matrix: construction noise goes to the building
# authority district-wide; street vending in 台东街道 (the pedestrian street) to the
# district's law enforcement, not the street office.
REFERENCE_RULES = [("370203", "E0301", "D03"), ("370203021", "E0501", "D02")]


@dataclass(frozen=True)
class LoadResult:
    generation: int
    counts: dict[str, int]
    skipped: bool


def source_tag(seed: int) -> str:
    return f"reference:shibei:seed={seed}"


def load_reference(
    conn: Connection,
    seed: int,
    *,
    force: bool = False,
    as_of: datetime | None = None,
    progress: district.Progress | None = None,
    case_progress: district.Progress | None = None,
) -> LoadResult:
    """Generate and write Shibei: areas (as the active generation), addresses and covers.

    Each part is loaded only if missing (or all of them with ``force``). The cases are
    the three years up to ``as_of`` (default: now). Runs in the caller's transaction: a
    failure leaves the database as it was.
    """
    tag = source_tag(seed)
    live = conn.execute(
        text("SELECT id FROM generations WHERE status = 'active' AND source = :s"), {"s": tag}
    ).scalar()
    have_addresses = conn.execute(
        text("SELECT 1 FROM places WHERE source = :s LIMIT 1"), {"s": tag}
    ).first()  # places are written after the doorplates, in the same step
    have_covers = conn.execute(text("SELECT 1 FROM assets WHERE kind = 'manhole_cover' LIMIT 1")).first()
    have_parking = conn.execute(text("SELECT 1 FROM assets WHERE kind = 'parking' LIMIT 1")).first()
    have_cameras = conn.execute(text("SELECT 1 FROM assets WHERE kind = 'camera' LIMIT 1")).first()
    have_routing = conn.execute(text("SELECT 1 FROM categories LIMIT 1")).first()
    have_incidents = conn.execute(text("SELECT 1 FROM incidents LIMIT 1")).first()
    complete = (
        have_addresses and have_covers and have_parking and have_cameras and have_routing and have_incidents
    )
    if live is not None and complete and not force:
        return LoadResult(live, areas.count_by_level(conn, live), skipped=True)
    records = district.generate(seed, progress)
    counts_note: dict[str, int] = {}
    if not have_covers or force:  # before activation, which would re-locate covers about to go
        store.delete_kind(conn, "manhole_cover")
    if not have_parking or force:
        store.delete_kind(conn, "parking")
    if not have_cameras or force:
        store.delete_kind(conn, "camera")
    if live is None or force:
        live = areas.create_generation(
            conn, f"Shibei reference district, generated grids (seed {seed})", source=tag
        )
        areas.write_areas(conn, live, records)
        conn.execute(text("ANALYZE areas"))  # fresh statistics, or the planner scans instead of using GiST
        problems = check_generation(conn, live)
        if problems:
            raise InvalidGeometry(
                f"the generated district does not tile: {problems[0]} (+{len(problems) - 1} more)"
            )
        areas.activate(conn, live)
    if not have_addresses or force:
        gazetteer.delete_places(conn, tag)
        gazetteer.delete_source(conn, tag)
        plates = list(doorplates(seed, records))
        gazetteer.write_addresses(conn, plates, source=tag)
        gazetteer.write_places(conn, places(seed, records, plates), source=tag)
        conn.execute(text("ANALYZE addresses"))
        conn.execute(text("ANALYZE place_names"))
    if not have_covers or force:
        store.write_assets(conn, covers(seed, records), district.DISTRICT_CODE)  # located by trigger
        conn.execute(text("DELETE FROM campaigns WHERE name = :n"), {"n": campaign.NAME})
        campaign.load_campaign(conn, seed, district.DISTRICT_CODE)
    if not have_parking or force:
        store.write_assets(conn, car_parks(seed, records), district.DISTRICT_CODE)
    if not have_cameras or force:
        store.write_assets(conn, cameras(seed, records), district.DISTRICT_CODE)
    categories.load_reference(conn)
    phrases.load_reference(conn)
    for area, category, unit in REFERENCE_RULES:
        categories.set_rule(conn, area, category, unit)
    if not have_incidents:  # cases are never deleted, not even by --force: only an empty table is filled
        conn.execute(text("ANALYZE assets"))
        index = AreaIndex(conn, live)
        cases = generate_incidents(conn, seed, records, index, as_of=as_of, progress=case_progress)
        counts_note["incidents"] = cases
    conn.execute(text("ANALYZE assets"))
    return LoadResult(live, {**areas.count_by_level(conn, live), **counts_note}, skipped=False)

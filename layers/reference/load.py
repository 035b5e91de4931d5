"""Load a reference district into the database (``wangge demo load [--district CODE]`` and ``make run``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from geo.errors import InvalidGeometry
from layers.addresses import gazetteer
from layers.assets import store
from layers.cases import categories, phrases, worktime
from layers.db.vocabulary import LEVELS
from layers.grid import areas
from layers.grid.areas import AreaRecord
from layers.grid.index import AreaIndex
from layers.grid.validate import check_generation
from layers.reference import campaign, district, enterprises
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


def source_tag(seed: int, code: str = district.DISTRICT_CODE) -> str:
    """The source of a district's generated addresses and places."""
    return f"reference:{district.district_of(code).key}:seed={seed}"


def _generation_source(seed: int, codes: list[str]) -> str:
    return f"reference:{'+'.join(district.district_of(c).key for c in sorted(codes))}:seed={seed}"


def _loaded(conn: Connection, seed: int, code: str) -> int | None:
    """The active generation if it is the reference one of ``seed`` and holds the district ``code``."""
    return conn.execute(
        text(
            "SELECT g.id FROM generations g JOIN areas a ON a.generation = g.id AND a.code = :c "
            "WHERE g.status = 'active' AND g.source LIKE 'reference:%' AND g.source LIKE :s"
        ),
        {"c": code, "s": f"%:seed={seed}"},
    ).scalar()


def _activate_with(conn: Connection, seed: int, records: list[AreaRecord]) -> int:
    """A new generation holding ``records`` (one district) and every other district of the active
    reference generation, checked and made active; a district overlapping another is refused."""
    code = next(r.code for r in records if r.level == "district")
    name = next(r.name for r in records if r.level == "district")
    active = areas.active_generation(conn)
    source = (
        active and conn.execute(text("SELECT source FROM generations WHERE id = :g"), {"g": active}).scalar()
    )
    keep = active if source and source.startswith("reference:") and source.endswith(f":seed={seed}") else None
    others = areas.codes(conn, keep, "district") if keep is not None else []
    others = [c for c in others if c != code]
    label = ", ".join([*(f"{c}" for c in others), f"{code} {name}"])
    new = areas.create_generation(
        conn,
        f"reference districts {label}, generated grids (seed {seed})",
        source=_generation_source(seed, [*others, code]),
    )
    if keep is not None and others:
        areas.copy_levels(conn, keep, new, LEVELS, except_under=code)
    areas.write_areas(conn, new, records)
    conn.execute(text("ANALYZE areas"))  # fresh statistics, or the planner scans instead of using GiST
    problems = check_generation(conn, new)
    if problems:
        raise InvalidGeometry(
            f"the generated district {code} does not fit: {problems[0]} (+{len(problems) - 1} more)"
        )
    areas.activate(conn, new)
    return new


def load_reference(
    conn: Connection,
    seed: int,
    *,
    code: str = district.DISTRICT_CODE,
    force: bool = False,
    as_of: datetime | None = None,
    progress: district.Progress | None = None,
    case_progress: district.Progress | None = None,
    firms: bool = True,
) -> LoadResult:
    """Generate and write a reference district (Shibei unless ``code`` names another) beside the
    districts already loaded: its areas (in a new active generation with the others), addresses,
    assets and cases.

    Each part is loaded only if missing (or all of them with ``force``). The cases are
    the three years up to ``as_of`` (default: now); Shibei's enterprise register (160,000
    firms, ~60 s) comes with them unless ``firms`` is false. Runs in the caller's transaction: a
    failure leaves the database as it was.
    """
    district.district_of(code)  # an unknown district is refused before anything is generated
    tag = source_tag(seed, code)
    mine = {"d": f"{code}%"}
    live = _loaded(conn, seed, code)
    have_addresses = conn.execute(
        text("SELECT 1 FROM places WHERE source = :s LIMIT 1"), {"s": tag}
    ).first()  # places are written after the doorplates, in the same step

    def have(kind: str) -> bool:
        query = "SELECT 1 FROM assets WHERE kind = :k AND id LIKE :d LIMIT 1"
        return conn.execute(text(query), {"k": kind, **mine}).first() is not None

    kinds = ("manhole_cover", "camera", *(("parking",) if code == district.DISTRICT_CODE else ()))
    missing_kinds = [k for k in kinds if force or not have(k)]
    have_routing = conn.execute(text("SELECT 1 FROM categories LIMIT 1")).first()
    have_incidents = conn.execute(text("SELECT 1 FROM incidents WHERE street LIKE :d LIMIT 1"), mine).first()
    firms_here = firms and code == district.DISTRICT_CODE  # the enterprise register is Shibei's
    have_firms = (
        not firms_here
        or conn.execute(text("SELECT 1 FROM enterprises WHERE source = :s LIMIT 1"), {"s": tag}).first()
    )
    complete = have_addresses and not missing_kinds and have_routing and have_incidents and have_firms
    if live is not None and complete and not force:
        return LoadResult(live, areas.count_by_level(conn, live, under=code), skipped=True)
    records = district.generate(seed, progress, code)
    counts_note: dict[str, int] = {}
    for kind in missing_kinds:  # before activation, which would re-locate assets about to go
        store.delete_kind(conn, kind, district=code)
    if live is None or force:
        live = _activate_with(conn, seed, records)
    if not have_addresses or force:
        gazetteer.delete_places(conn, tag)
        gazetteer.delete_source(conn, tag)
        plates = list(doorplates(seed, records))
        top = next(r for r in records if r.level == "district")
        gazetteer.write_addresses(conn, plates, source=tag, district=(top.code, top.name))
        gazetteer.write_places(conn, places(seed, records, plates), source=tag)
        conn.execute(text("ANALYZE addresses"))
        conn.execute(text("ANALYZE place_names"))
    if "manhole_cover" in missing_kinds:
        store.write_assets(conn, covers(seed, records), code)  # located by trigger
        if code == district.DISTRICT_CODE:  # the real campaign was Shibei's
            conn.execute(text("DELETE FROM campaigns WHERE name = :n"), {"n": campaign.NAME})
            campaign.load_campaign(conn, seed, code)
    if "parking" in missing_kinds:  # 瑞岛路地下停车场 and the car parks beside it are Shibei's
        store.write_assets(conn, car_parks(seed, records, code), code)
    if "camera" in missing_kinds:
        store.write_assets(conn, cameras(seed, records), code)
    categories.load_reference(conn)
    phrases.load_reference(conn)
    for area, category, unit in REFERENCE_RULES:
        categories.set_rule(conn, area, category, unit)
    index: AreaIndex | None = None
    if (
        not have_incidents
    ):  # cases are never deleted, not even by --force: only a district without any is filled
        conn.execute(text("ANALYZE assets"))
        index = AreaIndex(conn, live)
        cases = generate_incidents(conn, seed, records, index, as_of=as_of, progress=case_progress)
        counts_note["incidents"] = cases
    if firms_here and (not have_firms or force):  # forced: the doorplates are new, and so their ids
        conn.execute(text("DELETE FROM enterprises WHERE source = :s"), {"s": tag})
        day = (as_of or datetime.now(worktime.BEIJING)).astimezone(worktime.BEIJING).date()
        index = index or AreaIndex(conn, live)
        counts_note["enterprises"] = enterprises.load_register(conn, seed, index, day, tag)
    conn.execute(text("ANALYZE assets"))
    return LoadResult(live, {**areas.count_by_level(conn, live, under=code), **counts_note}, skipped=False)

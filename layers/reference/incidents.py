"""66,100 generated cases over three years, shaped like the district's complaint platform
(another reference district gets as many in proportion to its households).

What is real: the total (66,100 cases), the published KPIs it is tuned to (response
99.03 %, resolution 99.81 %, satisfaction 99.83 %), the categories and the district's
patterns as published — summer peaks for street vending and roadside barbecue,
clusters around construction sites and the 台东 pedestrian street, repeat locations.
Everything else (each case, its place, time, reporter, history) is generated,
deterministic from the seed, and says so: descriptions start with 「生成」, reporters
are fictitious. The 162 defective covers of the reference campaign are filed as cases
linked to their covers on the day they were found.

Written with COPY (cases, reporters, histories: ~0.5 M rows) in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, text

from geo import hexes
from layers.cases import categories, numbers, partitions, routing, worktime
from layers.db import sql
from layers.grid.areas import AreaRecord
from layers.grid.index import AreaIndex
from layers.reference import lifecycle
from layers.reference.district import district_of

TOTAL = 66_100
YEARS = 3  # the cases end at the moment of loading and begin three years before it
Progress = Callable[[int, int], None]

# category: (share of all cases, monthly profile Jan..Dec)
FLAT = (1.0,) * 12
MIX: dict[str, tuple[float, Sequence[float]]] = {
    "E0505": (0.19, FLAT),
    "E0501": (0.12, (0.6, 0.6, 0.8, 1.0, 1.2, 1.5, 1.8, 1.8, 1.4, 1.0, 0.7, 0.6)),
    "E0510": (0.06, (0.2, 0.2, 0.4, 0.8, 1.3, 2.2, 2.8, 2.8, 1.8, 0.8, 0.3, 0.2)),
    "E0504": (0.08, (0.8, 0.8, 0.9, 1.0, 1.1, 1.2, 1.2, 1.2, 1.1, 1.0, 0.9, 0.8)),
    "E0201": (0.08, FLAT),
    "E0101": (0.07, FLAT),
    "E0102": (0.07, (1.3, 1.4, 0.9, 0.9, 1.0, 1.2, 1.3, 1.3, 1.0, 1.1, 0.8, 0.8)),
    "E0301": (0.08, (0.5, 0.4, 1.1, 1.3, 1.3, 1.0, 0.9, 0.9, 1.2, 1.3, 1.1, 0.6)),
    "E0302": (0.04, (0.5, 0.4, 1.1, 1.3, 1.3, 1.0, 0.9, 0.9, 1.2, 1.3, 1.1, 0.6)),
    "E0303": (0.03, FLAT),
    "E0401": (0.01, (0.8, 0.8, 0.8, 0.9, 1.0, 1.2, 1.6, 1.6, 1.1, 0.9, 0.8, 0.8)),
    "E0404": (0.04, (0.6, 0.6, 0.7, 0.8, 1.0, 1.3, 2.0, 2.0, 1.2, 0.8, 0.6, 0.6)),
    "E0506": (0.03, FLAT),
    "E0507": (0.03, (0.7, 0.7, 0.9, 1.0, 1.1, 1.3, 1.4, 1.4, 1.2, 1.0, 0.8, 0.7)),
    "E0508": (0.01, FLAT),
    "C0100": (0.02, FLAT),
    "C0118": (0.03, (1.3, 1.2, 1.0, 0.9, 0.8, 0.7, 0.7, 0.8, 0.9, 1.1, 1.3, 1.4)),
}
COMMERCIAL = {"E0501": 0.35, "E0504": 0.45, "E0510": 0.25, "E0201": 0.2}  # share at the pedestrian street
CONSTRUCTION = {"E0301": 0.7, "E0302": 0.7, "E0303": 0.3}  # share near active construction sites
REPEATING = {"E0501": 0.15, "E0510": 0.15, "E0505": 0.12, "E0102": 0.12, "E0504": 0.1}
SOURCES = (("hotline", 0.45), ("wechat", 0.25), ("grid_worker", 0.2), ("photo_report", 0.1))
APPEALS = (("complaint", 0.7), ("help", 0.15), ("consult", 0.1), ("suggestion", 0.05))
HOURS = np.array([1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 8, 7, 8, 9, 9, 9, 9, 10, 10, 9, 7, 4, 2], dtype=float)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
DESCRIPTIONS = {
    "E0505": "车辆长时间占用人行道停放",
    "E0501": "流动摊贩占道经营",
    "E0510": "夜间露天烧烤油烟扰民",
    "E0504": "商户店外占道经营",
    "E0201": "墙面、电线杆张贴小广告",
    "E0101": "路边堆放生活垃圾",
    "E0102": "垃圾桶满溢未及时清运",
    "E0301": "工地夜间施工噪音扰民",
    "E0302": "工地扬尘未覆盖",
    "E0303": "楼顶私搭乱建",
    "E0401": "路面出现塌陷",
    "E0404": "下水道堵塞污水外溢",
    "E0506": "路口车辆拥堵",
    "E0507": "视频识别：占道经营",
    "E0508": "视频识别：人员聚集",
    "C0100": "窨井盖破损或缺失",
    "C0118": "路灯不亮",
}

INCIDENT_COLUMNS = (
    "id",
    "number",
    "source",
    "category",
    "appeal_type",
    "description",
    "point",
    "h3",
    "located_by",
    "location_input",
    "inside",
    "generation",
    "street",
    "community",
    "grid",
    "micro_grid",
    "asset_id",
    "camera_id",
    "machine_confidence",
    "unit",
    "second_unit",
    "routed_by",
    "status",
    "received_at",
    "responded_at",
    "warn_at",
    "deadline",
    "escalate_at",
    "closed_at",
    "satisfied",
    "merged_into",
    "handler",
    "updated_at",
)
EVENT_COLUMNS = ("incident_id", "at", "actor", "role", "action", "from_status", "to_status", "unit", "note")
REPORTER_COLUMNS = ("incident_id", "source", "name", "phone", "consent", "merged_from", "received_at")


@dataclass
class Places:
    """Where cases happen: micro-grids by households, hotspots, sites, repeat spots, assets."""

    points: npt.NDArray[np.float64]  # representative point per micro-grid
    weights: npt.NDArray[np.float64]  # households share
    jitter: npt.NDArray[np.float64]  # degrees, about a quarter of the micro-grid's size
    commercial: npt.NDArray[np.float64]
    sites: npt.NDArray[np.float64]  # construction sites (lon, lat, start day, end day)
    spots: npt.NDArray[np.float64]


def _places(rng: np.random.Generator, records: list[AreaRecord], days: int, commercial: str) -> Places:
    """Where the cases of a district's ``records`` happen; ``commercial`` is the street whose
    communities draw the commercial cluster (Shibei's 台东街道, the pedestrian street)."""
    micro = [r for r in records if r.level == "micro_grid"]
    geoms = np.array([r.geom for r in micro], dtype=object)
    points = shapely.get_coordinates(shapely.point_on_surface(geoms))
    households = np.array([r.households or 0 for r in micro], dtype=float) + 1.0
    jitter = np.sqrt(shapely.area(geoms)) / 4
    taidong = np.array([r.code.startswith(commercial) for r in micro])
    site_at = rng.choice(len(micro), 14, replace=False)
    starts = rng.integers(0, days - 120, 14)
    sites = np.column_stack([points[site_at], starts, starts + rng.integers(120, 365, 14)])
    spots = points[rng.choice(len(micro), 400, replace=False, p=households / households.sum())]
    return Places(points, households / households.sum(), jitter, points[taidong], sites, spots)


def pick(rng: np.random.Generator, options: Sequence[tuple[str, float]], n: int) -> npt.NDArray[Any]:
    names, shares = zip(*options, strict=True)
    return rng.choice(np.array(names, dtype=object), n, p=np.array(shares) / sum(shares))


def span(as_of: datetime) -> tuple[date, datetime]:
    """The first Beijing day of the cases and the moment they end (the moment of loading)."""
    end = as_of.astimezone(worktime.BEIJING)
    return (end - relativedelta(years=YEARS)).date(), end


def _schedule(
    rng: np.random.Generator, n: int, start: date, end: datetime
) -> tuple[npt.NDArray[Any], list[datetime]]:
    """Category and moment of each case: seasonal profiles, a gentle yearly growth, the day's
    rhythm; the last, partial day ends at ``end``."""
    months = []
    day = start
    last = end.date()
    while day <= last:
        nxt = min(date(day.year + day.month // 12, day.month % 12 + 1, 1), last + timedelta(days=1))
        months.append((day, (nxt - day).days))
        day = nxt
    codes = list(MIX)
    today = (end - datetime.combine(last, datetime.min.time(), worktime.BEIJING)).total_seconds() / 86400
    weights = np.array(
        [
            [
                MIX[c][0] * MIX[c][1][m.month - 1] * (1 + 0.08 * (m - start).days / 365)
                * (length - (1 - today if m + timedelta(days=length) > last else 0)) / 30
                for c in codes
            ]
            for m, length in months
        ]
    )  # fmt: skip
    counts = rng.multinomial(n, (weights / weights.sum()).ravel()).reshape(weights.shape)
    category, offset = [], []
    for (first, length), row in zip(months, counts, strict=True):
        for code, count in zip(codes, row, strict=True):
            category += [code] * int(count)
            offset += list((first - start).days + rng.integers(0, length, int(count)))
    days = np.array(offset, dtype=np.int64)
    second = (
        rng.integers(0, 60, n) + 60 * rng.integers(0, 60, n) + 3600 * rng.choice(24, n, p=HOURS / HOURS.sum())
    )
    midnight = datetime.combine(start, datetime.min.time(), worktime.BEIJING)
    received = []
    for d, sec in zip(days.tolist(), second.tolist(), strict=True):
        at = midnight + timedelta(days=d, seconds=sec)
        while at >= end:  # the last day's cases come before the moment of loading
            at -= timedelta(days=1)
        received.append(at)
    return np.array(category, dtype=object), received


def _locate(
    rng: np.random.Generator,
    places: Places,
    category: npt.NDArray[Any],
    received: list[datetime],
    start: date,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """A point for every case; ``repeat`` marks cases at a repeat location."""
    n = len(category)
    day = np.array([(at.date() - start).days for at in received])
    where = rng.choice(len(places.points), n, p=places.weights)
    xy = places.points[where] + rng.normal(0, 1, (n, 2)) * places.jitter[where, None] / 111_000
    repeat = np.zeros(n, dtype=bool)
    for code, share in COMMERCIAL.items():
        chosen = np.flatnonzero((category == code) & (rng.random(n) < share))
        centre = places.commercial[rng.integers(0, len(places.commercial), len(chosen))]
        xy[chosen] = centre + rng.normal(0, 60 / 111_000, (len(chosen), 2))
    for code, share in CONSTRUCTION.items():
        chosen = np.flatnonzero((category == code) & (rng.random(n) < share))
        for i in chosen:
            active = places.sites[(places.sites[:, 2] <= day[i]) & (day[i] < places.sites[:, 3])]
            if len(active):
                xy[i] = active[rng.integers(0, len(active)), :2] + rng.normal(0, 50 / 111_000, 2)
    for code, share in REPEATING.items():
        chosen = np.flatnonzero((category == code) & (rng.random(n) < share))
        xy[chosen] = places.spots[rng.integers(0, 40, len(chosen))] + rng.normal(
            0, 6 / 111_000, (len(chosen), 2)
        )
        repeat[chosen] = True
    return xy, repeat


def _owner_units(conn: Connection, catalogue: categories.Catalogue, district: str) -> dict[str, str]:
    by_name = {name: code for code, name in catalogue.departments.items()}
    rows = conn.execute(
        text("SELECT id, attributes->>'owner' FROM assets WHERE kind = 'manhole_cover' AND id LIKE :d"),
        {"d": f"{district}%"},
    )
    return {i: by_name[o] for i, o in rows if o in by_name}


class _Writer:
    """Rows for the three tables, kept in memory and written with COPY."""

    def __init__(self) -> None:
        self.cases: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.reporters: list[tuple[Any, ...]] = []

    def event(
        self,
        case: int,
        at: datetime,
        actor: str,
        role: str,
        action: str,
        a: str | None,
        b: str | None,
        unit: str | None = None,
        note: str = "",
    ) -> None:
        self.events.append((case, at, actor, role, action, a, b, unit, note))

    def copy(self, conn: Connection) -> None:
        received = {case[0]: case[INCIDENT_COLUMNS.index("received_at")] for case in self.cases}
        events = [(*event, received[event[0]]) for event in self.events]  # partitioned by the case's month
        for table, columns, rows in (
            ("incidents", INCIDENT_COLUMNS, self.cases),
            ("incident_events", (*EVENT_COLUMNS, "case_received_at"), events),
            ("incident_reporters", REPORTER_COLUMNS, self.reporters),
        ):
            sql.copy_rows(conn, table, columns, rows)


def generate_incidents(
    conn: Connection,
    seed: int,
    records: list[AreaRecord],
    index: AreaIndex,
    *,
    as_of: datetime | None = None,
    work_hours: worktime.WorkHours | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the reference cases of a district's ``records`` (when it has none yet) of the three
    years up to ``as_of`` (default now), each as far along as its timeline had got by then;
    answers how many. Numbers continue each day's serial after the cases already stored."""
    code = next(r.code for r in records if r.level == "micro_grid")[:6]
    spec = district_of(code)
    mine = {"d": f"{code}%"}
    if conn.execute(text("SELECT 1 FROM incidents WHERE street LIKE :d LIMIT 1"), mine).first():
        return 0
    start, end = span(as_of or datetime.now(worktime.BEIJING))
    rng = spec.rng(seed, 66)
    hours = work_hours or worktime.WorkHours.parse("08:30-17:30")
    catalogue = categories.load(conn)
    owners = _owner_units(conn, catalogue, code)
    places = _places(rng, records, (end.date() - start).days, spec.commercial_street)
    campaign = conn.execute(
        text(
            "SELECT DISTINCT ON (asset_id) asset_id, inspected_at FROM inspections "
            "WHERE defect IS NOT NULL AND campaign_id IS NOT NULL AND asset_id LIKE :d "
            "ORDER BY asset_id, inspected_at"
        ),
        mine,
    ).all()
    covers = np.array(sorted(owners), dtype=object)
    cover_xy = dict(
        conn.execute(
            text(
                "SELECT id, ARRAY[ST_X(point), ST_Y(point)] FROM assets "
                "WHERE kind = 'manhole_cover' AND id LIKE :d"
            ),
            mine,
        ).all()
    )
    ai_cameras = conn.execute(
        text(
            "SELECT id, ST_X(point), ST_Y(point) FROM assets "
            "WHERE kind = 'camera' AND (attributes->>'ai')::bool AND id LIKE :d"
        ),
        mine,
    ).all()

    campaign = [(a, at) for a, at in campaign if start <= at.astimezone(worktime.BEIJING).date() and at < end]
    category, received = _schedule(rng, spec.scaled(TOTAL) - len(campaign), start, end)
    n = len(category)
    xy, repeat = _locate(rng, places, category, received, start)
    source = pick(rng, SOURCES, n)
    asset = np.full(n, None, dtype=object)
    camera = np.full(n, None, dtype=object)
    for i in np.flatnonzero(category == "C0100"):
        asset[i] = covers[rng.integers(0, len(covers))]
        xy[i] = cover_xy[asset[i]]
        source[i] = "grid_worker"
    for i in np.flatnonzero(np.isin(category, ["E0507", "E0508"])):
        camera[i], *position = ai_cameras[rng.integers(0, len(ai_cameras))]
        xy[i] = position
        source[i] = "camera"
    # the campaign's defective covers, each filed the moment it was found
    category = np.concatenate([category, np.array(["C0100"] * len(campaign), dtype=object)])
    received += [at for _, at in campaign]
    xy = np.vstack([xy, np.array([cover_xy[a] for a, _ in campaign]).reshape(-1, 2)])
    source = np.concatenate([source, np.array(["grid_worker"] * len(campaign), dtype=object)])
    asset = np.concatenate([asset, np.array([a for a, _ in campaign], dtype=object)])
    camera = np.concatenate([camera, np.full(len(campaign), None, dtype=object)])
    repeat = np.concatenate([repeat, np.zeros(len(campaign), dtype=bool)])
    order = sorted(range(len(received)), key=lambda i: (received[i], i))

    located = index.locate(xy[:, 0].copy(), xy[:, 1].copy())
    cells = hexes.cells(xy[:, 0], xy[:, 1])
    first_id = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM incidents")).scalar_one()) + 1
    out = _Writer()
    serials: dict[date, int] = dict(
        conn.execute(
            text("SELECT day, last FROM incident_numbers WHERE day BETWEEN :a AND :b"),
            {"a": start, "b": end.date()},
        ).all()
    )
    last_at_spot: dict[tuple[str, int, int], tuple[int, datetime]] = {}
    total = len(order)
    for k, i in enumerate(order):
        if progress and k % 5000 == 0:
            progress(k, total)
        case_id = first_id + k
        cat = catalogue.categories[category[i]]
        at = received[i]
        local_day = at.astimezone(worktime.BEIJING).date()
        serials[local_day] = serials.get(local_day, 0) + 1
        m = int(located.index[i])
        inside = bool(located.inside[i])
        micro = index.codes[m] if inside else None
        chain = (
            routing.Chain(micro[:6], micro[:9], micro[:12], micro[:15], micro, micro[:15] in index.workers)
            if micro
            else routing.Chain(index.codes[m][:6])  # the district of the nearest micro-grid
        )
        route = routing.route(catalogue, cat, chain, owners.get(asset[i]) if asset[i] else None)
        clock = worktime.clock(at, cat.deadline_hours, cat.working_time, hours)
        status, responded, closed, satisfied, merged, handler = _fate(
            seed, rng, case_id, cat.code, at, clock, end, source[i], repeat[i], xy[i], last_at_spot, out,
            route.unit,
        )  # fmt: skip
        appeal = pick(rng, APPEALS, 1)[0] if source[i] in lifecycle.PUBLIC_SOURCES else None
        out.cases.append(
            (
                case_id,
                numbers.case_number(local_day, serials[local_day]),
                source[i],
                cat.code,
                appeal,
                f"生成 · {DESCRIPTIONS.get(cat.code, cat.name)}",
                f"SRID=4326;POINT({float(xy[i, 0])!r} {float(xy[i, 1])!r})",
                int(cells[i]),
                "asset" if asset[i] else ("camera" if camera[i] else "coordinates"),
                json.dumps({"lon": round(float(xy[i, 0]), 7), "lat": round(float(xy[i, 1]), 7)}),
                inside,
                index.generation,
                chain.street,
                chain.community,
                chain.grid,
                chain.micro_grid,
                asset[i],
                camera[i],
                round(float(rng.uniform(0.7, 0.99)), 2) if camera[i] else None,
                route.unit,
                route.second_unit,
                route.routed_by,
                status,
                at,
                responded,
                clock.warn_at,
                clock.deadline,
                clock.escalate_at,
                closed,
                satisfied,
                merged,
                handler,
                closed or responded or at,
            )
        )
        name = rng.choice(list(SURNAMES)) + ("女士" if rng.random() < 0.5 else "先生")
        phone = f"1{rng.choice([3, 5, 8])}{rng.integers(0, 10**9):09d}"
        if source[i] in lifecycle.PUBLIC_SOURCES:
            out.reporters.append((case_id, source[i], name, phone, bool(rng.random() < 0.3), None, at))
            if merged:
                out.reporters.append((merged, source[i], name, phone, False, case_id, at))
        else:
            worker = rng.choice(list(SURNAMES)) + rng.choice(list(GIVEN))
            out.reporters.append(
                (case_id, source[i], worker if camera[i] is None else None, None, True, None, at)
            )
    if progress:
        progress(total, total)
    partitions.ensure(conn, datetime.combine(start, time(), worktime.BEIJING), end)
    out.copy(conn)
    conn.execute(
        text("SELECT setval(pg_get_serial_sequence('incidents', 'id'), (SELECT max(id) FROM incidents))")
    )
    conn.execute(
        text(
            "INSERT INTO incident_numbers (day, last) "
            "SELECT * FROM unnest(CAST(:d AS date[]), CAST(:n AS int[])) "
            "ON CONFLICT (day) DO UPDATE SET last = greatest(incident_numbers.last, EXCLUDED.last)"
        ),
        {"d": list(serials), "n": list(serials.values())},
    )
    conn.execute(text("ANALYZE incidents"))
    conn.execute(text("ANALYZE incident_events"))
    return total


def _fate(
    seed: int,
    rng: np.random.Generator,
    case_id: int,
    code: str,
    at: datetime,
    clock: worktime.Clock,
    end: datetime,
    source: str,
    repeat: bool,
    xy: npt.NDArray[np.float64],
    last_at_spot: dict[tuple[str, int, int], tuple[int, datetime]],
    out: _Writer,
    unit: str,
) -> tuple[str, datetime | None, datetime | None, bool | None, int | None, str | None]:
    """How a case had gone by ``end``: its history written to ``out``; answers (status,
    responded, closed, satisfied, merged into, handler). A repeat report within three days
    of the last one at its spot is merged into it; every other case follows its timeline
    (``layers.reference.lifecycle``) as far as ``end``, the rest left to the demo feed."""
    out.event(
        case_id, at, source, "public" if source != "grid_worker" else "field", "create", None, "received",
        unit, "generated",
    )  # fmt: skip
    spot = (code, round(xy[0] * 5000), round(xy[1] * 5000))  # ~20 m cells
    earlier = last_at_spot.get(spot)
    last_at_spot[spot] = (case_id, at)
    merge_at = at + timedelta(minutes=9)
    recent = earlier is not None and at - earlier[1] < timedelta(hours=72)
    if repeat and earlier and recent and rng.random() < 0.5 and merge_at <= end:
        out.event(
            case_id, merge_at, f"调度员{rng.integers(1, 13):02d}", "dispatcher", "merge", "received",
            "duplicate", None, f"merged into {earlier[0]}",
        )  # fmt: skip
        return "duplicate", None, None, None, earlier[0], None
    done = [s for s in lifecycle.timeline(seed, case_id, at, clock.deadline, source) if s.at <= end]
    for s in done:
        by = None if s.action == "evaluate" else unit
        out.event(case_id, s.at, s.actor, s.role, s.action, s.from_status, s.to, by, s.note)
    now = lifecycle.state(done)
    return now.status, now.responded, now.closed, now.satisfied, None, now.handler

"""The demo feed (``wangge demo feed``): the reference district goes on living after its load.

Every round it files the generated cases whose moment has come, through the real intake
path (``layers.cases.intake.create``: located, routed, numbered, clocked) under an
Idempotency-Key that names the seed, the day and the case, so a feed restarted, or run
again over the same hours, files nothing twice; then it carries every generated case one
step further along its timeline (``layers.reference.lifecycle``) through the workflow, as
the district's dispatchers and field workers would. A case someone has worked by hand is
theirs: the feed leaves it alone.

The day's cases are planned from the seed and the day alone (about ``per_day`` of them,
with the categories' seasons and the day's rhythm of the loaded history), so the feed is
deterministic: the same seed files the same cases at the same moments. Only one feed runs
on a database: it holds a session advisory lock, and a second one refuses to start.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine, and_, func, or_, select
from sqlalchemy.exc import DBAPIError

from geo.errors import Conflict, WanggeError
from layers.accounts.actors import Actor
from layers.cases import categories, intake, workflow, worktime
from layers.db import sql
from layers.db.models import AREAS, INCIDENT_EVENTS, INCIDENTS
from layers.db.vocabulary import OPEN
from layers.grid.index import AreaIndex
from layers.reference import lifecycle
from layers.reference.incidents import APPEALS, DESCRIPTIONS, HOURS, MIX, SOURCES, pick

LOCK = "wangge demo feed"
KEY = "demo-feed:{seed}:{day}:{n}"
PHOTO = "/static/demo/generated-after.svg"  # the generated after-photo of a generated case
FILER = Actor("演示数据", "dispatcher")  # who files the feed's cases (the event log says so)
Say = Callable[[str], None]


@dataclass(frozen=True)
class Planned:
    at: datetime
    key: str
    report: intake.IncidentIn


@dataclass(frozen=True)
class Spots:
    """Where cases happen: each micro-grid's inner point, weighted by its households."""

    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]
    jitter_deg: npt.NDArray[np.float64]


def spots(conn: Connection) -> Spots:
    a = AREAS.c
    inner = func.ST_PointOnSurface(a.geom)
    rows = conn.execute(
        select(
            func.ST_X(inner),
            func.ST_Y(inner),
            func.coalesce(a.households, 0) + 1,
            func.sqrt(func.ST_Area(func.Geography(a.geom))) / 4 / 111_000,
        )
        .where(a.level == "micro_grid", a.generation == sql.active_generation())
        .order_by(a.code)
    ).all()
    lon, lat, weight, jitter = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    return Spots(lon, lat, weight / weight.sum(), jitter)


def plan(seed: int, day: date, per_day: float, where: Spots) -> list[Planned]:
    """The generated cases of one Beijing day, in time order (the same list on every call)."""
    rng = np.random.default_rng([seed, day.toordinal(), int(per_day * 1000)])
    codes = list(MIX)
    weights = np.array([MIX[c][0] * MIX[c][1][day.month - 1] for c in codes])
    n = int(rng.poisson(per_day))
    category = rng.choice(np.array(codes, dtype=object), n, p=weights / weights.sum())
    seconds = np.sort(
        3600 * rng.choice(24, n, p=HOURS / HOURS.sum()) + rng.integers(0, 3600, n)
    )  # sorted: the case numbers follow the moments
    at = rng.choice(len(where.lon), n, p=where.weight)
    dx, dy = rng.normal(0, 1, (2, n)) * where.jitter_deg[at]
    source = pick(rng, [s for s in SOURCES if s[0] != "photo_report"], n)
    midnight = datetime.combine(day, datetime.min.time(), worktime.BEIJING)
    out = []
    for k in range(n):
        public = source[k] in lifecycle.PUBLIC_SOURCES
        report = intake.IncidentIn(
            source=source[k],
            category=category[k],
            description=f"生成 · {DESCRIPTIONS.get(category[k], '')}",
            appeal_type=pick(rng, APPEALS, 1)[0] if public else None,
            lon=round(float(where.lon[at[k]] + dx[k]), 7),
            lat=round(float(where.lat[at[k]] + dy[k]), 7),
            reporter=intake.Reporter(
                name="演示居民" if public else "演示网格员",
                phone=f"1390000{k % 10000:04d}" if public else None,
            ),
        )
        out.append(
            Planned(
                midnight + timedelta(seconds=int(seconds[k])), KEY.format(seed=seed, day=day, n=k), report
            )
        )
    return out


@dataclass
class Feed:
    """One running feed: what it has filed up to, and the parts it files with."""

    seed: int
    per_day: float
    hours: worktime.WorkHours
    cursor: datetime  # every planned case at or before this moment has been filed
    where: Spots
    index: AreaIndex
    catalogue: categories.Catalogue

    def file_due(self, conn: Connection, now: datetime) -> int:
        """File the planned cases of (cursor, now], all in one batch (``intake.file_many``);
        answers how many were new. The caller moves the cursor once the transaction has committed."""
        due = []
        day = self.cursor.astimezone(worktime.BEIJING).date()
        while day <= now.astimezone(worktime.BEIJING).date():
            for p in plan(self.seed, day, self.per_day, self.where):
                if self.cursor < p.at <= now:
                    due.append(intake.prepare(
                        conn, self.index, self.catalogue, p.report, actor=FILER, work_hours=self.hours,
                        key=p.key, now=p.at,
                    ))  # fmt: skip
            day += timedelta(days=1)
        filed = 0
        for result in intake.file_many(conn, due):
            if isinstance(result, WanggeError):  # a generated report is never refused: a defect, said so
                raise result
            filed += result.created
        return filed

    def work_due(self, conn: Connection, now: datetime) -> int:
        """Carry every generated case (one nobody has worked by hand) along its timeline up to
        ``now``; answers how many steps were taken."""
        c = INCIDENTS.c
        done = (
            select(func.count())
            .where(
                INCIDENT_EVENTS.c.incident_id == c.id,
                INCIDENT_EVENTS.c.case_received_at == c.received_at,  # the case's month alone
                INCIDENT_EVENTS.c.action.in_(("transition", "evaluate")),
            )
            .scalar_subquery()
        )
        rows = conn.execute(
            select(c.id, c.status, c.received_at, c.deadline, c.source, c.unit, done.label("done"))
            .where(
                c.description.startswith("生成"),
                or_(
                    c.status.in_(OPEN),
                    and_(c.status == "closed", c.satisfied.is_(None), c.closed_at > now - timedelta(days=3)),
                ),
            )
            .order_by(c.id)
        ).all()
        steps = 0
        for r in rows:
            timeline = lifecycle.timeline(self.seed, r.id, r.received_at, r.deadline, r.source)
            if r.done and (r.done > len(timeline) or timeline[r.done - 1].to != r.status):
                continue  # worked by hand: not the feed's any more
            for step in timeline[r.done :]:
                if step.at > now:
                    break
                _take(conn, r.id, r.unit, step)
                steps += 1
        return steps


def _take(conn: Connection, case_id: int, unit: str, step: lifecycle.Step) -> None:
    actor = Actor(step.actor, step.role, unit if step.role == "field" else None)
    if step.action == "evaluate":
        workflow.evaluate(conn, case_id, bool(step.satisfied), actor)
        return
    photos = [PHOTO] if step.to == "verifying" else None
    workflow.transition(conn, case_id, step.to, actor, step.note, photos)


def start(conn: Connection, seed: int, per_day: float, hours: worktime.WorkHours, catch_up_days: int) -> Feed:
    """A feed that goes on from the newest generated case (at most ``catch_up_days`` back)."""
    c = INCIDENTS.c
    newest = conn.execute(select(func.max(c.received_at)).where(c.description.startswith("生成"))).scalar()
    now = conn.execute(select(func.now())).scalar_one()
    floor = now - timedelta(days=catch_up_days)
    generation = conn.execute(select(sql.active_generation())).scalar_one()
    return Feed(
        seed, per_day, hours, max(newest or now, floor), spots(conn), AreaIndex(conn, generation),
        categories.load(conn),
    )  # fmt: skip


def run(
    engine: Engine,
    seed: int,
    *,
    per_day: float,
    tick_s: float,
    catch_up_days: int,
    hours: worktime.WorkHours,
    rounds: int | None = None,
    say: Say = print,
) -> tuple[int, int]:
    """Run the feed (``rounds`` rounds, or until stopped); answers (cases filed, steps taken).

    Refuses (``Conflict``) when another feed holds the database's feed lock."""
    with engine.connect() as holder:  # the lock lives as long as this session
        if not holder.execute(select(func.pg_try_advisory_lock(func.hashtextextended(LOCK, 0)))).scalar():
            raise Conflict("a demo feed is already running on this database", field="feed")
        holder.commit()
        with engine.begin() as conn:
            feed = start(conn, seed, per_day, hours, catch_up_days)
        since = f"{feed.cursor.astimezone(worktime.BEIJING):%Y-%m-%d %H:%M:%S} Beijing"
        say(f"wangge: demo feed from {since}, ~{per_day:g} cases a day (seed {seed})")
        filed = steps = done = 0
        try:
            while rounds is None or done < rounds:
                try:
                    with engine.begin() as conn:
                        now = conn.execute(select(func.now())).scalar_one()
                        new, took = feed.file_due(conn, now), feed.work_due(conn, now)
                except DBAPIError as e:  # the database restarting: this round again, later
                    say(f"wangge: demo feed waits for the database ({type(e.orig).__name__})")
                    time.sleep(tick_s)
                    continue
                feed.cursor = now
                filed, steps, done = filed + new, steps + took, done + 1
                if new or took:
                    at = f"{now.astimezone(worktime.BEIJING):%Y-%m-%d %H:%M:%S}"
                    say(f"wangge: demo feed {at}: {new} filed, {took} steps (in all {filed} / {steps})")
                if rounds is None or done < rounds:
                    time.sleep(tick_s)
        finally:
            with contextlib.suppress(DBAPIError):
                holder.execute(select(func.pg_advisory_unlock(func.hashtextextended(LOCK, 0))))
    return filed, steps

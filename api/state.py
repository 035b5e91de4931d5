"""What each worker process keeps between requests, opened in ``lifespan``.

One object per worker: the database, the locator index (rebuilt when a generation
changes), the tile cache and the hotspot weights. Routes reach it only through
``api.deps``.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import anyio
from cachetools import LRUCache

from api.db import Database
from api.filing import Filer
from api.ratelimit import SharedBuckets
from api.settings import Settings
from layers.analytics.aggregates import WEIGHTS_KEPT
from layers.cases.worktime import WorkHours
from layers.grid.holder import IndexHolder
from layers.tiles.cache import TileCache

SPAWN = multiprocessing.get_context("spawn")  # fresh interpreters: no forked copy of the pool's threads


@dataclass
class WorkerState:
    """The per-worker state of the app (``app.state.worker``)."""

    settings: Settings
    db: Database
    index: IndexHolder
    tiles: TileCache
    work_hours: WorkHours
    secret: str
    rate: SharedBuckets | None = None
    heavy: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(2))
    heavy_jobs: int = 2
    processes: ProcessPoolExecutor | None = None  # started at the first JSON batch, not before
    printing: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(1))
    signin: tuple[SharedBuckets, SharedBuckets] | None = None  # failed sign-ins: per account, per address
    public_reports: tuple[SharedBuckets, SharedBuckets] | None = None  # the public's: per device, per address
    reports: LRUCache[Any, Any] = field(default_factory=lambda: LRUCache(maxsize=32))  # per data version
    hex_weights: LRUCache[Any, Any] = field(default_factory=lambda: LRUCache(maxsize=WEIGHTS_KEPT))
    filer: Filer = field(init=False)  # intake's group commit, on whatever ``db`` is at the time

    def __post_init__(self) -> None:
        self.filer = Filer(self)

    @classmethod
    def open(
        cls, settings: Settings, db: Database, work_hours: WorkHours, secret: str, rate: SharedBuckets | None
    ) -> WorkerState:
        engine = db.engine
        return cls(
            settings=settings,
            db=db,
            index=IndexHolder(
                engine,
                check_s=settings.index_check_s,
                cell_m=settings.locate_cell_m,
                cache=settings.var_dir / "index",
            ),
            tiles=TileCache(settings.index_check_s, settings.tile_cache_mb),
            work_hours=work_hours,
            secret=secret,
            rate=rate,
            heavy=anyio.CapacityLimiter(settings.heavy_jobs),
            printing=anyio.CapacityLimiter(settings.print_jobs),
            heavy_jobs=settings.heavy_jobs,
        )

    def pool(self) -> ProcessPoolExecutor:
        """The heavy-job processes (started on first use, again after ``close``)."""
        if self.processes is None:
            self.processes = ProcessPoolExecutor(self.heavy_jobs, mp_context=SPAWN)
        return self.processes

    def close(self) -> None:
        """Stop the heavy-job processes, close the shared buckets and the pools (end of ``lifespan``)."""
        if self.processes is not None:
            self.processes.shutdown(cancel_futures=True)
            self.processes = None
        for buckets in (*(self.signin or ()), *(self.public_reports or ())):
            buckets.close()
        self.signin = self.public_reports = None
        self.db.close()

"""What each worker process keeps between requests, opened in ``lifespan``.

One object per worker: the database, the locator index (rebuilt when a generation
changes), the tile cache and the hotspot weights. Routes reach it only through
``api.deps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio
from cachetools import LRUCache

from api.db import Database
from api.ratelimit import SharedBuckets
from api.settings import Settings
from layers.analytics.aggregates import WEIGHTS_KEPT
from layers.cases.worktime import WorkHours
from layers.grid.holder import IndexHolder
from layers.tiles.cache import TileCache


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
    printing: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(1))
    signin: tuple[SharedBuckets, SharedBuckets] | None = None  # failed sign-ins: per account, per address
    public_reports: tuple[SharedBuckets, SharedBuckets] | None = None  # the public's: per device, per address
    reports: LRUCache[Any, Any] = field(default_factory=lambda: LRUCache(maxsize=32))  # per data version
    hex_weights: LRUCache[Any, Any] = field(default_factory=lambda: LRUCache(maxsize=WEIGHTS_KEPT))

    @classmethod
    def open(
        cls, settings: Settings, db: Database, work_hours: WorkHours, secret: str, rate: SharedBuckets | None
    ) -> WorkerState:
        engine = db.engine
        return cls(
            settings=settings,
            db=db,
            index=IndexHolder(engine, check_s=settings.index_check_s, cell_m=settings.locate_cell_m),
            tiles=TileCache(settings.index_check_s, settings.tile_cache_mb),
            work_hours=work_hours,
            secret=secret,
            rate=rate,
            heavy=anyio.CapacityLimiter(settings.heavy_jobs),
            printing=anyio.CapacityLimiter(settings.print_jobs),
        )

    def close(self) -> None:
        """Close the shared buckets and the connection pool (the end of ``lifespan``)."""
        for buckets in (*(self.signin or ()), *(self.public_reports or ())):
            buckets.close()
        self.signin = self.public_reports = None
        self.db.close()

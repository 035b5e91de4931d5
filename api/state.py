"""What each worker process keeps between requests, opened in ``lifespan``.

One object per worker: the database, the locator index (rebuilt when a generation
changes), the tile cache and the hotspot weights. Routes reach it only through
``api.deps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache

from api.db import Database
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
    hex_weights: LRUCache[Any, Any] = field(default_factory=lambda: LRUCache(maxsize=WEIGHTS_KEPT))

    @classmethod
    def open(cls, settings: Settings, db: Database, work_hours: WorkHours, secret: str) -> WorkerState:
        engine = db.engine
        return cls(
            settings=settings,
            db=db,
            index=IndexHolder(engine, check_s=settings.index_check_s, cell_m=settings.locate_cell_m),
            tiles=TileCache(engine, settings.index_check_s, settings.tile_cache_mb),
            work_hours=work_hours,
            secret=secret,
        )

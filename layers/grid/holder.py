"""The index each worker process keeps, rebuilt when another generation becomes active.

A worker checks at most every ``check_s`` seconds (``WANGGE_INDEX_CHECK_S``) which generation is
active (one indexed one-row query); when it changed (``wangge layers activate``,
``demo load --force``) the next request rebuilds the index, under a lock so that
concurrent requests wait for one build instead of starting many.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from geo.errors import WanggeError
from layers.grid import areas
from layers.grid.index import AreaIndex, AssetIndex, assets_version

log = logging.getLogger("wangge.locate")


class IndexHolder:
    """Lazily built, self-refreshing ``AreaIndex`` of the active generation."""

    def __init__(self, engine: Engine, *, check_s: float, cell_m: float, cache: Path | None = None):
        self.engine = engine
        self.cache = cache  # where built locators are shared (``AreaIndex``)
        self.check_s = check_s
        self.cell_m = cell_m
        self.index: AreaIndex | None = None
        self.checked = 0.0
        self.lock = threading.Lock()

    def warm(self) -> None:
        """Build the index at start-up so the first request is fast; a database that is
        down or has no active generation is not fatal here (requests will say so)."""
        try:
            self.get()
        except (WanggeError, DBAPIError) as exc:
            log.warning("locator not built at start-up: %s", getattr(exc, "message", type(exc).__name__))

    def fresh(self) -> AreaIndex | None:
        """The index if it was checked recently enough to use without a query, else None."""
        current = self.index
        if current is not None and time.monotonic() - self.checked < self.check_s:
            return current
        return None

    def get(self) -> AreaIndex:
        """The index of the active generation (raises ``NotFound`` when none is active)."""
        current = self.fresh()
        if current is not None:
            return current
        with self.lock:
            if self.index is not None and time.monotonic() - self.checked < self.check_s:
                return self.index
            with self.engine.connect() as conn:
                active = areas.require_active(conn)
                if self.index is None or self.index.generation != active:
                    self.index = AreaIndex(conn, active, cell_m=self.cell_m, cache=self.cache)
                version = assets_version(conn)
                if self.index.assets is None or self.index.assets.version != version:
                    self.index.assets = AssetIndex(conn, self.index.plane, version)
            self.checked = time.monotonic()
            return self.index

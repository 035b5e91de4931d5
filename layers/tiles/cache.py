"""Each worker's cache of rendered vector tiles, keyed by the layer versions it was made from.

Every ``index_check_s`` seconds at most, one query reads the active generation and the
``layer_versions`` counters; a tile is served from memory only if it was made from the
same ones, so a layer change (import, edit, another generation) is seen within that time.
Mutated only on the event loop, so it needs no lock.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from cachetools import LRUCache

from layers.tiles import mvt


@dataclass(frozen=True)
class Tile:
    body: bytes
    etag: str


class TileCache:
    """Rendered tiles in an LRU bounded by bytes, and the versions they are valid for."""

    def __init__(self, check_s: float, max_mb: int):
        self.check_s = check_s
        self.tiles: LRUCache[tuple[object, ...], Tile] = LRUCache(
            maxsize=max(1, max_mb * 1024 * 1024), getsizeof=lambda t: len(t.body) + 100
        )
        self.enabled = max_mb > 0
        self.generation: int | None = None
        self.versions: dict[str, int] = {}
        self.checked = float("-inf")

    def stale(self) -> bool:
        return time.monotonic() - self.checked >= self.check_s

    def update(self, generation: int | None, versions: dict[str, int]) -> None:
        """Adopt fresh versions; tiles of a changed layer are dropped at once."""
        changed = {layer for layer, v in versions.items() if self.versions.get(layer) != v}
        if generation != self.generation:
            changed.add("areas")
        if changed and self.tiles:
            for key in [k for k in self.tiles if k[0] in changed]:
                del self.tiles[key]
        self.generation, self.versions, self.checked = generation, versions, time.monotonic()

    def key(self, tileset: mvt.Tileset, z: int, x: int, y: int) -> tuple[object, ...]:
        return (tileset.layer, tileset.name, z, x, y, self.generation, self.versions.get(tileset.layer))

    def get(self, key: tuple[object, ...]) -> Tile | None:
        return self.tiles.get(key) if self.enabled else None

    def put(self, key: tuple[object, ...], body: bytes) -> Tile:
        tile = Tile(body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')
        if self.enabled:
            self.tiles[key] = tile
        return tile

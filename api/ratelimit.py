"""Rate limits every worker process shares: token buckets in one memory-mapped file.

Each worker maps the same file (``var/ratelimit-<port>.buckets``) and takes
its tokens under an exclusive ``flock``, so N workers give a caller one budget, not N.
A bucket holds up to a minute's worth (``per_minute``) and refills continuously. The
table has a fixed number of slots; a caller's key hashes to a short run of them and,
when they are all taken, the longest-idle caller there is forgotten — as an LRU would.
Times are ``time.monotonic()``, one clock for every process of a machine.

Written here rather than taken from a library: the maintained limiters (``limits``,
``slowapi``) share state only through Redis, Memcached or MongoDB, servers this
platform does not run; this needs only the file system. Several machines behind one
address share a limit at the reverse proxy, or not at all.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
from pathlib import Path

from starlette.types import Scope


def caller_of(scope: Scope) -> str:
    """Whose budget a request spends: its client address (credentials are not trusted here)."""
    client = scope.get("client") or ("?", 0)
    return "a:" + str(client[0])


SLOT = struct.Struct("<Qdd")  # key hash (0 = free), tokens, last refill
PROBES = 8


class SharedBuckets:
    """Token buckets per key, shared by every process that opens the same ``path``."""

    def __init__(
        self,
        path: Path,
        per_minute: int,
        *,
        namespace: str = "",
        slots: int = 1 << 16,
        window_s: float = 60.0,
    ):
        self.namespace = namespace  # deployments sharing a file (one port, two databases) stay apart
        self.rate = per_minute / window_s  # ``per_minute`` per ``window_s``: a minute unless said
        self.capacity = float(per_minute)
        self.slots = slots
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        size = slots * SLOT.size
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            if os.fstat(self.fd).st_size != size:  # new, or made for another table size
                os.ftruncate(self.fd, 0)
                os.ftruncate(self.fd, size)
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.table = mmap.mmap(self.fd, size)

    def _key(self, key: str) -> int:
        digest = hashlib.blake2b(f"{self.namespace}\0{key}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") or 1

    def take(self, key: str, now: float, cost: float = 1.0) -> float:
        """0 when a request of ``cost`` tokens may pass (they are taken), else the seconds until it may."""
        hashed = self._key(key)
        start = hashed % self.slots
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            slot, tokens, last = self._find(hashed, start, now)
            tokens = min(self.capacity, tokens + max(0.0, now - last) * self.rate)
            if tokens >= cost:
                SLOT.pack_into(self.table, slot * SLOT.size, hashed, tokens - cost, now)
                return 0.0
            SLOT.pack_into(self.table, slot * SLOT.size, hashed, tokens, now)
            return (cost - tokens) / self.rate if self.rate else float("inf")
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def peek(self, key: str, now: float, cost: float = 1.0) -> float:
        """Like ``take`` but takes nothing: 0 when ``cost`` tokens are there, else the wait."""
        hashed = self._key(key)
        fcntl.flock(self.fd, fcntl.LOCK_SH)
        try:
            _, tokens, last = self._find(hashed, hashed % self.slots, now)
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        tokens = min(self.capacity, tokens + max(0.0, now - last) * self.rate)
        return 0.0 if tokens >= cost else (cost - tokens) / self.rate

    def _find(self, hashed: int, start: int, now: float) -> tuple[int, float, float]:
        """The caller's slot (tokens, last), a free one, or the longest-idle one of the run."""
        oldest, oldest_at = start, float("inf")
        for k in range(PROBES):
            slot = (start + k) % self.slots
            owner, tokens, last = SLOT.unpack_from(self.table, slot * SLOT.size)
            if owner == hashed:
                return slot, tokens, last
            if owner == 0:
                return slot, self.capacity, now
            if last < oldest_at:
                oldest, oldest_at = slot, last
        return oldest, self.capacity, now

    def close(self) -> None:
        self.table.close()
        os.close(self.fd)

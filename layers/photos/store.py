"""The photo store: files by content (the SHA-256 of the original), behind one interface.

``PhotoStore`` is what the rest of the platform uses; ``FileStore`` keeps the files in a
folder (``WANGGE_PHOTO_DIR``), fanned out by the first two hex digits so no folder grows
huge. A file is written to a temporary name, flushed to disk and renamed into place, so a
reader never sees half a photo and a crash leaves at most a temporary file, which
``sweep_partial`` removes. An S3-compatible store would implement the same methods.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

VARIANTS = ("original", "display", "thumb")


class PhotoStore(Protocol):
    """Where the bytes of photos live (the rows are in PostgreSQL)."""

    def put(self, photo_id: str, variant: str, data: bytes) -> None: ...

    def path(self, photo_id: str, variant: str) -> Path | None: ...

    def delete(self, photo_id: str) -> None: ...

    def ids(self) -> Iterator[str]: ...

    def age_s(self, photo_id: str) -> float: ...

    def sweep_partial(self, older_than_s: float = 3600.0) -> int: ...


class FileStore:
    """Photos as files under ``root``: ``ab/abcdef….original`` and its display and thumb copies."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _file(self, photo_id: str, variant: str) -> Path:
        if variant not in VARIANTS:
            raise ValueError(f"no photo variant {variant!r}")
        return self.root / photo_id[:2] / f"{photo_id}.{variant}"

    def put(self, photo_id: str, variant: str, data: bytes) -> None:
        target = self._file(photo_id, variant)
        if target.exists():  # content-addressed: the same bytes are there already
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def path(self, photo_id: str, variant: str) -> Path | None:
        found = self._file(photo_id, variant)
        return found if found.is_file() else None

    def delete(self, photo_id: str) -> None:
        for variant in VARIANTS:
            self._file(photo_id, variant).unlink(missing_ok=True)

    def ids(self) -> Iterator[str]:
        """Every photo with a file in the store (for the sweep of files without a row)."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir() and len(folder.name) == 2:
                yield from sorted({f.name.split(".")[0] for f in folder.glob("*.original")})

    def sweep_partial(self, older_than_s: float = 3600.0) -> int:
        """Remove temporary files a crash left behind; answers how many."""
        if not self.root.is_dir():
            return 0
        limit, removed = time.time() - older_than_s, 0
        for stale in self.root.glob("*/.partial-*"):
            if stale.stat().st_mtime < limit:
                stale.unlink(missing_ok=True)
                removed += 1
        return removed

    def age_s(self, photo_id: str) -> float:
        """Seconds since the original was written (a file without a row is swept only when old)."""
        return time.time() - self._file(photo_id, "original").stat().st_mtime

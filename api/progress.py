"""Progress lines with counts and an ETA for long-running commands."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Callable ``(done, total)`` that prints ``label: done/total (pct) ETA`` at most every 0.5 s."""

    def __init__(self, label: str, stream: TextIO = sys.stderr):
        self.label = label
        self.stream = stream
        self.start = time.monotonic()
        self.last = 0.0
        self.first: tuple[float, int] | None = None
        self.tty = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.first is None:
            self.first = (now, done)  # the rate is measured from here: set-up is not work done
        if done < total and now - self.last < (0.5 if self.tty else 5.0):
            return
        self.last = now
        t0, d0 = self.first
        line = f"{self.label}: {done:,}/{total:,} ({done / max(total, 1):.0%})"
        if d0 < done < total:
            line += f", ETA {(now - t0) / (done - d0) * (total - done):.0f} s"
        self.stream.write(("\r" + line + ("\n" if done >= total else "")) if self.tty else line + "\n")
        self.stream.flush()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

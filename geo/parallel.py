"""numpy work on threads: the cores a process may use, and ordered, bounded maps.

numpy, GEOS, scipy's ``ndimage`` and pyarrow let go of the GIL in their loops, so threads
of one process share the cores without copying arrays between processes. The locator's
build (``geo.locate``) and the bulk answers (``layers.io.pointfiles``) both keep their
results in input order and hold at most a few items in flight, so memory stays bounded.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")

_END = object()


def cores() -> int:
    """The cores this process may run on (its affinity where the system tells it).

    >>> cores() >= 1
    True
    """
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def in_order(workers: Executor, work: Callable[[T], R], items: Iterable[T], ahead: int) -> Iterator[R]:
    """``work`` of each item, in order, at most ``ahead`` of them running or waiting.

    >>> with ThreadPoolExecutor(3) as pool:
    ...     list(in_order(pool, lambda x: x * x, range(6), ahead=2))
    [0, 1, 4, 9, 16, 25]
    """
    pending: deque[Future[R]] = deque()
    for item in items:
        pending.append(workers.submit(work, item))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def ahead(items: Iterator[T]) -> Iterator[T]:
    """``items`` in order, the next one made on a thread while the consumer works on this one.

    >>> list(ahead(iter(range(5))))
    [0, 1, 2, 3, 4]
    """
    with ThreadPoolExecutor(1, thread_name_prefix="ahead") as pool:
        future = pool.submit(next, items, _END)
        while True:
            item = future.result()
            if item is _END:
                return
            future = pool.submit(next, items, _END)
            yield cast(T, item)

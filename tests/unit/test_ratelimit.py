"""The shared rate limit: one budget for every process that maps the file."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from api.ratelimit import SharedBuckets


def _spend(path: str, n: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    buckets = SharedBuckets(Path(path), per_minute=60, namespace="db")
    now = time.monotonic()
    out.put(sum(buckets.take("a:10.0.0.1", now) == 0 for _ in range(n)))


def test_two_processes_share_one_budget(tmp_path: Path) -> None:
    path = str(tmp_path / "buckets")
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters, as uvicorn's workers are
    out = spawn.Queue()
    workers = [spawn.Process(target=_spend, args=(path, 50, out)) for _ in (0, 1)]
    for w in workers:
        w.start()
    passed = [out.get(timeout=60) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    assert 60 <= sum(passed) <= 62  # a minute's worth between them (and a second's refill), not 60 each


def test_budgets_refill_and_say_when(tmp_path: Path) -> None:
    buckets = SharedBuckets(tmp_path / "b", per_minute=60)
    assert [buckets.take("k", 0.0) for _ in range(60)] == [0.0] * 60
    wait = buckets.take("k", 0.0)
    assert 0.9 < wait <= 1.0  # one token a second
    assert buckets.take("k", 1.0) == 0.0
    assert buckets.take("other", 1.0) == 0.0  # another caller, another bucket


def test_namespaces_sharing_a_file_stay_apart(tmp_path: Path) -> None:
    one = SharedBuckets(tmp_path / "b", per_minute=1, namespace="wangge")
    two = SharedBuckets(tmp_path / "b", per_minute=1, namespace="wangge_test")
    assert one.take("a:1", 0.0) == 0.0 and one.take("a:1", 0.0) > 0
    assert two.take("a:1", 0.0) == 0.0


def test_a_full_run_of_slots_forgets_the_longest_idle(tmp_path: Path) -> None:
    buckets = SharedBuckets(tmp_path / "b", per_minute=1, slots=8)
    for k in range(8):
        buckets.take(f"caller{k}", float(k))
    assert buckets.take("newcomer", 100.0) == 0.0  # a slot was freed, not refused

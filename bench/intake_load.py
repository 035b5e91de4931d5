"""Concurrent case intake from a second process, the way a well-behaved client retries.

Reports come from points spread over the district (``spread``).

``python -m bench.intake_load BASE_URL SECONDS [WORKERS] [PREFIX]`` — WORKERS clients
file reports for SECONDS, each with its own ``Idempotency-Key``; a 503 (honouring
``Retry-After``, capped at 2 s) or a dropped connection is retried with the same key
until the case is acknowledged (at most 90 s per report). Prints one JSON line: the
acknowledged keys with their case ids, counts by status, latencies of acknowledged
requests, and whether every 503 carried ``Retry-After``. Loopback only, bounded in time.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

import httpx
import numpy as np

GIVE_UP_S = 90.0
BOX = (120.33, 36.06, 120.42, 36.13)  # around 市北区: reports come from all over the district


def spread(n: int) -> dict[str, float]:
    """The ``n``-th report's point: the R2 low-discrepancy sequence over ``BOX`` (deterministic,
    evenly spread, as a district's reports are; not one street, where every report would be
    the previous ones' duplicate).

    >>> spread(0), spread(1)["lon"] != spread(2)["lon"]
    ({'lon': 120.375, 'lat': 36.095}, True)
    """
    x0, y0, x1, y1 = BOX
    u, v = (0.5 + n * 0.7548776662466927) % 1, (0.5 + n * 0.5698402909980532) % 1
    return {"lon": round(x0 + u * (x1 - x0), 6), "lat": round(y0 + v * (y1 - y0), 6)}


async def _report(
    client: httpx.AsyncClient,
    key: str,
    n: int,
    statuses: Counter[str],
    latencies: list[float],
    retry_after: list[bool],
) -> int:
    body = {"source": "hotline", "category": "E0505", **spread(n), "description": f"load {key}"}
    deadline = time.monotonic() + GIVE_UP_S
    while True:
        start = time.monotonic()
        try:
            got = await client.post("/api/incidents", json=body, headers={"Idempotency-Key": key})
        except httpx.HTTPError as exc:
            statuses[type(exc).__name__] += 1
            wait = 0.2
        else:
            statuses[str(got.status_code)] += 1
            if got.status_code in (200, 201):
                latencies.append(time.monotonic() - start)
                return int(got.json()["id"])
            if got.status_code != 503:
                raise RuntimeError(f"{key}: unexpected {got.status_code} {got.text[:200]}")
            retry_after.append("retry-after" in got.headers)
            wait = min(float(got.headers.get("retry-after", 1)), 2.0)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{key}: not acknowledged within {GIVE_UP_S:.0f} s")
        await asyncio.sleep(wait)


async def run(base: str, seconds: float, workers: int, prefix: str) -> dict[str, object]:
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    retry_after: list[bool] = []
    acknowledged: dict[str, int] = {}
    stop = time.monotonic() + seconds
    counter = iter(range(10**9))
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)

    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:

        async def worker() -> None:
            while time.monotonic() < stop:
                n = next(counter)
                key = f"{prefix}-{n:07d}"
                acknowledged[key] = await _report(client, key, n, statuses, latencies, retry_after)

        await asyncio.gather(*(worker() for _ in range(workers)))
    lat = np.array(latencies) * 1000 if latencies else np.zeros(1)
    return {
        "acknowledged": acknowledged,
        "statuses": dict(statuses),
        "every_503_had_retry_after": all(retry_after),
        "p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p99_ms": round(float(np.percentile(lat, 99)), 2),
        "rate": round(len(acknowledged) / seconds, 1),
    }


if __name__ == "__main__":
    base, seconds = sys.argv[1], float(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    prefix = sys.argv[4] if len(sys.argv) > 4 else f"load{int(time.time())}"
    print(json.dumps(asyncio.run(run(base, seconds, workers, prefix))))

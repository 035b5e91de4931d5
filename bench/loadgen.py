"""An open-loop HTTP load generator: a fixed request rate, latency from the scheduled send.

Closed-loop tools (wrk, ab) slow down when the server does and so hide queueing
(coordinated omission). Here requests leave on a fixed schedule over a pool of
keep-alive connections, and each latency is measured from when the request was due,
not from when a connection was free. Run as its own process (the server gets the
other core): ``python -m bench.loadgen HOST PORT RATE SECONDS PATH [PATH ...]``;
prints one JSON line of results. Bounded in time and count; loopback only.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import numpy as np


async def _worker(
    host: str, port: int, queue: asyncio.Queue, latencies: list[float], errors: list[str]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            item = await queue.get()
            if item is None:
                return
            due, path = item
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode())
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - due)
            if not status_line.startswith(b"HTTP/1.1 200"):
                errors.append(status_line.decode(errors="replace").strip())
    except (ConnectionError, asyncio.IncompleteReadError) as exc:
        errors.append(type(exc).__name__)
        while (item := await queue.get()) is not None:  # the rest of this worker's share fails too
            errors.append("connection lost")
    finally:
        writer.close()


async def run(
    host: str, port: int, rate: float, seconds: float, paths: list[str], connections: int = 64
) -> dict[str, float]:
    queue: asyncio.Queue = asyncio.Queue()
    latencies: list[float] = []
    errors: list[str] = []
    workers = [asyncio.create_task(_worker(host, port, queue, latencies, errors)) for _ in range(connections)]
    total = int(rate * seconds)
    start = time.perf_counter()
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, paths[i % len(paths)]))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.wait_for(asyncio.gather(*workers), timeout=seconds + 60)
    elapsed = time.perf_counter() - start
    ms = np.array(latencies) * 1000
    return {
        "rate": rate,
        "sent": total,
        "completed": len(latencies),
        "errors": len(errors),
        "achieved_rps": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(ms, 50)) if len(ms) else float("nan"),
        "p95_ms": float(np.percentile(ms, 95)) if len(ms) else float("nan"),
        "p99_ms": float(np.percentile(ms, 99)) if len(ms) else float("nan"),
        "max_ms": float(ms.max()) if len(ms) else float("nan"),
    }


def main() -> None:
    host, port, rate, seconds, *paths = sys.argv[1:]
    if not host.startswith("127.") and host != "localhost":
        raise SystemExit("loadgen only targets loopback addresses")
    result = asyncio.run(run(host, int(port), float(rate), min(float(seconds), 120.0), paths))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Photos, residents and field staff in numbers: the phone pages' first paint on a 4G-like link,
a 4 MB photo processed, the outbox delivering webhooks — each beside a baseline of the same
run (the asset page on the same link, Pillow's bare decode and encode of the same photo, the
same calls made straight from one HTTP client)."""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image
from sqlalchemy import Engine, text

from api.settings import Settings
from bench.server import uvicorn_server

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LINK = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 0.75e6 / 8}
ASSET = "3702030102000123"
WEBHOOK_CALLS = 3000


def _first_paints(base: str, pages: dict[str, str], rounds: int = 5) -> dict[str, list[float]]:
    """First contentful paint (s) of each page at phone size over Chromium's emulated 4G link
    (1.6 Mbps down, 150 ms latency), a fresh context each round: nothing cached."""
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for name, path in pages.items():
            for _ in range(rounds):
                context = browser.new_context(
                    viewport={"width": 360, "height": 740}, is_mobile=True, service_workers="block"
                )
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.emulateNetworkConditions", LINK)
                page.goto(base + path, wait_until="load")
                paint = page.evaluate(
                    "new Promise(r => { const f = () => { const e = performance.getEntriesByName('first-contentful-paint')[0];"
                    " if (e) r(e.startTime); else setTimeout(f, 20); }; f(); })"
                )
                out.setdefault(name, []).append(float(paint) / 1000)
                context.close()
        browser.close()
    return out


def _camera_photo() -> bytes:
    """A phone camera's JPEG of about 4 MB: 4000×3000, detail everywhere (noise over a gradient)."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:3000, 0:4000]
    base = np.stack([(x / 16) % 256, (y / 12) % 256, ((x + y) / 28) % 256], axis=-1)
    pixels = np.clip(base + rng.normal(0, 18, base.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=86)
    return out.getvalue()


def _photo_times(engine: Engine, data: bytes, rounds: int = 7) -> tuple[list[float], list[float]]:
    """(stored: checked, EXIF read, display + thumbnail made, three files written and the row;
    Pillow alone: open, decode and one JPEG encode of the same bytes)."""
    from layers.accounts.actors import Actor
    from layers.photos import records
    from layers.photos.images import Limits
    from layers.photos.store import FileStore

    limits = Limits(12_000_000, 50_000_000, 1600, 320)
    stored, bare = [], []
    with tempfile.TemporaryDirectory() as folder:
        for i in range(rounds):
            store = FileStore(Path(folder) / str(i))  # a new store: nothing is there already
            with engine.connect() as conn:
                t = time.perf_counter()
                records.save(conn, store, data, limits, Actor("bench", "dispatcher"), "bench.jpg")
                stored.append(time.perf_counter() - t)
                conn.rollback()
            t = time.perf_counter()
            image = Image.open(io.BytesIO(data))
            image.load()
            image.save(io.BytesIO(), "JPEG", quality=85)
            bare.append(time.perf_counter() - t)
    return stored, bare


class _Receiver:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        box = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real endpoint would

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                with box.lock:
                    box.count += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _webhooks(settings: Settings, engine: Engine) -> tuple[float, float]:
    """(calls/s through the outbox: lease, sign, POST, record; calls/s of the same POSTs from one
    httpx client on as many threads, no database) to a local receiver."""
    from api.worker import Worker
    from layers.accounts.actors import Actor
    from layers.outbox import events, webhooks

    receiver = _Receiver()
    with engine.begin() as conn:
        hook = webhooks.create(conn, webhooks.WebhookIn(url=receiver.url, events=["inspection.created"]),
                               Actor("bench", "admin"), [])  # fmt: skip
        for i in range(WEBHOOK_CALLS):
            events.emit(
                conn, "inspection.created", {"inspection": {"id": i, "asset_id": ASSET, "result": "ok"}}
            )
    worker = Worker.open(settings.model_copy(update={"outbox_batch": 500, "outbox_tick_s": 0.01}), engine)
    t = time.perf_counter()
    worker.run(once=True)
    outbox_rate = WEBHOOK_CALLS / (time.perf_counter() - t)
    worker.close()
    assert receiver.count == WEBHOOK_CALLS, receiver.count
    body = json.dumps({"id": "x", "type": "inspection.created", "data": {"inspection": {"id": 1}}}).encode()
    signature = "sha256=" + hashlib.sha256(body).hexdigest()
    with (
        httpx.Client(limits=httpx.Limits(max_connections=64)) as client,
        ThreadPoolExecutor(settings.outbox_senders) as pool,
    ):
        t = time.perf_counter()
        list(pool.map(lambda _: client.post(receiver.url, content=body, headers={"X-Wangge-Signature": signature}),
                      range(WEBHOOK_CALLS)))  # fmt: skip
        direct_rate = WEBHOOK_CALLS / (time.perf_counter() - t)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM deliveries WHERE webhook_id = :h"), {"h": hook["id"]})
        conn.execute(text("DELETE FROM outbox WHERE kind = 'inspection.created'"))
        conn.execute(text("DELETE FROM webhooks WHERE id = :h"), {"h": hook["id"]})
    receiver.server.shutdown()
    return outbox_rate, direct_rate


def bench_phone(settings: Settings, engine: Engine) -> list[str]:
    photo = _camera_photo()
    stored, bare = _photo_times(engine, photo)
    outbox_rate, direct_rate = _webhooks(settings, engine)
    with uvicorn_server({"DATABASE_URL": settings.sqlalchemy_url()}) as base:
        case = httpx.post(f"{base}/api/incidents", json={"source": "photo_report", "category": "E0101",
                                                         "lon": 120.36, "lat": 36.085}).json()  # fmt: skip
        pages = {"asset": f"/a/{ASSET}", "report": "/report", "m": "/m", "track": f"/track/{case['number']}"}
        paints = _first_paints(base, pages)

    def ms(times: list[float]) -> float:
        return float(np.median(times)) * 1000

    asset = ms(paints["asset"])
    rows = [("asset page `/a/{id}` (the field page users had) — baseline", "asset", None),
             ("随手拍 `/report`", "report", 1000), ("field phone `/m`", "m", 1000), ("tracking `/track/{number}`", "track", None)]  # fmt: skip
    page_lines = [
        f"| {label} | {ms(paints[key]):,.0f} | {ms(paints[key]) / asset:.2f}× | {f'≤ {goal} ms' if goal else ''} |"
        for label, key, goal in rows
    ]
    return [
        "Headless Chromium at 360×740 (`is_mobile`), Chromium's network emulation at 1.6 Mbps down / 0.75 Mbps up "
        "and 150 ms latency, a fresh context each round (nothing cached, no service worker); first contentful "
        "paint, median of 5.",
        "",
        "| page | first paint ms | vs asset page | target |",
        "|---|---:|---:|---:|",
        *page_lines,
        "",
        f"A camera-sized photo ({len(photo) / 1e6:.1f} MB JPEG, 4000×3000), in process, median of 7:",
        "",
        "| what | ms | vs Pillow alone | target |",
        "|---|---:|---:|---:|",
        f"| Pillow: open, decode, one JPEG encode — baseline | {ms(bare):.0f} | 1.00× | |",
        f"| `records.save`: checked, EXIF read, display (1600 px) + thumbnail (320 px), 3 files + row | "
        f"{ms(stored):.0f} | {ms(stored) / ms(bare):.2f}× | ≤ 400 ms |",
        "",
        f"{WEBHOOK_CALLS:,} `inspection.created` webhook calls to a local receiver (keep-alive HTTP/1.1):",
        "",
        "| what | calls/s | vs direct | target |",
        "|---|---:|---:|---:|",
        f"| the same POSTs straight from one httpx client on {settings.outbox_senders} threads — baseline | "
        f"{direct_rate:,.0f} | 1.00× | |",
        f"| `wangge worker`: lease, sign (HMAC-SHA256), POST, record, {settings.outbox_senders} senders | "
        f"{outbox_rate:,.0f} | {outbox_rate / direct_rate:.2f}× | ≥ 200 /s |",
    ]

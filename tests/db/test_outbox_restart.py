"""The outbox across a PostgreSQL restart: `wangge worker` (a real process) delivers webhook
events to a real receiver on 127.0.0.1 while its own cluster is stopped and started again;
every event arrives, and arrives once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import text

from api.cluster import Cluster
from api.db import make_engine, upgrade
from api.settings import Settings
from bench.server import ROOT, free_port
from layers.accounts.actors import Actor
from layers.outbox import events, webhooks

EVENTS = 300


def test_every_event_is_delivered_once_across_a_database_restart(tmp_path: Path) -> None:
    got: Counter[str] = Counter()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(0.01)  # a receiver that takes a moment: the restart falls mid-delivery
            with lock:
                got[self.headers["X-Wangge-Event-Id"]] += 1
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = Settings(home=tmp_path, pg_port=free_port(), database_url=None)
    cluster = Cluster(settings)
    cluster.up()
    worker = None
    try:
        engine = make_engine(settings, pool_size=1)
        upgrade(engine)
        with engine.begin() as conn:
            url = f"http://127.0.0.1:{server.server_port}/hook"
            webhooks.create(
                conn, webhooks.WebhookIn(url=url, events=["inspection.created"]), Actor("t", "admin"), []
            )
            for i in range(EVENTS):
                events.emit(conn, "inspection.created", {"inspection": {"id": i}})
            ids = set(conn.execute(text("SELECT event_id FROM outbox")).scalars())
        engine.dispose()
        env = {
            **os.environ, "WANGGE_HOME": str(tmp_path), "WANGGE_PG_PORT": str(settings.pg_port),
            "DATABASE_URL": "", "WANGGE_OUTBOX_TICK_S": "0.2", "WANGGE_OUTBOX_BATCH": "20",
            "WANGGE_OUTBOX_SENDERS": "4",
        }  # fmt: skip
        worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        deadline = time.monotonic() + 30
        while sum(got.values()) < EVENTS // 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert 0 < sum(got.values()) < EVENTS  # stopped mid-way
        cluster.down()
        time.sleep(2)
        during = sum(got.values())
        cluster.up()
        deadline = time.monotonic() + 60
        while len(got) < EVENTS and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # anything sent twice would arrive now
        assert set(got) == ids  # every event arrived
        assert max(got.values()) == 1, [k for k, n in got.items() if n > 1]  # and once
        engine = make_engine(settings, pool_size=1)
        with engine.connect() as conn:
            states = dict(conn.execute(text("SELECT state, count(*) FROM deliveries GROUP BY state")).all())
        engine.dispose()
        assert states == {"sent": EVENTS}
        print(f"outbox restart: {during} delivered before the restart, all {EVENTS} once after it")
    finally:
        if worker is not None:
            worker.terminate()
            out, _ = worker.communicate(timeout=30)
            assert worker.returncode == 0, out
            assert "database unavailable" in out  # it noticed, waited and went on
        cluster.down()
        server.shutdown()

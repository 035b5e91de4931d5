"""A burst of camera events with PostgreSQL restarted in the middle: every acknowledged event is
folded once (the client resends what was not acknowledged; event ids make that safe).

Its own cluster, with the district's layers, assets and routing copied from the session
database (pg_dump), a real server and a real `wangge worker`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import text

from api.cluster import Cluster, find_bindir
from api.db import make_engine, upgrade
from api.settings import Settings
from bench.server import ROOT, free_port, uvicorn_process
from layers.accounts import users

TABLES = ("generations", "areas", "assets", "asset_changes", "departments", "categories", "responsibilities")
BATCHES, PER_BATCH = 20, 500


def _copy_district(source: Settings, target: Settings) -> None:
    """The tables intake and the locator need, from the session database into the new one."""
    bindir = find_bindir(source)
    dump = subprocess.run(
        [bindir / "pg_dump", "--data-only", "--disable-triggers", *(f"--table={t}" for t in TABLES),
         "--dbname", source.sqlalchemy_url().replace("postgresql+psycopg", "postgresql")],
        capture_output=True, check=True,
    )  # fmt: skip
    engine = make_engine(target, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    engine.dispose()
    loaded = subprocess.run(
        [bindir / "psql", "-q", "-v", "ON_ERROR_STOP=1", "--dbname",
         target.sqlalchemy_url().replace("postgresql+psycopg", "postgresql")],
        input=dump.stdout, capture_output=True,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr.decode()[-2000:]


@pytest.mark.slow  # `make test-slow`: a cluster of processes
def test_a_burst_survives_a_database_restart(test_settings: Settings, demo: int, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, pg_port=free_port(), database_url=None)
    cluster = Cluster(settings)
    cluster.up()
    worker = None
    try:
        engine = make_engine(settings, pool_size=1)
        upgrade(engine)
        engine.dispose()
        _copy_district(test_settings, settings)
        engine = make_engine(settings, pool_size=1)
        with engine.begin() as conn:
            camera = conn.execute(
                text("SELECT id FROM assets WHERE kind = 'camera' AND attributes @> '{\"ai\": true}' LIMIT 1")
            ).scalar_one()
            users.add(conn, "burst-cameras", "viewer", None)
            key = users.new_api_key(conn, "burst-cameras", "burst test")
        engine.dispose()
        env = {
            **os.environ, "WANGGE_HOME": str(tmp_path), "WANGGE_PG_PORT": str(settings.pg_port),
            "DATABASE_URL": "", "WANGGE_OUTBOX_TICK_S": "0.2", "WANGGE_EVENTS_BATCH": "1000",
        }  # fmt: skip
        worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        rng = np.random.default_rng(6)
        spots = np.c_[rng.uniform(120.35, 120.38, 12), rng.uniform(36.08, 36.10, 12)]  # a dozen scenes
        batches = []
        for b in range(BATCHES):
            at = datetime.now(UTC).isoformat()
            batches.append([
                {"event_id": f"burst-{b}-{k}", "camera_id": camera, "category": "E0508", "at": at,
                 "lon": float(spots[(b + k) % 12, 0]), "lat": float(spots[(b + k) % 12, 1])}
                for k in range(PER_BATCH)
            ])  # fmt: skip
        acknowledged: list[int] = []
        retries: list[str] = []
        with uvicorn_process(env, warm_path="/healthz") as (base, _):

            def send(mine: list[list[dict[str, object]]]) -> None:
                with httpx.Client(base_url=base, timeout=30, headers={"X-API-Key": key}) as http:
                    for batch in mine:
                        deadline = time.monotonic() + 90
                        while True:  # resent until acknowledged, the same ids each time
                            try:
                                r = http.post("/api/events", json={"events": batch})
                                if r.status_code == 202:
                                    acknowledged.append(r.json()["stored"] + r.json()["duplicates"])
                                    break
                                retries.append(str(r.status_code))
                            except httpx.HTTPError as exc:
                                retries.append(type(exc).__name__)
                            assert time.monotonic() < deadline, "a batch was never acknowledged"
                            time.sleep(0.3)
                        time.sleep(0.05)

            senders = [threading.Thread(target=send, args=(batches[k::4],)) for k in range(4)]
            for s in senders:
                s.start()
            while len(acknowledged) < BATCHES // 4:
                time.sleep(0.05)
            cluster.down()  # in the middle of the burst: the API answers 503, the worker waits
            time.sleep(2)
            cluster.up()
            for s in senders:
                s.join()
        assert len(acknowledged) == BATCHES and sum(acknowledged) == BATCHES * PER_BATCH
        assert retries, "the restart should have made some batch wait"
        engine = make_engine(settings, pool_size=1)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                waiting = conn.execute(
                    text("SELECT count(*) FROM event_inbox WHERE state = 'new'")
                ).scalar_one()
            if waiting == 0:
                break
            time.sleep(0.5)
        with engine.connect() as conn:
            states = dict(conn.execute(text("SELECT state, count(*) FROM event_inbox GROUP BY state")).all())
            counted = conn.execute(
                text(
                    "SELECT count(*), sum(repeats + 1) FROM incidents WHERE id IN "
                    "(SELECT incident_id FROM event_inbox)"
                )
            ).one()
        engine.dispose()
        assert states == {"created": counted[0], "folded": BATCHES * PER_BATCH - counted[0]}, states
        assert counted[1] == BATCHES * PER_BATCH  # each acknowledged event counted in a case, once
        assert counted[0] <= 12 * 2  # a dozen scenes (a scene on a cell edge may make two cases)
    finally:
        if worker is not None:
            worker.terminate()
            out, _ = worker.communicate(timeout=30)
            assert worker.returncode == 0, out
        cluster.down()

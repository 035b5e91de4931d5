"""Load and a database restart in the middle of it: 503 + Retry-After while down, nothing lost.

Marked slow (``make test-slow``): its own embedded cluster in a temporary folder, the
reference district loaded into it, a live uvicorn, and the intake load generator
(``bench.intake_load``) in a second process while PostgreSQL is stopped and started.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from api.cluster import Cluster
from api.db import make_engine, upgrade
from api.settings import Settings
from bench.server import ROOT, free_port, uvicorn_server
from layers.reference.load import load_reference


@pytest.mark.slow
def test_intake_under_load_survives_a_database_restart(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, pg_port=free_port(), database_url=None)
    cluster = Cluster(settings)
    cluster.up()
    try:
        engine = make_engine(settings, pool_size=1)
        upgrade(engine)
        with engine.begin() as conn:
            load_reference(conn, settings.demo_seed, firms=False)
        env = {"WANGGE_HOME": str(tmp_path), "WANGGE_PG_PORT": str(settings.pg_port), "DATABASE_URL": ""}
        with uvicorn_server(env) as base:
            load = subprocess.Popen(
                [sys.executable, "-m", "bench.intake_load", base, "20", "8", "fault"],
                cwd=ROOT, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            time.sleep(5)
            cluster.down()
            time.sleep(1)
            down = httpx.post(f"{base}/api/incidents", json={"source": "wechat", "category": "E0505"})
            assert down.status_code == 503 and int(down.headers["retry-after"]) >= 1
            assert httpx.get(f"{base}/readyz").status_code == 503
            time.sleep(4)
            cluster.up()
            out, _ = load.communicate(timeout=200)
            assert load.returncode == 0
            assert httpx.get(f"{base}/readyz").status_code == 200  # recovered by itself
        result = json.loads(out)
        acknowledged: dict[str, int] = result["acknowledged"]
        assert result["statuses"].get("503", 0) > 0 and result["every_503_had_retry_after"]
        with engine.connect() as conn:
            stored = dict(
                conn.execute(
                    text("SELECT idempotency_key, id FROM incidents WHERE idempotency_key LIKE 'fault-%'")
                ).all()
            )
        assert len(acknowledged) > 100
        assert stored == acknowledged  # every acknowledged case is there, once, and nothing else
        counts = f"{len(acknowledged)} acknowledged = {len(stored)} stored; statuses {result['statuses']}"
        print(f"fault test: {counts}")
        engine.dispose()
    finally:
        cluster.down()

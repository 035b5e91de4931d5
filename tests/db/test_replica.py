"""A real streaming standby (`wangge db replica up`): stale reads go to it, the rest to the primary,
and when it stops in the middle of the load the reads fall back with no error.

Its own primary cluster in a temporary home (a copy of the shared one would be gigabytes),
and a standby made from it with pg_basebackup, each on a free port.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.cluster import Cluster, Standby
from api.db import make_engine, upgrade
from api.settings import Settings
from bench.server import free_port, uvicorn_process
from geo.errors import SetupError

ROAD = "复制路"


def _add_address(settings: Settings, number: int) -> None:
    engine = make_engine(settings, pool_size=1)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO addresses (road, house_number, address, search, geom) VALUES "
                "(:road, :n, :road || :n || '号', :road || :n, ST_SetSRID(ST_MakePoint(120.36, 36.1), 4326))"
            ),
            {"road": ROAD, "n": str(number)},
        )
    engine.dispose()


def _replay(standby: Standby, paused: bool) -> None:
    with psycopg.connect(
        host=str(standby.socket_dir), port=standby.port, user="wangge", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")


def test_reads_go_to_the_standby_and_fall_back_when_it_stops(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, pg_port=free_port(), pg_replica_port=free_port(), database_url=None, replica_url=None
    )
    primary, standby = Cluster(settings), Standby(settings)
    primary.up()
    try:
        upgrade(make_engine(settings, pool_size=1))
        for n in (1, 2, 3):
            _add_address(settings, n)
        with pytest.raises(SetupError, match="not running"):
            Standby(settings.model_copy(update={"home": tmp_path / "elsewhere"})).up()
        assert standby.up() is True
        # the primary's URL given as the replica: refused at start-up, not silently read from
        not_standby = settings.model_copy(update={"replica_url": settings.sqlalchemy_url()})
        with pytest.raises(SetupError, match="is not a standby"), TestClient(create_app(not_standby)):
            pass
        env = {
            **os.environ, "WANGGE_HOME": str(tmp_path), "WANGGE_PG_PORT": str(settings.pg_port),
            "DATABASE_URL": "", "WANGGE_REPLICA_URL": settings.embedded_replica_url(),
            "WANGGE_REPLICA_CHECK_S": "0.2", "WANGGE_REPLICA_MAX_LAG_S": "30",
        }  # fmt: skip
        with (
            uvicorn_process(env, warm_path="/healthz") as (base, _),
            httpx.Client(base_url=base, timeout=30) as http,
        ):
            ready = http.get("/readyz").json()
            assert ready["replica"] == "ok" and ready["replica_lag_s"] is not None

            def matched() -> int:
                r = http.get("/collections/addresses/items", params={"road": ROAD})
                assert r.status_code == 200, r.text
                return int(r.json()["numberMatched"])

            assert matched() == 3
            # replay paused: a new address is on the primary only, and the stale read does not see it
            _replay(standby, paused=True)
            _add_address(settings, 4)
            time.sleep(0.5)
            assert matched() == 3, "the list should come from the (paused) standby"
            newest = http.get("/collections/addresses/items", params={"road": ROAD, "offset": 0}).json()
            assert len(newest["features"]) == 3
            _replay(standby, paused=False)
            deadline = time.monotonic() + 10
            while matched() != 4 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert matched() == 4
            # the standby stops in the middle of the load: every read still answers, from the primary
            statuses: list[int] = []
            stop = threading.Event()

            def load() -> None:
                with httpx.Client(base_url=base, timeout=30) as own:
                    while not stop.is_set():
                        r = own.get("/collections/addresses/items", params={"road": ROAD})
                        statuses.append(r.status_code if r.json().get("numberMatched") == 4 else -1)

            threads = [threading.Thread(target=load) for _ in range(3)]
            for t in threads:
                t.start()
            time.sleep(1.0)
            before = len(statuses)
            assert standby.down() is True
            time.sleep(1.5)
            stop.set()
            for t in threads:
                t.join()
            assert before > 0 and len(statuses) > before + 10
            assert set(statuses) == {200}, f"{len(statuses) - statuses.count(200)} failed reads"
            assert http.get("/readyz").json()["replica"] == "down"
            # and when it is back, it catches up and takes the reads again
            _add_address(settings, 5)
            standby.up()
            deadline = time.monotonic() + 15
            while http.get("/readyz").json()["replica"] != "ok" and time.monotonic() < deadline:
                time.sleep(0.2)
            assert http.get("/readyz").json()["replica"] == "ok"
            assert matched() == 5
    finally:
        standby.down()
        primary.down()

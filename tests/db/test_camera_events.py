"""Camera events: a batch stored at once (bad rows answered, good kept, resent ones once), then
folded by the worker into one case per category and cell with a repeat count."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.settings import Settings
from layers.accounts import users
from layers.cases import camera_events, categories
from layers.cases.worktime import WorkHours
from layers.grid.holder import IndexHolder


@pytest.fixture(scope="module")
def camera_key(engine: Engine, demo: int) -> str:
    with engine.begin() as conn:
        users.add(conn, "ai-cameras", "viewer", None)
        return users.new_api_key(conn, "ai-cameras", "the district's AI camera platform")


@pytest.fixture(scope="module")
def cameras(engine: Engine, demo: int) -> Iterator[dict[str, str]]:
    """Two AI cameras of the demo, one of them disabled for the test, and one without AI."""
    by_ai = (
        "SELECT id FROM assets WHERE kind = 'camera' AND attributes @> CAST(:ai AS jsonb) ORDER BY id LIMIT 2"
    )
    with engine.begin() as conn:
        ai = conn.execute(text(by_ai), {"ai": '{"ai": true}'}).scalars().all()
        plain = conn.execute(text(by_ai), {"ai": '{"ai": false}'}).scalars().first()
        conn.execute(
            text('UPDATE assets SET attributes = attributes || \'{"status": "disabled"}\' WHERE id = :id'),
            {"id": ai[1]},
        )
    yield {"live": ai[0], "disabled": ai[1], "plain": plain}
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE assets SET attributes = attributes - 'status' WHERE id = :id"), {"id": ai[1]}
        )


def _event(n: int, camera: str, **extra: Any) -> dict[str, Any]:
    at = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    return {
        "event_id": f"evt-{n}",
        "camera_id": camera,
        "category": "E0508",
        "at": at,
        "confidence": 0.9,
        **extra,
    }


def _fold(engine: Engine, settings: Settings) -> camera_events.Folded:
    index = IndexHolder(engine, check_s=60, cell_m=settings.locate_cell_m).get()
    with engine.begin() as conn:
        return camera_events.fold(conn, index, categories.load(conn), WorkHours.parse(settings.work_hours))


def test_a_batch_keeps_its_good_rows_and_names_the_bad_ones(
    client: TestClient, camera_key: str, cameras: dict[str, str], engine: Engine, test_settings: Settings
) -> None:
    key = {"X-API-Key": camera_key}
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    batch = [
        _event(1, cameras["live"]),
        _event(2, "3702030136999999"),
        _event(3, cameras["disabled"]),
        _event(4, cameras["plain"]),
        _event(5, cameras["live"], category="C0100"),
        _event(6, cameras["live"], at=future),
        _event(7, cameras["live"], lon=120.36),
        {"event_id": "evt-8", "camera_id": cameras["live"]},
        _event(9, cameras["live"], lon=120.3791, lat=36.0962, crs="gcj02"),
    ]
    r = client.post("/api/events", json={"events": batch}, headers=key)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["stored"] == 2 and body["duplicates"] == 0
    refused = {e["index"]: e["error"] for e in body["rejected"]}
    assert set(refused) == {1, 2, 3, 4, 5, 6, 7}
    assert (
        refused[1]["message"] == "no camera 3702030136999999" and refused[1]["field"] == "events[1].camera_id"
    )
    assert refused[2]["code"] == "camera_disabled" and "停用" in refused[2]["message"]
    assert "no AI analysis" in refused[3]["message"]
    assert refused[4]["field"] == "events[4].category" and refused[5]["field"] == "events[5].at"
    assert refused[7]["field"].startswith("events[7].")  # category and at missing
    again = client.post("/api/events", json={"events": batch[:1]}, headers=key).json()
    assert again["stored"] == 0 and again["duplicates"] == 1  # a resent event is stored once
    assert client.post("/api/events", json={"events": batch}).status_code == 401  # no machine key
    over = client.post("/api/events", json={"events": [batch[0]] * 10_001}, headers=key)
    assert over.status_code == 413 and over.json()["error"]["field"] == "events"
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT lon, lat FROM event_inbox WHERE event_id = 'evt-9'")).one()
    assert abs(stored.lon - 120.3743) < 0.002 and abs(stored.lat - 36.0978) < 0.002  # GCJ-02 → WGS84
    _fold(engine, test_settings)


def test_frames_of_one_scene_fold_into_one_case_with_a_repeat_count(
    client: TestClient, camera_key: str, cameras: dict[str, str], engine: Engine, test_settings: Settings,
    accounts: dict[str, dict[str, str]],
) -> None:  # fmt: skip
    key = {"X-API-Key": camera_key}
    frames = [_event(1000 + n, cameras["live"]) for n in range(300)]
    elsewhere = _event(2000, cameras["live"], lon=120.3300, lat=36.0800)  # another cell: another case
    assert (
        client.post("/api/events", json={"events": [*frames, elsewhere]}, headers=key).json()["stored"] == 301
    )
    first = _fold(engine, test_settings)
    assert first.events == 301 and first.rejected == 0 and first.created + first.folded == 301

    def attached(ids: str) -> list[Any]:
        with engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT e.state, i.id, i.repeats, i.source, i.camera_id FROM event_inbox e "
                    f"JOIN incidents i ON i.id = e.incident_id WHERE e.event_id IN ({ids}) ORDER BY e.id"
                )
            ).all()

    scene = attached(",".join(f"'evt-{1000 + n}'" for n in range(300)))
    other = attached("'evt-2000'")
    assert len({r.id for r in scene}) == 1 and other[0].id != scene[0].id  # one case a scene, another cell
    assert other[0].state == "created" and other[0].repeats == 0 and other[0].source == "camera"
    new_case = scene[0].state == "created"  # or folded into the open case the first test's event made
    repeats = scene[0].repeats
    assert repeats == 299 if new_case else repeats >= 300
    assert scene[0].camera_id == cameras["live"]
    more = [_event(3000 + n, cameras["live"]) for n in range(50)]
    client.post("/api/events", json={"events": more}, headers=key)
    second = _fold(engine, test_settings)
    assert (second.created, second.folded) == (0, 50)  # into the open case of the same cell
    assert attached("'evt-3000'")[0].repeats == repeats + 50  # every frame counted once
    staff = accounts["disp1"]
    assert client.get("/api/events", headers=staff).json()["new"] == 0
    assert client.get("/api/events").status_code == 401

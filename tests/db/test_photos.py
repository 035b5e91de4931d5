"""Photos over real HTTP, real files on disk and PostGIS: uploads checked and stripped of EXIF,
EXIF GPS locating a report, photos inline in a form, who may see which photo, the limits,
and the sweep that leaves no orphan file or row behind."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Connection, Engine, text

from api.settings import Settings
from layers.accounts.actors import Actor
from layers.photos import records
from layers.photos.images import Limits
from layers.photos.store import FileStore
from tests.zoo import photo

SPOT = (120.355, 36.085)  # inside a micro-grid of the district
JPEG = "image/jpeg"


def _upload(client: TestClient, data: bytes, name: str = "p.jpg", **kw: Any) -> Any:
    return client.post("/api/photos", files={"photo": (name, data, JPEG)}, **kw)


def _stored(client: TestClient, data: bytes, **kw: Any) -> dict[str, Any]:
    got = _upload(client, data, **kw)
    assert got.status_code == 201, got.text
    return got.json()


def test_an_upload_is_stored_three_ways_and_served_without_exif(
    client: TestClient, accounts: dict[str, Any], test_settings: Settings
) -> None:
    original = photo(*SPOT, size=(3000, 2000))
    assert b"HUAWEI" in original and b"Exif" in original
    up = _stored(client, original)
    assert up["exif_position"] == {
        "lon": pytest.approx(SPOT[0], abs=1e-6),
        "lat": pytest.approx(SPOT[1], abs=1e-6),
    }
    assert (up["width"], up["height"], up["bytes"]) == (3000, 2000, len(original))
    store = FileStore(test_settings.photo_root)
    assert store.path(up["id"], "original").read_bytes() == original  # kept as sent, in the store
    for size, side in (("display", 1600), ("thumb", 320)):
        got = client.get(f"{up['url']}?size={size}", headers=accounts["disp1"])
        assert got.status_code == 200 and got.headers["content-type"] == JPEG
        served = Image.open(io.BytesIO(got.content))
        assert max(served.size) == side
        assert dict(served.getexif()) == {} and b"Exif" not in got.content and b"HUAWEI" not in got.content
    meta = client.get(f"{up['url']}/meta", headers=accounts["disp1"]).json()
    assert meta["device"] == "HUAWEI P40 Pro" and meta["lon"] == pytest.approx(SPOT[0], abs=1e-6)
    assert client.get(f"{up['url']}/meta").status_code == 401  # the public never reads EXIF
    assert client.get(f"{up['url']}/meta", headers=accounts["field1"]).status_code == 403


def test_a_quarter_turned_photo_is_served_upright() -> None:
    from layers.photos.images import process

    done = process(photo(size=(400, 300), orientation=6), Limits(10**7, 10**8, 1600, 320))
    assert (done.width, done.height) == (300, 400)
    assert Image.open(io.BytesIO(done.display)).size == (300, 400)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "HEIF"])
def test_png_webp_and_heic_are_taken(client: TestClient, fmt: str) -> None:
    up = _stored(client, photo(size=(640, 480), fmt=fmt, device=None), name=f"p.{fmt.lower()}")
    assert up["media_type"] == {"PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heif"}[fmt]


def test_bad_photos_are_refused_with_a_message_naming_them(
    client: TestClient, test_settings: Settings
) -> None:
    files_before = sum(1 for _ in FileStore(test_settings.photo_root).ids())
    not_image = _upload(client, b"%PDF-1.4 not a photo at all", name="scan.jpg")
    assert not_image.status_code == 400 and "scan.jpg" in not_image.json()["error"]["message"]
    big = _upload(client, b"\xff\xd8" + os.urandom(13_000_000))
    assert big.status_code == 413 and big.json()["error"]["field"] == "photo"
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")  # 144 Mpx in 18 KB
    refused = _upload(client, bomb.getvalue(), name="bomb.png")
    assert refused.status_code == 400 and "pixels" in refused.json()["error"]["message"]
    gif = io.BytesIO()
    Image.new("RGB", (50, 50)).save(gif, "GIF")
    assert (
        "JPEG, PNG, WebP or HEIC" in _upload(client, gif.getvalue(), name="a.gif").json()["error"]["message"]
    )
    assert sum(1 for _ in FileStore(test_settings.photo_root).ids()) == files_before  # nothing half-written


def test_absurd_exif_coordinates_are_not_used_and_said_so(client: TestClient) -> None:
    up = _stored(client, photo(raw_gps={1: "N", 2: (236.0, 0.0, 0.0), 3: "E", 4: (120.0, 0.0, 0.0)}))
    assert up["exif_position"] is None and "not on Earth" in up["warnings"][0]
    zero = _stored(client, photo(raw_gps={1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}))
    assert zero["exif_position"] is None and "without a fix" in zero["warnings"][0]
    case = client.post(
        "/api/incidents", json={"source": "photo_report", "category": "E0101", "photos": [up["url"]]}
    ).json()
    assert case["located_by"] == "none" and case["point"] is None  # never guessed


def test_exif_gps_locates_a_report_without_a_location(
    client: TestClient, accounts: dict[str, Any], conn: Connection
) -> None:
    up = _stored(client, photo(*SPOT, size=(1100, 820)))  # bytes of its own: a photo is its content
    case = client.post(
        "/api/incidents", json={"source": "photo_report", "category": "E0101", "photos": [up["url"]]}
    ).json()
    assert case["located_by"] == "photo_exif" and case["micro_grid"]
    staff = client.get(f"/api/incidents/{case['id']}", headers=accounts["disp1"]).json()
    assert staff["point"]["coordinates"] == pytest.approx(list(SPOT), abs=1e-6)
    assert client.get(up["url"]).status_code == 200  # a report's own photo: the public sees it
    assert conn.execute(
        text("SELECT attached_at IS NOT NULL FROM photos WHERE id = :i"), {"i": up["id"]}
    ).scalar()


def test_a_photo_taken_far_from_the_given_location_is_flagged(
    client: TestClient, accounts: dict[str, Any]
) -> None:
    up = _stored(client, photo(SPOT[0] + 0.02, SPOT[1]))  # ~1.8 km east
    case = client.post(
        "/api/incidents",
        json={
            "source": "photo_report",
            "category": "E0101",
            "lon": SPOT[0],
            "lat": SPOT[1],
            "photos": [up["url"]],
        },
    ).json()
    assert case["located_by"] == "coordinates"
    staff = client.get(f"/api/incidents/{case['id']}", headers=accounts["disp1"]).json()
    assert "photo 1 was taken 18" in staff["location_note"] and "EXIF" in staff["location_note"]


def test_photos_sent_as_files_of_a_form_land_with_the_case(
    client: TestClient, test_settings: Settings
) -> None:
    import json

    data = json.dumps({"source": "photo_report", "category": "E0101", "description": "表单上报"})
    files = [("photos", ("a.jpg", photo(*SPOT), JPEG)), ("photos", ("b.jpg", photo(size=(500, 500)), JPEG))]
    got = client.post("/api/incidents", data={"data": data}, files=files)
    assert got.status_code == 201, got.text
    case = got.json()
    assert len(case["photos"]) == 2 and all(p.startswith("/api/photos/") for p in case["photos"])
    assert case["located_by"] == "photo_exif"  # the first photo with a position placed it
    store = FileStore(test_settings.photo_root)
    assert all(store.path(p.rsplit("/", 1)[1], "display") for p in case["photos"])
    bad = client.post("/api/incidents", data={"data": "{not json"}, files=files[:1])
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "data"
    wrong = client.post(
        "/api/incidents", data={"data": json.dumps({"source": "photo_report"})}, files=files[:1]
    )
    assert wrong.status_code == 422 and "category" in wrong.text  # the JSON part validated as JSON is


def test_an_unknown_photo_reference_names_its_place(client: TestClient) -> None:
    got = client.post(
        "/api/incidents",
        json={"source": "photo_report", "category": "E0101", **dict(zip(("lon", "lat"), SPOT, strict=True)),
              "photos": ["https://example.org/a.jpg", "/api/photos/" + "0" * 64]},
    )  # fmt: skip
    assert got.status_code == 400 and got.json()["error"]["field"] == "photos[1]"


def test_after_photos_are_staff_only_and_open311_gives_the_photo_url(
    client: TestClient, accounts: dict[str, Any]
) -> None:
    report = _stored(client, photo(*SPOT))
    case = client.post(
        "/api/incidents",
        json={"source": "photo_report", "category": "E0101", "photos": [report["url"]]},
    ).json()
    d = accounts["disp1"]
    for to, extra in (("registered", {}), ("dispatched", {})):
        assert (
            client.post(
                f"/api/incidents/{case['id']}/transitions", json={"to": to, **extra}, headers=d
            ).status_code
            == 200
        )
    field = accounts["field1"] if case["unit"] == "370203020" else d
    assert (
        client.post(
            f"/api/incidents/{case['id']}/transitions", json={"to": "in_progress"}, headers=field
        ).status_code
        == 200
    )
    after = _stored(client, photo(size=(800, 600)), headers=field)
    done = client.post(
        f"/api/incidents/{case['id']}/transitions",
        json={"to": "verifying", "photos": [after["url"]]},
        headers=field,
    )
    assert done.status_code == 200, done.text
    assert client.get(after["url"]).status_code == 404  # the public does not see staff photos
    named = {
        "source": "photo_report",
        "category": "E0101",
        "lon": SPOT[0],
        "lat": SPOT[1],
        "photos": [after["url"]],
    }
    assert client.post("/api/incidents", json=named).status_code == 201
    assert client.get(after["url"]).status_code == 404  # naming it in a public report does not publish it
    assert client.get(after["url"], headers=accounts["viewer1"]).status_code == 200
    request = client.get(f"/open311/v2/requests/{case['number']}.json").json()[0]
    assert request["media_url"].endswith(report["url"]) and request["media_url"].startswith("http")


def test_the_sweep_removes_unused_uploads_and_stray_files_only(engine: Engine, tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    limits = Limits(10**7, 10**8, 1600, 320)
    actor = Actor("sweeper", "dispatcher")
    with engine.begin() as conn:
        used = records.save(conn, store, photo(size=(300, 200)), limits, actor, "used")
        unused = records.save(conn, store, photo(size=(310, 200)), limits, actor, "unused")
        records.attach(conn, [used.url])
        conn.execute(text("UPDATE photos SET uploaded_at = now() - interval '2 days' WHERE id IN (:a, :b)"),
                     {"a": used.id, "b": unused.id})  # fmt: skip
    stray = photo(size=(320, 200))  # a crash after the files, before the row: files without a row
    import hashlib

    stray_id = hashlib.sha256(stray).hexdigest()
    store.put(stray_id, "original", stray)
    fresh_stray = hashlib.sha256(b"x").hexdigest()
    store.put(fresh_stray, "original", b"x")  # an upload in flight right now: left alone
    old = time.time() - 3 * 86400
    os.utime(store.path(stray_id, "original"), (old, old))  # type: ignore[arg-type]
    with engine.begin() as conn:
        rows, files = records.sweep(conn, store, older_than_h=24)
    assert (rows, files) >= (1, 1)
    assert store.path(used.id, "display") is not None and store.path(fresh_stray, "original") is not None
    assert store.path(unused.id, "original") is None and store.path(stray_id, "original") is None
    with engine.begin() as conn:
        left = set(
            conn.execute(
                text("SELECT id FROM photos WHERE id IN (:a, :b)"), {"a": used.id, "b": unused.id}
            ).scalars()
        )
        assert left == {used.id}
        conn.execute(text("DELETE FROM photos WHERE id = :a"), {"a": used.id})


def test_more_photos_than_a_case_takes_is_a_clear_400(client: TestClient) -> None:
    import json

    data = json.dumps({"source": "photo_report", "category": "E0101", "lon": SPOT[0], "lat": SPOT[1]})
    small = photo(size=(40, 30), device=None)
    files = [("photos", (f"{i}.jpg", small, JPEG)) for i in range(10)]
    got = client.post("/api/incidents", data={"data": data}, files=files)
    assert got.status_code == 400 and got.json()["error"]["field"] == "photos", got.text


def test_the_public_files_a_few_reports_an_hour_per_device_and_address(
    test_settings: Settings, demo: int
) -> None:
    from api.app import create_app

    limited = test_settings.model_copy(update={"report_per_hour": 2, "port": 1})  # its own bucket file
    with TestClient(create_app(limited)) as c:
        body = {"source": "photo_report", "category": "E0101", "lon": SPOT[0], "lat": SPOT[1]}
        device = {"X-Device-Id": "phone-a"}
        assert [c.post("/api/incidents", json=body, headers=device).status_code for _ in range(2)] == [
            201,
            201,
        ]
        third = c.post("/api/incidents", json=body, headers=device)
        assert third.status_code == 429 and "report again" in third.json()["error"]["message"]
        assert int(third.headers["retry-after"]) > 60  # an hour's budget refills slowly
        other_phone = c.post("/api/incidents", json=body, headers={"X-Device-Id": "phone-b"})
        assert other_phone.status_code == 201  # another phone behind the same address still may
        flood = [
            c.post("/api/incidents", json=body, headers={"X-Device-Id": f"fake-{i}"}).status_code
            for i in range(25)
        ]
        assert (
            flood.count(201) == 17 and flood[-1] == 429
        )  # fresh device ids buy nothing past the address's 20

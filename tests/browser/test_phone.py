"""The phone pages in real headless Chromium at phone size (360×740, is_mobile): a resident
reports on /report with a photo whose EXIF says where, follows an existing case instead of
filing, and tracks it; a field worker takes a task on /m, goes offline, records 处置完成 with a
photo, comes back online and it is sent exactly once; a step queued offline that the case has
moved past comes back with what changed."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import PASSWORD
from tests.zoo import photo

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
SPOT = (120.3552, 36.0853)  # in a micro-grid of the district
FIELD_SPOT = (120.34592, 36.10777)  # in a micro-grid of 即墨路街道 (370203020), field1's unit


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    here = {"longitude": SPOT[0], "latitude": SPOT[1]}
    context = browser.new_context(**PHONE, locale="zh-CN", geolocation=here, permissions=["geolocation"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # a refused request is the browser's log line, not a page error: the tests check the refusals themselves
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None
        ),
    )
    page.errors = errors
    yield page
    context.close()


def _ready(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=20_000)


def test_a_resident_reports_with_a_photo_that_knows_where_and_tracks_it(
    phone: Any, live_server: str, accounts: dict[str, Any], artifacts: Path
) -> None:
    _ready(phone, f"{live_server}/report")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click("#kinds [data-code='E0101']")
    phone.set_input_files("#photo", {"name": "rubbish.jpg", "mimeType": "image/jpeg", "buffer": photo(*SPOT)})
    phone.wait_for_selector("#photos img")
    phone.fill("#report textarea[name=description]", "楼下垃圾堆了三天")
    phone.screenshot(path=str(artifacts / "report_phone.png"), full_page=True)
    phone.click("#send")  # no spot on the map: the photo's GPS places it
    phone.wait_for_selector("body[data-done]", state="attached")
    number = phone.get_attribute("body", "data-done")
    assert number and number.isdigit()
    phone.screenshot(path=str(artifacts / "report_done_phone.png"), full_page=True)
    case_id = httpx.get(f"{live_server}/api/track/{number}").json()["id"]
    staff = httpx.get(f"{live_server}/api/incidents/{case_id}", headers=accounts["disp1"]).json()
    assert staff["located_by"] == "photo_exif" and staff["source"] == "photo_report"
    assert staff["point"]["coordinates"] == pytest.approx(list(SPOT), abs=1e-6)  # the case lands there
    served = httpx.get(f"{live_server}{staff['photos'][0]}")
    assert served.status_code == 200 and b"Exif" not in served.content and b"HUAWEI" not in served.content
    assert dict(Image.open(io.BytesIO(served.content)).getexif()) == {}
    phone.click("#track-link")
    phone.wait_for_selector("body[data-status='received']", state="attached")
    assert phone.locator("#status").inner_text() == "已受理"
    assert "已收到您的反映" in phone.locator("#steps").inner_text()
    assert "disp1" not in phone.content()  # no staff
    phone.screenshot(path=str(artifacts / "track_phone.png"), full_page=True)
    assert phone.errors == []


def test_a_resident_follows_the_case_already_reported_instead_of_filing(
    phone: Any, live_server: str, accounts: dict[str, Any], artifacts: Path
) -> None:
    first = httpx.post(f"{live_server}/api/incidents", json={
        "source": "hotline", "category": "C0100", "lon": SPOT[0], "lat": SPOT[1], "description": "井盖缺失",
    }).json()  # fmt: skip
    before = httpx.get(f"{live_server}/api/incidents", params={"limit": 1}).json()["numberMatched"]
    _ready(phone, f"{live_server}/report")
    phone.click("#gps")  # the phone's position: the spot of the first report
    phone.wait_for_selector("body[data-spot]", state="attached")
    phone.click("#kinds [data-code='C0100']")
    phone.wait_for_selector("#similar:not([hidden]) #similar-list button")
    assert "约" in phone.locator("#similar-list").inner_text()
    phone.screenshot(path=str(artifacts / "report_similar_phone.png"), full_page=True)
    phone.fill("#report input[name=phone]", "13900005555")
    phone.check("#report input[name=notify]")
    phone.click("#similar-list button")
    phone.wait_for_selector(f"body[data-done='{first['number']}']", state="attached")
    assert (
        httpx.get(f"{live_server}/api/incidents", params={"limit": 1}).json()["numberMatched"] == before
    )  # no new case
    staff = httpx.get(f"{live_server}/api/incidents/{first['id']}", headers=accounts["disp1"]).json()
    assert staff["repeats"] == 1 and [r["phone"] for r in staff["reporters"]][-1] == "13900005555"
    assert phone.errors == []


def _dispatched_case(live_server: str, accounts: dict[str, Any], description: str) -> dict[str, Any]:
    case = httpx.post(f"{live_server}/api/incidents", json={
        "source": "hotline", "category": "E0101", "lon": FIELD_SPOT[0], "lat": FIELD_SPOT[1],
        "description": description,
    }).json()  # fmt: skip
    for to in ("registered", "dispatched"):
        moved = httpx.post(
            f"{live_server}/api/incidents/{case['id']}/transitions",
            json={"to": to},
            headers=accounts["disp1"],
        )
        assert moved.status_code == 200, moved.text
    assert moved.json()["unit"] == "370203020", moved.json()["unit"]  # 即墨路街道: field1's unit
    return moved.json()


def _sign_in(page: Any) -> None:
    page.wait_for_selector("#signin:not([hidden])")
    page.fill("#signin input[name=username]", "field1")
    page.fill("#signin input[name=password]", PASSWORD)
    page.click("#signin button")


def test_a_field_worker_closes_the_loop_offline_and_it_is_sent_once(
    phone: Any, live_server: str, accounts: dict[str, Any], artifacts: Path
) -> None:
    case = _dispatched_case(live_server, accounts, "离线处置测试")
    phone.goto(f"{live_server}/m")
    _sign_in(phone)
    phone.wait_for_selector(f"#tasks a[href='/m/tasks/{case['number']}']")
    phone.wait_for_selector("body[data-offline-ready='true']", state="attached", timeout=20_000)
    assert "米" in phone.locator("#tasks").inner_text()  # nearest first, with the distance
    phone.screenshot(path=str(artifacts / "tasks_phone.png"), full_page=True)
    phone.click(f"#tasks a[href='/m/tasks/{case['number']}']")
    phone.wait_for_selector("body[data-status='dispatched']", state="attached")
    phone.click("#start")
    phone.wait_for_selector("body[data-status='in_progress']", state="attached")

    phone.context.set_offline(True)
    phone.reload()  # the page itself comes from the phone now
    phone.wait_for_selector("body[data-status='in_progress']", state="attached", timeout=20_000)
    assert phone.locator("#offline").is_visible()
    phone.set_input_files(
        "#after", {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": photo(*SPOT, size=(800, 600))}
    )
    phone.fill("#finish textarea[name=note]", "已清理完毕")
    phone.click("#finish button[type=submit]")
    phone.wait_for_selector("body[data-queued='1']", state="attached")
    assert "等待发送" in phone.locator("#queue").inner_text()
    phone.screenshot(path=str(artifacts / "task_offline_phone.png"), full_page=True)
    staff = httpx.get(f"{live_server}/api/incidents/{case['id']}", headers=accounts["disp1"]).json()
    assert staff["status"] == "in_progress"  # nothing reached the server while offline

    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    phone.wait_for_selector("body[data-queued='0']", state="attached", timeout=20_000)
    phone.wait_for_selector("body[data-status='verifying']", state="attached")
    phone.evaluate("window.dispatchEvent(new Event('online'))")  # a second flush finds nothing to send
    phone.wait_for_timeout(500)
    staff = httpx.get(f"{live_server}/api/incidents/{case['id']}", headers=accounts["disp1"]).json()
    reported = [e for e in staff["history"] if e["to_status"] == "verifying"]
    assert len(reported) == 1 and reported[0]["note"] == "已清理完毕"  # exactly once
    assert len(reported[0]["photos"]) == 1 and reported[0]["photos"][0].startswith("/api/photos/")
    phone.screenshot(path=str(artifacts / "task_sent_phone.png"), full_page=True)
    assert phone.errors == []


def test_a_step_queued_offline_that_the_case_moved_past_says_what_changed(
    phone: Any, live_server: str, accounts: dict[str, Any]
) -> None:
    case = _dispatched_case(live_server, accounts, "离线冲突测试")
    phone.goto(f"{live_server}/m/tasks/{case['number']}")
    _sign_in(phone)
    phone.wait_for_selector("body[data-status='dispatched']", state="attached")
    phone.context.set_offline(True)
    phone.click("#start")
    phone.wait_for_selector("body[data-queued='1']", state="attached")
    returned = {"to": "registered", "note": "不属于本单位"}
    back = httpx.post(
        f"{live_server}/api/incidents/{case['id']}/transitions", json=returned, headers=accounts["field2"]
    )
    assert back.status_code == 200, back.text  # meanwhile a colleague returned it (退回)
    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    phone.wait_for_selector("body[data-problems='1']", state="attached", timeout=20_000)
    told = phone.locator("#queue-problems").inner_text()
    assert "案件已被他人修改" in told and "registered" in told  # in the page's words, and what changed
    staff = httpx.get(f"{live_server}/api/incidents/{case['id']}", headers=accounts["disp1"]).json()
    assert staff["status"] == "registered"  # nothing half-done
    assert phone.errors == []


def test_the_reporter_answers_the_satisfaction_visit_on_the_tracking_page(
    phone: Any, live_server: str, accounts: dict[str, Any], test_settings: Any, artifacts: Path
) -> None:
    from api.auth import secret_key
    from layers.outbox.events import visit_token

    case = _dispatched_case(live_server, accounts, "回访测试")
    steps = (("in_progress", "field1", {}), ("verifying", "field1", {"photos": ["https://example.org/after.jpg"]}),
             ("closed", "field2", {}))  # fmt: skip
    for to, who, extra in steps:
        moved = httpx.post(f"{live_server}/api/incidents/{case['id']}/transitions", json={"to": to, **extra},
                           headers=accounts[who])  # fmt: skip
        assert moved.status_code == 200, moved.text
    token = visit_token(secret_key(test_settings), case["number"])
    _ready(phone, f"{live_server}/track/{case['number']}?visit={token}")
    assert phone.locator("#status").inner_text() == "已结案"
    assert phone.locator("#visit-form").is_visible()
    phone.fill("#visit-form textarea[name=note]", "处理得很快")
    phone.click("#visit-form [data-satisfied='true']")
    phone.wait_for_selector("#visit-message:has-text('谢谢')")
    assert phone.locator("#visit-form").is_hidden()
    phone.screenshot(path=str(artifacts / "track_visit_phone.png"), full_page=True)
    staff = httpx.get(f"{live_server}/api/incidents/{case['id']}", headers=accounts["disp1"]).json()
    assert staff["satisfied"] is True and "处理得很快" in staff["history"][-1]["note"]
    assert phone.errors == []

"""The case workbench in real headless Chromium over real HTTP and PostGIS: signing in through the
page, working a case from 受理 to 结案 by its data-action buttons, urge/extend/suspend/reopen,
filing from the form (address, swapped coordinates), attaching a repeat call, exporting to XLSX,
a session past the token lifetime and one that ends mid-work, a stale page, errors in Chinese."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import openpyxl
import pytest
from sqlalchemy import Engine, text

from tests.conftest import PASSWORD
from tests.zoo import photo

POINT = (120.3525, 36.0832)  # a micro-grid of 即墨路街道's neighbour, away from the other tests' cases


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 950}, locale="zh-CN")
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def _sign_in(page: Any, user: str) -> None:
    page.wait_for_selector("#signin-dialog[open]", timeout=15_000)
    page.fill("#signin-form input[name=username]", user)
    page.fill("#signin-form input[name=password]", PASSWORD)
    page.click("#signin-submit")


def _open(page: Any, url: str, user: str) -> None:
    page.goto(url)
    _sign_in(page, user)
    page.wait_for_selector("body[data-ready='true']", timeout=20_000)


def _file(base: str, category: str = "E0101", **extra: Any) -> dict[str, Any]:
    body = {"source": "wechat", "category": category, "lon": POINT[0], "lat": POINT[1], **extra}
    got = httpx.post(f"{base}/api/incidents", json=body)
    assert got.status_code == 201, got.text
    return dict(got.json())


def _case(base: str, case_id: int, headers: dict[str, str]) -> dict[str, Any]:
    return dict(httpx.get(f"{base}/api/incidents/{case_id}", headers=headers).json())


def _do(page: Any, action: str, note: str = "", **fields: Any) -> None:
    """Click the action's button, fill its form, confirm; wait until the case has moved on."""
    version = page.get_attribute("body", "data-version")
    page.click(f"#actions [data-action='{action}']")
    page.wait_for_selector("#action-form:not([hidden])")
    for name, value in fields.items():
        selector = f"#action-fields [name='{name}']"
        page.wait_for_selector(selector)
        if isinstance(value, dict):  # a file: {name, mimeType, buffer}
            page.set_input_files(selector, value)
        elif page.eval_on_selector(selector, "e => e.tagName") == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    if note:
        page.fill("#note", note)
    page.click("#action-submit")
    page.wait_for_selector(f"body:not([data-version='{version}']), body[data-action-error]", timeout=10_000)
    failed = page.get_attribute("body", "data-action-error")
    assert failed is None, (action, failed, page.get_attribute("#action-error", "title"))


def test_a_case_is_worked_from_received_to_closed_by_its_buttons(
    page: Any, live_server: str, accounts: dict[str, Any], artifacts: Path
) -> None:
    case = _file(live_server, description="浏览器办结测试")
    _open(page, f"{live_server}/cases/{case['number']}", "disp1")
    assert page.locator("#case-status").inner_text() == "已受理"
    assert "坐标" in page.locator("#located-by").inner_text()
    assert page.locator("#grid-worker").count() == 1  # a dispatcher sees the grid worker and phone
    page.screenshot(path=str(artifacts / "case_page.png"), full_page=True)

    # a standard text fills the note
    page.click("#actions [data-action='register']")
    page.select_option("#phrases", index=1)
    assert page.input_value("#note").startswith("经核实")
    page.click("#action-submit")
    page.wait_for_selector("body[data-status='registered']")
    _do(page, "dispatch", unit="D09")  # the category's department, one of the matrix's candidates
    assert page.get_attribute("body", "data-status") == "dispatched"
    _do(page, "urge", note="群众多次来电反映，请加快处置。")
    assert page.locator("#urged").inner_text() == "1"
    before = page.get_attribute("#sla-state", "data-deadline")
    _do(page, "extend", note="需协调多个部门，申请延期。", hours="4")
    _do(page, "approve_extension", note="同意")
    after = page.get_attribute("#sla-state", "data-deadline")
    assert datetime.fromisoformat(after) > datetime.fromisoformat(before)  # the SLA recomputed
    _do(page, "suspend", note="需纳入年度计划统一解决，暂时挂账。")
    assert "挂账" in page.locator("#sla-state").inner_text()
    _do(page, "resume")
    _do(page, "accept")
    after = {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": photo(120.355, 36.085, size=(900, 640))}
    _do(page, "report", photo=after)
    assert page.get_attribute("body", "data-status") == "verifying"
    thumb = page.locator("#photos a.photo img").first
    assert "size=thumb" in (thumb.get_attribute("src") or "")
    page.wait_for_function(
        "() => { const i = document.querySelector('#photos a.photo img'); return i && i.naturalWidth > 0; }"
    )
    assert page.locator("#actions [data-action='close']").count() == 1

    # disp1 handled it: another person verifies and closes (核查)
    page.click("#signin")  # sign out
    page.wait_for_selector("#signin:has-text('登录')")
    page.reload()
    _sign_in(page, "disp2")
    page.wait_for_selector("body[data-ready='true']")
    _do(page, "close")
    assert page.get_attribute("body", "data-status") == "closed"
    _do(page, "reopen", note="反映人回访表示问题未解决，重新办理。")
    assert (
        page.get_attribute("body", "data-status") == "dispatched"
        and page.locator("#rounds").inner_text() == "2"
    )

    stored = _case(live_server, case["id"], accounts["admin1"])
    actions = [h["action"] for h in stored["history"]]
    assert {"urge", "extend_request", "extend_approve", "suspend", "resume", "reopen"} <= set(actions)
    steps = [(h["from_status"], h["to_status"]) for h in stored["history"] if h["action"] == "transition"]
    assert steps == [("received", "registered"), ("registered", "dispatched"), ("dispatched", "in_progress"),
                     ("in_progress", "verifying"), ("verifying", "closed")]  # fmt: skip
    assert stored["history"][1]["note"].startswith("经核实")  # the standard text was sent
    assert page.locator("#timeline li").count() == len(stored["history"])
    page.screenshot(path=str(artifacts / "case_page_reopened.png"), full_page=True)
    assert page.errors == []


def test_errors_are_in_the_interface_language_and_a_stale_page_is_told(
    page: Any, live_server: str, accounts: dict[str, Any]
) -> None:
    case = _file(live_server)
    _open(page, f"{live_server}/cases/{case['number']}", "disp1")
    page.click("#actions [data-action='reject']")
    page.fill("#note", "   ")  # a note of blanks is no note
    page.click("#action-submit")
    page.wait_for_selector("#action-error:has-text('请检查 意见')")
    assert _case(live_server, case["id"], accounts["admin1"])["status"] == "received"

    # someone else registers it meanwhile: this page's action is refused, with what happened
    got = httpx.post(
        f"{live_server}/api/incidents/{case['id']}/transitions",
        json={"to": "registered"},
        headers=accounts["disp2"],
    )
    assert got.status_code == 200
    page.click("#actions [data-action='urge']")
    page.click("#action-submit")
    page.wait_for_selector("#action-error:has-text('案件已被他人修改')")
    assert page.get_attribute("#action-error", "title").startswith(f"incident {case['id']} changed")
    assert _case(live_server, case["id"], accounts["admin1"])["urged"] == 0  # nothing changed

    page.click("#lang")  # the same error in English
    page.click("#actions [data-action='urge']")
    page.click("#action-submit")
    page.wait_for_selector("#action-error:has-text('Someone changed this case')")


def test_a_session_outlives_the_token_and_an_ended_one_signs_in_again_and_goes_on(
    page: Any, live_server: str, engine: Engine, accounts: dict[str, Any]
) -> None:
    case = _file(live_server)
    _open(page, f"{live_server}/cases/{case['number']}", "disp2")
    with engine.begin() as conn:  # an hour on: past the 30-minute token lifetime, within the shift
        conn.execute(
            text(
                "UPDATE sessions SET created_at = created_at - interval '1 hour', "
                "last_seen = last_seen - interval '1 hour' WHERE user_name = 'disp2'"
            )
        )
    _do(page, "urge", note="第一次督办")
    assert page.locator("#signin-dialog[open]").count() == 0

    with engine.begin() as conn:  # the session ends (idle too long): the next action asks to sign in
        conn.execute(
            text("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_name = 'disp2'")
        )
    page.click("#actions [data-action='urge']")
    page.fill("#note", "第二次督办")
    page.click("#action-submit")
    page.wait_for_selector("#signin-dialog[open]")
    assert "登录已过期" in page.locator("#signin-reason").inner_text()
    page.fill("#signin-form input[name=username]", "disp2")
    page.fill("#signin-form input[name=password]", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("#urged:has-text('2')", timeout=10_000)  # the action went through after signing in
    notes = [h["note"] for h in _case(live_server, case["id"], accounts["admin1"])["history"]]
    assert notes.count("第二次督办") == 1  # once, not lost and not twice


def test_filing_from_the_form_by_address_and_by_swapped_coordinates(
    page: Any, live_server: str, accounts: dict[str, Any], artifacts: Path
) -> None:
    _open(page, f"{live_server}/cases/new", "disp1")
    page.fill("#category", "E0102 垃圾满溢")
    page.fill("textarea[name=description]", "来电：垃圾桶满溢")
    page.fill("#address", "恩县路64号")
    page.click("#address-search")
    page.click("#address-results li[data-match='exact']")
    page.wait_for_selector("body[data-located]:not([data-located='outside'])")
    page.fill("input[name=name]", "刘女士")
    page.fill("input[name=phone]", "13912345678")
    page.screenshot(path=str(artifacts / "case_new.png"), full_page=True)
    page.click("#file")
    page.wait_for_url(f"{live_server}/cases/2*", timeout=10_000)
    page.wait_for_selector("body[data-ready='true']")
    number = page.url.rsplit("/", 1)[1]
    found = httpx.get(f"{live_server}/api/incidents", params={"q": number}, headers=accounts["disp1"]).json()
    filed = found["incidents"][0]
    assert (filed["source"], filed["located_by"], filed["category"]) == ("hotline", "address", "E0102")
    assert filed["location_input"]["address"].endswith("恩县路64号")  # the chosen doorplate, kept verbatim

    page.goto(f"{live_server}/cases/new")
    page.wait_for_selector("body[data-ready='true']")
    page.fill("#category", "E0101 暴露垃圾")
    page.fill("#coords", "36.0962,120.3791")  # latitude first, as people paste it
    page.click("#coords-go")
    page.wait_for_selector("#swap-offer:not([hidden])")
    assert page.get_attribute("body", "data-located") is None  # not swapped silently
    page.click("#use-swapped")
    page.wait_for_selector("body[data-located]")
    located = httpx.get(f"{live_server}/api/locate", params={"lon": 120.3791, "lat": 36.0962}).json()
    assert page.get_attribute("body", "data-located") == located["micro_grid"]["code"]
    page.click("#file")
    page.wait_for_url(f"{live_server}/cases/2*", timeout=10_000)
    number = page.url.rsplit("/", 1)[1]
    filed = httpx.get(f"{live_server}/api/incidents", params={"q": number}).json()["incidents"][0]
    assert filed["micro_grid"] == located["micro_grid"]["code"]
    assert page.errors == []


def test_a_repeat_call_is_attached_to_the_open_case(
    page: Any, live_server: str, accounts: dict[str, Any]
) -> None:
    case = _file(live_server, category="E0303", description="违法建设 首次反映")
    _open(page, f"{live_server}/cases/new", "disp1")
    page.fill("#category", "E0303 违法建设")
    page.fill("#coords", f"{POINT[0]},{POINT[1]}")
    page.click("#coords-go")
    page.wait_for_selector(f"[data-action='attach'][data-case='{case['number']}']")
    page.fill("textarea[name=description]", "再次来电：违法建设仍在施工")
    page.fill("input[name=phone]", "13700001111")
    page.click(f"[data-action='attach'][data-case='{case['number']}']")
    page.wait_for_url(f"{live_server}/cases/{case['number']}")
    page.wait_for_selector("#repeats:has-text('1')")
    stored = _case(live_server, case["id"], accounts["admin1"])
    assert stored["repeats"] == 1 and len(stored["reporters"]) == 2
    assert stored["history"][-1]["note"] == "再次来电：违法建设仍在施工"
    count = httpx.get(f"{live_server}/api/incidents", params={"q": "违法建设仍在施工"}).json()[
        "numberMatched"
    ]
    assert count == 0  # no new case was made


def test_the_workbench_filters_counts_saves_and_exports_to_xlsx(
    page: Any, live_server: str, accounts: dict[str, Any], artifacts: Path
) -> None:
    marked = [_file(live_server, description=f"工作台导出测试 {i}") for i in range(3)]
    _open(page, f"{live_server}/cases", "disp1")
    every = httpx.get(f"{live_server}/api/incidents", params={"limit": 1}).json()["numberMatched"]
    assert int(page.get_attribute("body", "data-matched")) == every  # every case, not the map's view
    assert page.locator("#cases tbody tr").count() == 50
    assert page.locator("#tabs [data-status='received']").count() == 1
    page.wait_for_selector("body[data-clusters]")
    page.screenshot(path=str(artifacts / "workbench.png"), full_page=True)

    page.fill("#filters input[name=q]", "工作台导出测试")
    page.click("#filters button[type=submit]")
    page.wait_for_selector("body[data-matched='3']")
    assert {page.locator("#cases tbody tr a").nth(i).inner_text() for i in range(3)} == {
        c["number"] for c in marked
    }
    page.click("#tabs [data-status='registered']")
    page.wait_for_selector("body[data-matched='0']")
    page.click("#tabs [data-status='']")
    page.wait_for_selector("body[data-matched='3']")

    page.once("dialog", lambda d: d.accept("导出测试"))
    page.click("#save-filter")
    page.wait_for_selector("#presets [data-preset='导出测试']")
    saved = httpx.get(f"{live_server}/api/me/filters", headers=accounts["disp1"]).json()["filters"]
    assert [parse_qs(f["query"]) for f in saved if f["name"] == "导出测试"] == [{"q": ["工作台导出测试"]}]

    page.click("#export-xlsx")
    page.wait_for_selector("#export-link:not([hidden])", timeout=20_000)
    with page.expect_download() as download:
        page.click("#export-link")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))["cases"]
    rows = list(sheet.values)
    assert rows[0][:3] == ("编号", "类别代码", "类别") and {r[0] for r in rows[1:]} == {
        c["number"] for c in marked
    }

    page.click("#presets [data-preset='超期']")
    page.wait_for_selector("#presets [data-preset='超期'][aria-pressed='true']")
    page.wait_for_selector("#cases:not([aria-busy])")
    red = httpx.get(f"{live_server}/api/incidents", params={"level": "red", "limit": 1}).json()[
        "numberMatched"
    ]
    assert int(page.get_attribute("body", "data-matched")) == red
    page.screenshot(path=str(artifacts / "workbench_overdue.png"), full_page=True)
    assert page.errors == []

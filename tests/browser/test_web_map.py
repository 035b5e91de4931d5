"""The web map in real headless Chromium: loads clean, tiles arrive, click, search, views, phone size."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

POINT = (120.36, 36.085)  # inside 内蒙古路社区
ASSET = "3702030102000123"


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.errors = []
    page.tiles = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("response", lambda r: page.tiles.append((r.url, r.status)) if "/tiles/" in r.url else None)
    yield page
    page.close()


def _open(page: Any, base: str, fragment: str) -> None:
    page.goto(f"{base}/#{fragment}", wait_until="networkidle")
    page.wait_for_selector("body[data-map-ready='true']", timeout=20_000)


def test_map_loads_clean_and_tiles_arrive(page: Any, live_server: str, artifacts: Path) -> None:
    _open(page, live_server, f"z=15&c={POINT[1]},{POINT[0]}")
    assert page.errors == []
    names = {url.split("/tiles/")[1].split("/")[0] for url, status in page.tiles if status == 200}
    assert {"streets", "communities", "grids", "micro_grids", "parking"} <= names
    assert page.locator(".leaflet-control-scale").count() == 1 and page.locator(".legend").count() == 1
    assert "generated" in page.locator("#panel .generated").inner_text()
    page.screenshot(path=str(artifacts / "map_dispatch.png"))


def test_a_click_shows_the_micro_grid_of_that_point(page: Any, live_server: str) -> None:
    _open(page, live_server, f"z=18&c={POINT[1]},{POINT[0]}")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#located-micro-grid", timeout=10_000)
    expected = httpx.get(f"{live_server}/api/locate", params={"lon": POINT[0], "lat": POINT[1]}).json()
    assert expected["micro_grid"]["code"] in page.locator("#located-micro-grid").inner_text()
    assert page.get_attribute("body", "data-located") == expected["micro_grid"]["code"]


def test_search_finds_an_address_an_asset_and_coordinates(page: Any, live_server: str) -> None:
    _open(page, live_server, "z=13")
    page.fill("#q", "恩县路64号")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results li:has-text('恩县路64号')", timeout=10_000)
    page.keyboard.press("Enter")  # the first result has the focus: the keyboard chooses it
    page.wait_for_selector("#located-micro-grid", timeout=10_000)
    address = httpx.get(f"{live_server}/api/geocode", params={"q": "恩县路64号"}).json()["results"][0]
    assert address["micro_grid"]["code"] in page.locator("#located-micro-grid").inner_text()

    page.fill("#q", ASSET)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#results h2:has-text('{ASSET}')", timeout=10_000)

    page.fill("#q", "gcj02:120.3791,36.0962")
    page.keyboard.press("Enter")
    located = httpx.get(
        f"{live_server}/api/locate", params={"lon": 120.3791, "lat": 36.0962, "crs": "gcj02"}
    ).json()
    page.wait_for_selector(f"#located-micro-grid:has-text('{located['micro_grid']['code']}')", timeout=10_000)
    assert page.errors == []


def test_hotspot_view_renders(page: Any, live_server: str, artifacts: Path) -> None:
    _open(page, live_server, "view=hotspots&z=13&days=365&res=9")
    page.wait_for_selector("body[data-hotspots]", timeout=20_000)  # (CSP forbids wait_for_function's eval)
    assert int(page.get_attribute("body", "data-hotspots")) > 0
    assert page.locator("#mom tbody tr").count() >= 20  # the streets, month over month
    assert page.get_attribute("body", "data-mom-month") == "2026-10"  # the last complete month with cases
    assert (
        page.locator("#mom-month option").count() >= 36
        and "2026-09" in page.locator("#mom-caption").inner_text()
    )
    assert "Gi" in page.locator("[data-panel=hotspots] h2").inner_text()
    assert page.locator("path.leaflet-interactive").count() > 50
    page.screenshot(path=str(artifacts / "map_hotspots.png"))
    assert page.errors == []


def test_planner_view_renders_coverage_and_csv(page: Any, live_server: str, artifacts: Path) -> None:
    _open(page, live_server, "view=planner&z=13&layer=parking&radius=500&by=street&ev=true")
    page.wait_for_selector("body[data-coverage]", timeout=20_000)
    assert int(page.get_attribute("body", "data-coverage")) > 0
    assert page.locator("#coverage-table tbody tr").count() == 22
    assert page.locator("input[name=ev]").is_checked()
    href = page.get_attribute("#coverage-csv", "href")
    assert "ev=true" in href and "f=csv" in href
    csv = httpx.get(live_server + href)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    uncovered = int(page.get_attribute("body", "data-coverage"))
    with page.expect_download() as download:
        page.click("#uncovered-xlsx")
    assert download.value.suggested_filename == "uncovered-parking-ev-500m.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))["uncovered"]
    assert sheet.max_row == 1 + uncovered  # the header and each micro-grid beyond 500 m of an EV car park
    page.screenshot(path=str(artifacts / "map_planner.png"))
    assert page.errors == []


def test_the_url_restores_the_view_and_language_toggles(page: Any, live_server: str) -> None:
    _open(page, live_server, f"view=planner&z=14&c={POINT[1]},{POINT[0]}&radius=300&by=grid")
    assert page.locator("[data-panel=planner]").is_visible()
    assert page.locator("input[name=radius_m]").input_value() == "300"
    assert page.locator("select[name=by]").input_value() == "grid"
    assert "z=14" in page.evaluate("location.hash")
    page.click("#lang")
    assert page.locator("[data-view=dispatch]").inner_text() == "Dispatch"
    assert "lang=en" in page.evaluate("location.hash")
    page.click("[data-view=hotspots]")
    assert "view=hotspots" in page.evaluate("location.hash")


def test_the_map_works_on_a_phone(browser: Any, live_server: str, artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server}/#z=15&c={POINT[1]},{POINT[0]}", wait_until="networkidle")
    page.wait_for_selector("body[data-map-ready='true']", timeout=20_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator("#q").is_visible() and page.locator("#map").bounding_box()["height"] > 250
    page.screenshot(path=str(artifacts / "map_phone.png"))
    assert errors == []
    page.close()


def test_a_dispatcher_dispatches_from_the_queue(
    page: Any, live_server: str, client: Any, accounts: dict[str, dict[str, str]]
) -> None:
    from tests.conftest import PASSWORD

    filed = client.post(
        "/api/incidents", json={"source": "hotline", "category": "E0501", "lon": POINT[0], "lat": POINT[1]}
    ).json()
    registered = client.post(
        f"/api/incidents/{filed['id']}/transitions", json={"to": "registered"}, headers=accounts["disp1"]
    )
    assert registered.status_code == 200, registered.text
    _open(page, live_server, f"z=17&c={POINT[1]},{POINT[0]}&status=registered")
    item = page.locator(f"#queue li[data-id='{filed['id']}']")
    item.wait_for(timeout=10_000)
    assert item.locator("button").count() == 0  # not signed in: no dispatch button
    page.click("#signin")
    page.fill("#signin-form input[name=username]", "disp1")
    page.fill("#signin-form input[name=password]", PASSWORD)
    page.click("#signin-form button[value=ok]")
    page.locator(f"#queue li[data-id='{filed['id']}'] button").click(timeout=10_000)
    page.locator(f"#queue li[data-id='{filed['id']}']").wait_for(state="detached", timeout=10_000)
    assert client.get(f"/api/incidents/{filed['id']}").json()["status"] == "dispatched"
    assert page.errors == []


def test_the_locate_panel_shows_ambiguity_nearby_cases_and_how_an_address_matched(
    page: Any, live_server: str, engine: Any, artifacts: Path
) -> None:
    from sqlalchemy import text

    _open(page, live_server, "z=16")
    page.fill("#q", "gcj02:120.3791,36.0962")  # the README's example: 1.7 m from a micro-grid's edge
    page.keyboard.press("Enter")
    page.wait_for_selector("#located-edge", timeout=10_000)
    assert page.get_attribute("#located-edge", "data-ambiguous") == "true"
    assert "m" in page.locator("#located-edge").inner_text()
    page.screenshot(path=str(artifacts / "locate_ambiguous.png"))

    with engine.connect() as conn:  # an open case: the panel lists it with no category filter set
        lon, lat, number = conn.execute(
            text(
                "SELECT ST_X(point), ST_Y(point), number FROM incidents WHERE point IS NOT NULL "
                "AND status IN ('received', 'registered', 'dispatched', 'in_progress') ORDER BY id LIMIT 1"
            )
        ).one()
    page.fill("#q", f"{lon:.7f},{lat:.7f}")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#results li:has-text('{number}')", timeout=10_000)

    page.fill("#q", "恩县路六十四号")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results li[data-match='exact']", timeout=10_000)
    page.keyboard.press("Enter")
    page.wait_for_selector("#chosen-address", timeout=10_000)
    assert "恩县路64号" in page.locator("#chosen-address").inner_text()

    page.fill("#q", "香港中路10号")  # a road of 市南区: nothing offered, and the panel says why
    page.keyboard.press("Enter")
    page.wait_for_selector("#results p.flag-red", timeout=10_000)
    assert "市南区" in page.locator("#results p.flag-red").inner_text()
    page.screenshot(path=str(artifacts / "geocode_outside.png"))
    assert page.errors == []

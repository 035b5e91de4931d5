"""The field worker's asset page in real headless Chromium at phone size, and its QR code."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import zxingcpp
from PIL import Image
from sqlalchemy import Connection, text

ASSET = "3702030102000123"


def test_asset_page_on_a_phone(browser: Any, live_server: str, artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(f"{live_server}/a/{ASSET}", wait_until="networkidle")
    assert response is not None and response.status == 200
    page.wait_for_selector("body[data-map-ready='true']", timeout=10_000)
    assert page.locator(".id").inner_text() == ASSET
    assert "污水" in page.locator("h1").inner_text()
    assert page.locator("text=网格员").count() == 1
    assert page.locator(".leaflet-interactive").count() >= 2  # the micro-grid and the asset at least
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360  # nothing overflows a 360 px phone
    page.screenshot(path=str(artifacts / "asset_page_phone.png"), full_page=True)
    assert errors == []
    page.close()


def test_unknown_asset_is_a_friendly_page_with_a_search(browser: Any, live_server: str) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 740})
    response = page.goto(f"{live_server}/a/3702030102999999")
    assert response is not None and response.status == 404
    page.fill("#q", ASSET)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/a/{ASSET}")
    page.close()


def test_qr_code_decodes_to_the_page_url(live_server: str) -> None:
    png = httpx.get(f"{live_server}/a/{ASSET}/qr.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert [d.text for d in decoded] == [f"{live_server}/a/{ASSET}"]
    svg = httpx.get(f"{live_server}/a/{ASSET}/qr.svg")
    assert svg.status_code == 200 and svg.text.lstrip().startswith("<svg")
    wrong = httpx.get(f"{live_server}/a/123/qr.png")
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "asset_id"


def test_asset_page_is_fast(live_server: str) -> None:
    import time

    with httpx.Client() as client:
        client.get(f"{live_server}/a/{ASSET}")
        start = time.perf_counter()
        for _ in range(10):
            assert client.get(f"{live_server}/a/{ASSET}").status_code == 200
        assert (time.perf_counter() - start) / 10 < 0.5  # well under the one-second budget on localhost


def test_label_sheet_has_a_label_for_every_cover_of_the_grid(live_server: str, conn: Connection) -> None:
    grid = httpx.get(f"{live_server}/api/assets/{ASSET}").json()["properties"]["areas"]["grid"]["code"]
    html = httpx.get(f"{live_server}/a/labels/{grid}")
    assert html.status_code == 200
    in_grid = (
        conn.execute(
            text("SELECT id FROM assets WHERE kind = 'manhole_cover' AND micro_grid LIKE :p"),
            {"p": f"{grid}%"},
        )
        .scalars()
        .all()
    )
    assert in_grid and html.text.count('class="label"') == len(in_grid)
    assert all(asset_id in html.text for asset_id in in_grid)
    assert html.text.count("<svg") == len(in_grid)
    street = httpx.get(f"{live_server}/a/labels/370203020")  # a street's code: labels are per grid
    assert street.status_code == 422 and street.json()["error"]["field"] == "grid_code"


def test_field_staff_sign_in_and_record_an_inspection_on_a_phone(
    browser: Any, live_server: str, accounts: dict[str, Any], artifacts: Path
) -> None:
    from tests.conftest import PASSWORD
    from tests.zoo import photo

    cover = "3702030101000819"  # a cover of 即墨路街道, the signed-in field1's street
    page = browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server}/a/{cover}", wait_until="networkidle")
    page.wait_for_selector("#record[data-ready='true']", state="attached")
    assert page.locator("#record").is_hidden()  # the public sees the asset, a small sign-in link below
    page.click("#staff-link")
    assert page.locator("#inspect").is_hidden() and page.locator("#signin").is_visible()
    page.fill("#signin input[name=username]", "field1")
    page.fill("#signin input[name=password]", "wrong password!")
    page.click("#signin button")
    page.wait_for_selector("#record-message:has-text('用户名')")  # in the page's language
    page.fill("#signin input[name=password]", PASSWORD)
    page.click("#signin button")
    page.wait_for_selector("#inspect:not([hidden])")
    assert "field1" in page.locator("#who").inner_text()
    top = page.evaluate("document.getElementById('record').getBoundingClientRect().top")
    assert top < 200  # the form is at the top of the page, not screens down
    page.check("#inspect input[value=defect]")
    page.select_option("#inspect select[name=defect]", "gap")
    page.check("#inspect input[name=open_incident]")
    page.fill("#inspect textarea[name=note]", "盖框松动")
    page.set_input_files(
        "#inspect-photo", {"name": "cover.jpg", "mimeType": "image/jpeg", "buffer": photo(size=(900, 700))}
    )
    page.click("#inspect button[type=submit]")
    page.wait_for_selector("body[data-recorded='1']")
    message = page.locator("#record-message").inner_text()
    assert "已记录并立案" in message and "盖框间隙" in message  # kept on screen: no reload wipes it
    assert "盖框间隙" in page.locator("#inspections").inner_text()
    recorded = httpx.get(f"{live_server}/api/assets/{cover}/inspections", headers=accounts["field1"]).json()
    latest = recorded["results"][0]
    assert latest["photo_url"].startswith("/api/photos/")
    page.reload()
    page.wait_for_selector("#record[data-ready='true']")
    loaded = "() => (document.querySelector('#inspections img.inline-thumb') || {}).naturalWidth > 0"
    page.wait_for_function(loaded)  # staff see the inspection's photo
    assert (
        "已受理" in page.locator("section:has(h2:has-text('Incidents'))").inner_text()
    )  # statuses in Chinese
    assert (
        "field1" not in page.locator("section:has(h2:has-text('Inspections'))").inner_text()
    )  # no staff names
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(artifacts / "asset_page_inspection_phone.png"), full_page=True)
    assert errors == []
    page.close()


def test_label_sheet_prints_to_pdf(live_server: str, artifacts: Path) -> None:
    from pypdf import PdfReader

    grid = httpx.get(f"{live_server}/api/assets/{ASSET}").json()["properties"]["micro_grid"][:15]
    got = httpx.get(f"{live_server}/a/labels/{grid}.pdf", timeout=120)
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    (artifacts / "label_sheet.pdf").write_bytes(got.content)
    reader = PdfReader(io.BytesIO(got.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert ASSET in text and len(reader.pages) >= 1
    assert httpx.get(f"{live_server}/a/labels/370203.pdf").status_code == 422

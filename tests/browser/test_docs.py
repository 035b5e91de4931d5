"""/docs and /redoc render in Chromium from the vendored bundles, under the platform's CSP, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.mark.parametrize(("path", "ready"), [("/docs", ".opblock"), ("/redoc", "[data-section-id]")])
def test_api_docs_render_offline(
    browser: Any, live_server: str, artifacts: Path, path: str, ready: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith((live_server, "data:", "blob:")) else None,
    )
    # Swagger UI lays out the whole API (a 340 KB document) before the first operation shows:
    # 5-6 s on an idle two-core machine, over 30 s while the session's server is busy.
    page.goto(f"{live_server}{path}", wait_until="networkidle", timeout=120_000)
    page.wait_for_selector(ready, timeout=120_000)
    assert page.locator(ready).count() > 20  # the operations of the whole API are there
    page.screenshot(path=str(artifacts / f"api{path.replace('/', '_')}.png"))
    context.close()
    assert outside == []  # nothing from a CDN
    assert [
        e for e in errors if ("Refused" in e or "Content Security Policy" in e) and "redoc.ly" not in e
    ] == []

"""The enterprise pages in real headless Chromium over real HTTP and PostGIS: the cockpit drawn
from the register (the separation figures, the street map whose streets open the list behind
them), the search page's filters from a link, the English toggle, and a street office's push
of a day with its visit button. Screenshots are test artifacts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from layers.accounts import users
from layers.cases import worktime
from layers.enterprises import digest
from tests.conftest import PASSWORD

DAY = date(2026, 10, 29)  # a Thursday of the session's register (the db tests push 10-30)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def _user(engine: Engine, name: str, role: str, unit: str | None) -> None:
    with engine.begin() as conn:
        if not conn.execute(text("SELECT 1 FROM users WHERE name = :n"), {"n": name}).first():
            users.add(conn, name, role, PASSWORD, unit)


def _open(page: Any, url: str, user: str) -> None:
    page.goto(url)
    page.wait_for_selector("#signin-dialog[open]", timeout=15_000)
    page.fill("#signin-form input[name=username]", user)
    page.fill("#signin-form input[name=password]", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("body[data-ready='true']", timeout=30_000)


def _matched(page: Any) -> int:
    return int(page.locator("#matched").text_content().split()[0].replace(",", ""))


def test_the_cockpit_shows_the_register_and_opens_the_list_behind_a_street(
    page: Any, live_server: str, engine: Engine, artifacts: Path
) -> None:
    _user(engine, "cockpit_planner", "planner", None)
    assert 'data-allowed="false"' in httpx.get(f"{live_server}/cockpit").text  # the public: a sign-in
    _open(page, f"{live_server}/cockpit", "cockpit_planner")
    assert page.locator("#s-separation").is_visible()
    figures = page.locator("#s-separation ~ .figures b").all_text_contents()
    assert figures[:3] == ["8,576", "4,392", "4,184"]
    assert page.locator("svg.map path.street").count() == 22
    cells = "#levels tr[data-key={}] a"  # this year's changes, split 市级 / 区级 / 外区
    by_level = {
        key: [int(t.replace(",", "")) for t in page.locator(cells.format(key)).all_text_contents()]
        for key in ("founded", "closed", "moved_in", "moved_out")
    }
    panorama = [int(t.replace(",", "")) for t in page.locator("#s-panorama + .figures b").all_text_contents()]
    assert sum(by_level["founded"]) == panorama[2] and sum(by_level["moved_in"]) == panorama[4]
    assert by_level["founded"][0] > 0 and by_level["founded"][1] > by_level["founded"][0]
    page.screenshot(path=str(artifacts / "cockpit.png"), full_page=True)
    page.click("#lang")
    assert page.locator("h1 [data-i18n=cockpit_title]").text_content() == "Enterprise cockpit"
    page.click("#lang")
    street = page.locator("svg.map a").first
    href = street.get_attribute("href")
    counted = int(street.locator("title").text_content().split()[-1])
    street.click()
    page.wait_for_url("**/enterprises?**")
    page.wait_for_selector("body[data-ready='true']", timeout=30_000)
    code = href.split("street=")[1].split("&")[0]
    assert page.locator("select[name=street]").input_value() == code
    shown = _matched(page)
    assert shown == counted > 0
    assert page.locator("#firm-table tbody tr").count() == min(shown, 50)
    page.screenshot(path=str(artifacts / "enterprises_search.png"))
    page.go_back()
    page.wait_for_selector("body[data-ready='true']", timeout=30_000)
    growing = page.locator("#s-growing + .figures a")
    counted = int(growing.locator("b").text_content().replace(",", ""))
    assert counted > 0 and page.locator("#s-growing ~ table").first.locator("tbody tr").count() > 0
    growing.click()
    page.wait_for_url("**/enterprises?**growing=true**")
    page.wait_for_selector("body[data-ready='true']", timeout=30_000)
    assert page.locator("input[name=growing]").is_checked()
    assert not page.locator("input[name=abnormal]").is_checked()
    assert _matched(page) == counted
    page.screenshot(path=str(artifacts / "enterprises_growing.png"))
    page.click("button[type=reset]")
    for _ in range(150):  # the reset reloads the list: wait for its new count
        if _matched(page) != counted:
            break
        page.wait_for_timeout(100)
    assert not page.locator("input[name=growing]").is_checked()
    assert _matched(page) > counted
    page.goto(f"{live_server}/cockpit")
    page.wait_for_selector("body[data-ready='true']", timeout=30_000)
    page.click("#levels tr[data-key=founded] a[data-level=city]")
    page.wait_for_url("**/enterprises?**registrar=city**")
    page.wait_for_selector("body[data-ready='true']", timeout=30_000)
    assert page.locator("select[name=registrar]").input_value() == "city"
    assert _matched(page) == by_level["founded"][0]
    assert page.errors == []


def test_a_street_office_reads_its_push_and_marks_a_visit(
    page: Any, live_server: str, engine: Engine, artifacts: Path
) -> None:
    with engine.begin() as conn:
        digest.make(conn, DAY, date(2026, 11, 1))
        street = conn.execute(
            text("SELECT recipient FROM enterprise_digests WHERE day = :d AND recipient_kind = 'street' "
                 "ORDER BY records DESC, recipient LIMIT 1"), {"d": DAY}
        ).scalar_one()  # fmt: skip
    _user(engine, "digest_street", "viewer", street)
    _open(page, f"{live_server}/enterprises/digest/{DAY.isoformat()}", "digest_street")
    cards = page.locator("#digests section")
    assert cards.count() == 1 and cards.first.get_attribute("data-recipient") == street
    shown = page.locator("#digests tbody tr td:nth-child(4)").all_text_contents()  # 登记机关
    assert shown and set(shown) <= {"市级", "区级", "外区"}
    assert page.locator("#digests .count").text_content().startswith(f"{len(shown)} · ")
    button = page.locator("#digests [data-action=visit]").first
    page.once("dialog", lambda d: d.accept("次日上门走访"))
    button.click()
    page.locator("#digests [data-action=visit][data-done=true]").wait_for()
    with engine.connect() as conn:
        notes = conn.execute(
            text("SELECT note FROM enterprise_visits WHERE street = :s"), {"s": street}
        ).scalars().all()  # fmt: skip
    assert notes == ["次日上门走访"]
    page.reload()
    page.locator("body[data-ready='true']").wait_for()
    today = datetime.now(worktime.BEIJING).date().isoformat()
    assert f"已走访 {today}" in page.locator("#digests [data-visited]").all_text_contents()
    page.screenshot(path=str(artifacts / "enterprise_digest.png"))
    assert page.errors == []

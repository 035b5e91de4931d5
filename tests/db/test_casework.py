"""The case workbench's API over real HTTP semantics and PostGIS: page sessions and CSRF, the
supervision actions (urge, extension, suspension, reopen, correction, repeat calls), stale
pages, the matrix's candidates, counts, clusters, saved filters, standard texts, exports."""

from __future__ import annotations

import io
import time
from datetime import date, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from layers.cases import worktime
from tests.conftest import PASSWORD

STREET_POINT = {"lon": 120.355, "lat": 36.085}  # inside the district, in 即墨路街道's neighbour


def _case(client: TestClient, category: str = "E0101", **extra: Any) -> dict[str, Any]:
    body = {
        "source": "hotline",
        "category": category,
        "description": "测试 casework",
        **STREET_POINT,
        **extra,
    }
    got = client.post("/api/incidents", json=body)
    assert got.status_code == 201, got.text
    return got.json()


def _act(client: TestClient, who: dict[str, str], case: int, path: str, **body: Any) -> Any:
    return client.post(f"/api/incidents/{case}/{path}", json=body, headers=who)


def _ok(got: Any) -> dict[str, Any]:
    assert got.status_code == 200, got.text
    return dict(got.json())


def _page_client(client: TestClient) -> TestClient:
    """A browser of its own (its cookie jar), on the session's app."""
    return TestClient(client.app)


# --- sessions -------------------------------------------------------------------------------


def test_a_page_session_is_an_httponly_strict_cookie_and_writes_need_its_csrf_token(
    client: TestClient, accounts: dict[str, Any], engine: Engine
) -> None:
    page = _page_client(client)
    signed = page.post("/api/session", data={"username": "disp1", "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith("wangge_session=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    info = signed.json()
    assert (info["user"], info["role"]) == ("disp1", "dispatcher") and len(info["csrf_token"]) > 20
    assert page.get("/api/session").json()["user"] == "disp1"

    case = _case(client)
    blocked = page.post(f"/api/incidents/{case['id']}/transitions", json={"to": "registered"})
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "csrf"
    assert client.get(f"/api/incidents/{case['id']}").json()["status"] == "received"  # nothing changed
    wrong = page.post(
        f"/api/incidents/{case['id']}/transitions", json={"to": "registered"}, headers={"X-CSRF-Token": "x"}
    )
    assert wrong.status_code == 403
    done = page.post(
        f"/api/incidents/{case['id']}/transitions",
        json={"to": "registered"},
        headers={"X-CSRF-Token": info["csrf_token"]},
    )
    assert done.status_code == 200 and done.json()["history"][-1]["actor"] == "disp1"  # audited as the user

    # past the token lifetime (30 min) the session still works, and its expiry slides forward
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE sessions SET created_at = now() - interval '3 hours', "
                "last_seen = now() - interval '2 hours', expires_at = now() + interval '5 minutes' "
                "WHERE user_name = 'disp1'"
            )
        )
    again = page.get("/api/session")
    assert again.status_code == 200
    left = datetime.fromisoformat(again.json()["expires_at"]) - datetime.now().astimezone()
    assert left > timedelta(hours=7.9)  # 8 hours from this use

    # an ended session says so everywhere (the page signs in again; never the public's view unsaid)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_name = 'disp1'")
        )
    assert page.get("/api/session").json() == {"signed_in": False, "ended": True}
    listed = page.get("/api/incidents", params={"limit": 1})
    assert listed.status_code == 401 and listed.json()["error"]["code"] == "session_expired"
    assert page.get("/api/me/filters").json()["error"]["code"] == "session_expired"
    assert page.delete("/api/session").status_code == 204  # cancelling the dialog: on as the public
    assert page.get("/api/incidents", params={"limit": 1}).status_code == 200

    # sign in again, then out
    info = page.post("/api/session", data={"username": "disp1", "password": PASSWORD}).json()
    assert page.delete("/api/session").status_code == 403  # signing out is a write too
    out = page.delete("/api/session", headers={"X-CSRF-Token": info["csrf_token"]})
    assert out.status_code == 204 and page.get("/api/session").json() == {"signed_in": False, "ended": False}


def test_a_wrong_password_gets_no_session_and_bearer_tokens_still_work(
    client: TestClient, accounts: dict[str, Any]
) -> None:
    page = _page_client(client)
    bad = page.post("/api/session", data={"username": "disp2", "password": "nope"})
    assert bad.status_code == 401 and "set-cookie" not in bad.headers
    assert page.get("/api/me/filters", headers=accounts["disp2"]).status_code == 200


# --- supervision ----------------------------------------------------------------------------


def test_urge_extend_suspend_resume_close_and_reopen(client: TestClient, accounts: dict[str, Any]) -> None:
    disp, admin = accounts["disp1"], accounts["admin1"]
    case = _case(client)
    cid = case["id"]
    _ok(_act(client, disp, cid, "transitions", to="registered"))
    units = client.get(f"/api/incidents/{cid}/units", headers=disp).json()["units"]
    assert [u["why"] for u in units][:2] == ["current", "second"] and units[0]["unit"] == case["street"]
    assert {"community", "grid"} <= {u["why"] for u in units}  # the territory below the street
    department = next(u["unit"] for u in units if u["why"] == "second")  # E0101's department, D09
    assert department == "D09"
    dispatched = _ok(_act(client, disp, cid, "transitions", to="dispatched", unit=department))
    assert (dispatched["unit"], dispatched["second_unit"]) == (department, case["unit"])

    urged = _ok(_act(client, disp, cid, "urge", note="群众多次来电反映，请加快处置。"))
    assert urged["urged"] == 1 and urged["history"][-1]["action"] == "urge"
    assert _act(client, accounts["field1"], cid, "urge").status_code == 403

    # E0101 allows 16 working hours of extensions in all
    too_long = _act(client, disp, cid, "extension", hours=40, note="需协调")
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "extension_too_long"
    assert _act(client, disp, cid, "extension", hours=8).json()["error"]["field"] == "note"
    asked = _ok(_act(client, disp, cid, "extension", hours=9, note="需协调多个部门，申请延期。"))
    assert asked["extension_hours"] == 9
    refused = _act(client, disp, cid, "extension/decision", approve=False)
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "note"
    approved = _ok(_act(client, admin, cid, "extension/decision", approve=True, note="同意"))
    before, after = (datetime.fromisoformat(c["deadline"]) for c in (asked, approved))
    assert approved["extension_hours"] is None and approved["extended_hours"] == 9
    assert after - before >= timedelta(hours=9)  # 9 working hours: at least 9 hours, across a night more

    review = (date.today() + timedelta(days=30)).isoformat()
    assert _act(client, disp, cid, "suspension", review_on=review).json()["error"]["field"] == "note"
    past = _act(client, disp, cid, "suspension", review_on="2020-01-01", note="x")
    assert past.json()["error"]["field"] == "review_on"
    suspended = _ok(_act(client, disp, cid, "suspension", review_on=review, note="需纳入年度计划统一解决"))
    assert suspended["suspended_at"] and suspended["review_on"] == review and suspended["overdue"] is None
    public = client.get(f"/api/incidents/{cid}").json()
    assert public["suspended_at"] and public["suspend_reason"] is None  # the staff's reason stays inside
    listed = client.get("/api/incidents", params={"level": "suspended", "limit": 1000}).json()
    assert cid in {c["id"] for c in listed["incidents"]}
    resumed = _ok(_act(client, disp, cid, "resume"))
    assert resumed["suspended_at"] is None and resumed["paused_hours"] >= 0

    _ok(_act(client, disp, cid, "transitions", to="in_progress"))
    _ok(_act(client, disp, cid, "transitions", to="verifying", photos=["https://example.org/after.jpg"]))
    closed = _ok(_act(client, admin, cid, "transitions", to="closed"))
    assert closed["status"] == "closed"
    assert _act(client, disp, cid, "reopen").json()["error"]["field"] == "note"
    reopened = _ok(_act(client, disp, cid, "reopen", note="反映人回访表示问题未解决"))
    assert (reopened["status"], reopened["rounds"], reopened["closed_at"]) == ("dispatched", 2, None)
    reopened_at = datetime.fromisoformat(reopened["history"][-1]["at"])  # a fresh clock: 16 working hours
    hours = worktime.WorkHours.parse("08:30-17:30")
    assert datetime.fromisoformat(reopened["deadline"]) == hours.add(reopened_at, 16)
    assert reopened["extended_hours"] == 0
    month = reopened_at.astimezone(worktime.BEIJING).strftime("%Y-%m")
    asked_for = {"by": "department", "month": month, "category": "E0101"}
    kpi = client.get("/api/stats/kpi", params=asked_for).json()
    row = next(r for r in kpi["results"] if r["department"] == "D09")
    assert row["rework_rate"] > 0  # the reopened round counts as rework
    actions = [h["action"] for h in reopened["history"]]
    assert actions[-1] == "reopen" and {
        "urge",
        "extend_request",
        "extend_approve",
        "suspend",
        "resume",
    } <= set(actions)


def test_a_stale_page_gets_409_with_what_changed(client: TestClient, accounts: dict[str, Any]) -> None:
    case = _case(client)
    shown = client.get(f"/api/incidents/{case['id']}", headers=accounts["disp1"]).json()
    _ok(_act(client, accounts["disp2"], case["id"], "transitions", to="registered", version=shown["version"]))
    stale = _act(
        client,
        accounts["disp1"],
        case["id"],
        "transitions",
        to="rejected",
        note="x",
        version=shown["version"],
    )
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "stale" and "disp2" in error["message"] and "registered" in error["message"]
    assert client.get(f"/api/incidents/{case['id']}").json()["status"] == "registered"


def test_illegal_steps_and_units_outside_the_matrix_change_nothing(
    client: TestClient, accounts: dict[str, Any]
) -> None:
    disp = accounts["disp1"]
    case = _case(client)
    illegal = _act(client, disp, case["id"], "transitions", to="closed")
    assert illegal.status_code == 409 and illegal.json()["error"]["code"] == "illegal_transition"
    _ok(_act(client, disp, case["id"], "transitions", to="registered"))
    outside = _act(client, disp, case["id"], "transitions", to="dispatched", unit="D05")
    assert outside.status_code == 400 and outside.json()["error"]["code"] == "unit_outside_matrix"
    assert client.get(f"/api/incidents/{case['id']}").json()["status"] == "registered"
    assert _act(client, disp, case["id"], "reopen", note="x").status_code == 409


def test_a_correction_runs_the_matrix_again(client: TestClient, accounts: dict[str, Any]) -> None:
    disp = accounts["disp1"]
    case = _case(client, "E0101")
    corrected = _ok(_act(client, disp, case["id"], "correction", category="C0100", note="井盖问题"))
    assert corrected["category"] == "C0100" and corrected["unit"] == "U02"  # components go to the owner first
    assert corrected["routed_by"] in ("category", "owner")
    last = corrected["history"][-1]
    assert last["action"] == "reroute" and "E0101 → C0100" in last["note"] and "U02" in last["note"]
    moved = _ok(_act(client, disp, case["id"], "correction", address="恩县路64号"))
    assert moved["located_by"] == "address" and moved["micro_grid"] != case["micro_grid"]
    nothing = _act(client, disp, case["id"], "correction", category="C0100")
    assert nothing.status_code == 400


def test_a_repeat_call_joins_the_case(client: TestClient, accounts: dict[str, Any]) -> None:
    case = _case(client, reporter={"name": "张先生", "phone": "13800000001", "consent": True})
    again = _ok(
        _act(
            client, accounts["disp1"], case["id"], "repeats", note="再次来电",
            reporter={"name": "李女士", "phone": "13900000002", "consent": True},
        )
    )  # fmt: skip
    assert again["repeats"] == 1 and len(again["reporters"]) == 2
    assert again["history"][-1]["action"] == "repeat" and again["status"] == "received"
    assert _act(client, accounts["field1"], case["id"], "repeats").status_code == 403


# --- lists ----------------------------------------------------------------------------------


def test_counts_text_search_and_clusters(client: TestClient, accounts: dict[str, Any]) -> None:
    marked = _case(client, description="独一无二的描述 casework-search")
    found = client.get("/api/incidents", params={"q": "独一无二的描述"}).json()
    assert [c["id"] for c in found["incidents"]] == [marked["id"]]
    by_number = client.get("/api/incidents", params={"q": marked["number"]}).json()
    assert by_number["numberMatched"] == 1
    counts = client.get("/api/incidents/counts", params={"status": "received"}).json()
    assert counts["total"] == counts["statuses"]["received"] and len(counts["statuses"]) > 3
    every = client.get("/api/incidents", params={"limit": 1}).json()["numberMatched"]
    assert sum(client.get("/api/incidents/counts").json()["statuses"].values()) == every
    clusters = client.get("/api/incidents/clusters", params={"zoom": 13}).json()
    located = client.get("/api/incidents/counts").json()["total"]
    assert 0 < len(clusters["clusters"]) < located and clusters["total"] <= located
    close = client.get("/api/incidents/clusters", params={"zoom": 20, "q": "独一无二的描述"}).json()
    assert close["clusters"][0]["count"] == 1 and close["clusters"][0]["number"] == marked["number"]
    bad = client.get("/api/incidents", params={"level": "purple"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "level"


def test_saved_filters_and_standard_texts(client: TestClient, accounts: dict[str, Any]) -> None:
    disp, admin = accounts["disp2"], accounts["admin1"]
    saved = client.put("/api/me/filters/超期", json={"query": "?level=red&sort=deadline"}, headers=disp)
    assert (
        saved.status_code == 200
        and {"name": "超期", "query": "level=red&sort=deadline"} in saved.json()["filters"]
    )
    others = client.get("/api/me/filters", headers=accounts["disp1"]).json()["filters"]
    assert all(f["name"] != "超期" for f in others)  # saved per user
    assert client.delete("/api/me/filters/超期", headers=disp).status_code == 204
    assert client.delete("/api/me/filters/超期", headers=disp).status_code == 404

    texts = client.get(
        "/api/phrases", params={"action": "dispatch", "category": "C0100"}, headers=disp
    ).json()
    assert texts["phrases"][0]["category"] == "C0100" and any(p["category"] is None for p in texts["phrases"])
    assert client.get("/api/phrases").status_code == 401
    new = {"action": "urge", "text": "请今日内反馈处置进展。", "category": "E0101"}
    assert client.post("/api/phrases", json=new, headers=disp).status_code == 403
    added = client.post("/api/phrases", json=new, headers=admin)
    assert added.status_code == 201 and added.json()["phrases"][0]["text"] == new["text"]
    unknown = client.post("/api/phrases", json={**new, "category": "E9999"}, headers=admin)
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "category"
    assert client.delete(f"/api/phrases/{added.json()['phrases'][0]['id']}", headers=admin).status_code == 204


def test_an_xlsx_export_runs_in_the_background_and_masks_phones_per_role(
    client: TestClient, accounts: dict[str, Any]
) -> None:
    marked = _case(
        client, description="接口导出检查 casework", reporter={"name": "王先生", "phone": "13811112222"}
    )
    params = {"q": "接口导出检查", "f": "xlsx"}
    for who, phone in (("viewer1", "138****2222"), ("admin1", "13811112222")):
        job = client.post("/api/incidents/exports", params=params, headers=accounts[who])
        assert job.status_code == 202, job.text
        for _ in range(100):
            state = client.get(f"/api/incidents/exports/{job.json()['id']}", headers=accounts[who]).json()
            if state["state"] != "running":
                break
            time.sleep(0.05)
        assert state["state"] == "done" and state["done"] == state["total"] == 1
        other = "admin1" if who == "viewer1" else "viewer1"
        assert client.get(state["file_url"], headers=accounts[other]).status_code == (
            403 if who == "admin1" else 200
        )
        got = client.get(state["file_url"], headers=accounts[who])
        sheet = openpyxl.load_workbook(io.BytesIO(got.content))["cases"]
        rows = list(sheet.values)
        assert rows[0][0] == "编号" and rows[1][0] == marked["number"]
        assert rows[1][-1] == phone and rows[1][4] == "已受理"
    assert client.post("/api/incidents/exports", params=params).status_code == 401


@pytest.mark.parametrize("path", ["counts", "clusters"])
def test_fixed_paths_are_not_read_as_case_ids(
    client: TestClient, accounts: dict[str, Any], path: str
) -> None:
    got = client.get(f"/api/incidents/{path}", headers=accounts["admin1"])
    assert got.status_code == 200, got.text


def test_text_answers_are_gzipped_and_tiles_are_not(client: TestClient) -> None:
    listed = client.get("/api/incidents", params={"limit": 100}, headers={"Accept-Encoding": "gzip"})
    assert listed.headers["content-encoding"] == "gzip"
    assert int(listed.headers["content-length"]) < len(listed.content) / 4  # JSON compresses well
    tile = client.get("/tiles/micro_grids/15/27339/12857.mvt", headers={"Accept-Encoding": "gzip"})
    assert tile.status_code == 200 and "content-encoding" not in tile.headers

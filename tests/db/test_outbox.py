"""The outbox over real HTTP and PostGIS: webhooks registered and checked, deliveries signed
with HMAC-SHA256 to a real receiver on 127.0.0.1, retried with backoff, a failing endpoint
paused; reporters told of their case through a real gateway receiver, held without one;
the satisfaction visit; residents following a case; Open311's extensions."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.settings import Settings
from api.worker import Worker
from layers.outbox.events import visit_token

SPOT = {"lon": 120.355, "lat": 36.085}


@dataclass
class Receiver:
    """A real HTTP endpoint on loopback that keeps what it got (and can be told to fail)."""

    url: str
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail: bool = False

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.got]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if box.fail:
                self.send_response(503)
            else:
                box.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_port}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()


@pytest.fixture
def worker(test_settings: Settings, engine: Engine) -> Iterator[Any]:
    def make(**changes: Any) -> Worker:
        return Worker.open(test_settings.model_copy(update={"outbox_tick_s": 0.05, **changes}), engine)

    made: list[Worker] = []

    def opened(**changes: Any) -> Worker:
        made.append(make(**changes))
        return made[-1]

    yield opened
    for w in made:
        w.close()


@pytest.fixture
def clean_outbox(engine: Engine) -> Iterator[None]:
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM deliveries; DELETE FROM outbox; DELETE FROM webhooks"))


def _hook(client: TestClient, admin: dict[str, str], url: str, events: list[str]) -> dict[str, Any]:
    got = client.post("/api/webhooks", json={"url": url, "events": events}, headers=admin)
    assert got.status_code == 201, got.text
    return got.json()


def _move(client: TestClient, case: dict[str, Any], who: dict[str, str], to: str, **body: Any) -> Any:
    got = client.post(f"/api/incidents/{case['id']}/transitions", json={"to": to, **body}, headers=who)
    assert got.status_code == 200, got.text
    return got.json()


def test_webhook_urls_are_checked(client: TestClient, accounts: dict[str, Any]) -> None:
    admin = accounts["admin1"]
    for url, why in (
        ("ftp://example.org/hook", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("http://testserver/api/incidents", "this platform itself"),
        ("http://127.0.0.1:8000/x", "this platform itself"),
    ):
        got = client.post("/api/webhooks", json={"url": url, "events": ["case.created"]}, headers=admin)
        assert got.status_code == 400 and why in got.json()["error"]["message"], (url, got.text)
        assert got.json()["error"]["field"] == "url"
    wrong = client.post(
        "/api/webhooks", json={"url": "http://10.0.0.9/h", "events": ["case.deleted"]}, headers=admin
    )
    assert wrong.status_code == 422
    assert client.get("/api/webhooks", headers=accounts["disp1"]).status_code == 403


def test_status_changes_reach_a_webhook_signed_once_each(
    client: TestClient, accounts: dict[str, Any], receiver: Receiver, worker: Any, clean_outbox: None
) -> None:
    hook = _hook(client, accounts["admin1"], receiver.url, ["case.status_changed", "case.created"])
    secret = hook["secret"]
    assert "secret" not in client.get("/api/webhooks", headers=accounts["admin1"]).json()["webhooks"][0]
    who = {"name": "王五", "phone": "13900001111"}
    case = client.post(
        "/api/incidents", json={"source": "hotline", "category": "E0101", **SPOT, "reporter": who}
    ).json()
    _move(client, case, accounts["disp1"], "registered")
    w = worker()
    w.run(once=True)
    w.run(once=True)  # nothing more: each event once
    kinds = [b["type"] for b in receiver.bodies()]
    assert kinds == ["case.created", "case.status_changed"]
    for headers, body in receiver.got:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-wangge-signature"], expected)
        assert headers["x-wangge-event-id"] == json.loads(body)["id"]
        assert b"13900001111" not in body and "王五".encode() not in body  # no personal data
    changed = receiver.bodies()[1]["data"]
    assert changed["from"] == "received" and changed["to"] == "registered"
    assert changed["case"]["number"] == case["number"]
    listed = client.get("/api/webhooks", headers=accounts["admin1"]).json()["webhooks"][0]
    assert listed["waiting"] == 0 and listed["last_delivery"].startswith("sent")


def test_a_failing_endpoint_backs_off_then_is_paused_and_resumes(
    client: TestClient, accounts: dict[str, Any], receiver: Receiver, worker: Any, engine: Engine,
    clean_outbox: None,
) -> None:  # fmt: skip
    admin = accounts["admin1"]
    hook = _hook(client, admin, receiver.url, ["case.created"])
    receiver.fail = True
    for _ in range(3):
        client.post("/api/incidents", json={"source": "hotline", "category": "E0101", **SPOT})
    w = worker(webhook_pause_after=3)
    w.round()
    with engine.begin() as conn:
        states = conn.execute(
            text(
                "SELECT state, attempts, next_at > now() + interval '20 s' FROM deliveries "
                "WHERE webhook_id = :h"
            ),
            {"h": hook["id"]},
        ).all()
    assert states == [("pending", 1, True)] * 3  # backed off ~30 s, not retried at once
    listed = client.get("/api/webhooks", headers=admin).json()["webhooks"][0]
    assert listed["failures"] == 3 and listed["paused_at"] is not None
    with engine.begin() as conn:
        conn.execute(text("UPDATE deliveries SET next_at = now() WHERE webhook_id = :h"), {"h": hook["id"]})
    w.round()  # paused: nothing is sent, nothing is spent
    with engine.begin() as conn:
        assert (
            conn.execute(
                text("SELECT max(attempts) FROM deliveries WHERE webhook_id = :h"), {"h": hook["id"]}
            ).scalar()
            == 1
        )
    receiver.fail = False
    resumed = client.patch(f"/api/webhooks/{hook['id']}", json={"resume": True}, headers=admin).json()
    assert resumed["paused_at"] is None and resumed["waiting"] == 3
    w.run(once=True)
    assert len({b["id"] for b in receiver.bodies()}) == 3 == len(receiver.got)


def test_reporters_are_told_through_the_gateway_and_asked_how_it_went(
    client: TestClient, accounts: dict[str, Any], receiver: Receiver, worker: Any, test_settings: Settings,
    clean_outbox: None,
) -> None:  # fmt: skip
    reporter = {"phone": "13900002222", "notify": True}
    case = client.post(
        "/api/incidents", json={"source": "wechat", "category": "E0101", **SPOT, "reporter": reporter}
    ).json()
    quiet = client.post("/api/incidents", json={"source": "hotline", "category": "E0101", **SPOT,
                                                 "reporter": {"phone": "13900003333"}}).json()  # fmt: skip
    d = accounts["disp1"]
    _move(client, case, d, "registered")
    _move(client, quiet, d, "registered")
    worker().run(once=True)  # no gateway set up: held, visible to admins
    held = client.get("/api/deliveries", params={"state": "held"}, headers=accounts["admin1"]).json()
    assert [(x["channel"], x["target"], x["kind"]) for x in held["deliveries"]] == [
        ("wechat", "13900002222", "notify.status")
    ]
    assert client.get("/api/deliveries", headers=d).status_code == 403  # they name phones: admins only
    w = worker(notify_gateway_url=receiver.url, notify_gateway_secret="gw-secret")  # set up: released
    w.run(once=True)
    told = receiver.bodies()
    assert [(t["channel"], t["to"], t["params"]["status"]) for t in told] == [
        ("wechat", "13900002222", "registered")
    ]
    assert "已立案" in told[0]["text"] and f"/track/{case['number']}" in told[0]["text"]
    body = receiver.got[0][1]
    assert (
        receiver.got[0][0]["x-wangge-signature"]
        == "sha256=" + hmac.new(b"gw-secret", body, hashlib.sha256).hexdigest()
    )
    # to the end: dispatched, handled, verified and closed; the reporter hears of dispatch and close
    _move(client, case, d, "dispatched")
    _move(client, case, d, "in_progress")
    _move(client, case, d, "verifying", photos=["https://example.org/after.jpg"])
    _move(client, case, accounts["admin1"], "closed")
    w.run(once=True)
    said = [(t["template"], t["params"].get("status")) for t in receiver.bodies()]
    assert said == [("notify.status", "registered"), ("notify.status", "dispatched"),
                    ("notify.status", "closed"), ("notify.visit", None)]  # fmt: skip
    link = receiver.bodies()[-1]["params"]["link"]
    token = link.rsplit("visit=", 1)[1]
    assert token == visit_token(w.senders.config.secret, case["number"])
    wrong = client.post(f"/api/track/{case['number']}/visit", json={"token": "0" * 24, "satisfied": True})
    assert wrong.status_code == 403
    answered = client.post(
        f"/api/track/{case['number']}/visit", json={"token": token, "satisfied": False, "note": "还有垃圾"}
    )
    assert (
        answered.status_code == 200
        and answered.json()["satisfied"] is False
        and not answered.json()["visit_open"]
    )
    again = client.post(f"/api/track/{case['number']}/visit", json={"token": token, "satisfied": True})
    assert again.status_code == 409  # once
    assert all(t["to"] != "13900003333" for t in receiver.bodies())  # who did not ask is not told


def test_rejection_tells_the_reason_and_tracking_shows_it(
    client: TestClient, accounts: dict[str, Any], receiver: Receiver, worker: Any, clean_outbox: None
) -> None:
    who = {"email": "resident@example.org", "notify": True}
    case = client.post(
        "/api/incidents", json={"source": "photo_report", "category": "E0101", **SPOT, "reporter": who}
    ).json()
    _move(client, case, accounts["disp1"], "rejected", note="该处为私人院落，不属于公共区域")
    tracked = client.get(f"/api/track/{case['number']}").json()
    assert tracked["status"] == "rejected" and tracked["reason"] == "该处为私人院落，不属于公共区域"
    assert all(e["actor"] is None for e in tracked["history"])  # no staff
    held = client.get("/api/deliveries", params={"channel": "email"}, headers=accounts["admin1"]).json()[
        "deliveries"
    ]
    assert held and held[0]["payload"]["reason"] == "该处为私人院落，不属于公共区域"


def test_following_instead_of_filing(client: TestClient, accounts: dict[str, Any]) -> None:
    first = client.post("/api/incidents", json={"source": "photo_report", "category": "C0100", **SPOT}).json()
    near = client.get("/api/incidents/similar", params={**SPOT, "category": "C0100"}).json()[
        "likely_duplicates"
    ]
    assert first["id"] in {n["id"] for n in near} and all(n["distance_m"] % 50 == 0 for n in near)  # snapped
    north = {"lon": SPOT["lon"], "lat": SPOT["lat"] + 30 / 110_950, "category": "C0100"}
    far = client.get("/api/incidents/similar", params=north).json()["likely_duplicates"]
    assert first["id"] not in {n["id"] for n in far}  # a cover is one object: 20 m
    followed = client.post(f"/api/incidents/{first['id']}/followers",
                           json={"reporter": {"phone": "13900004444", "notify": True}})  # fmt: skip
    assert followed.status_code == 201 and followed.json()["repeats"] == 1
    assert followed.json()["track"] == f"/track/{first['number']}"
    staff = client.get(f"/api/incidents/{first['id']}", headers=accounts["disp1"]).json()
    assert len(staff["reporters"]) == 2 and staff["repeats"] == 1
    other = client.post("/api/incidents", json={"source": "photo_report", "category": "C0100", **SPOT}).json()
    client.post(f"/api/incidents/{other['id']}/merge", json={"into": first["id"]}, headers=accounts["disp1"])
    merged = client.post(f"/api/incidents/{other['id']}/followers", json={})
    assert merged.status_code == 409 and first["number"] in merged.json()["error"]["message"]
    d = accounts["disp1"]
    _move(client, first, d, "rejected", note="已修复")
    closed = client.post(f"/api/incidents/{first['id']}/followers", json={})
    assert closed.status_code == 409 and "report it anew" in closed.json()["error"]["message"]


def test_vending_counts_as_the_same_within_100_m_and_a_day_closed_ones_too(
    client: TestClient, accounts: dict[str, Any], engine: Engine
) -> None:
    base = {"lon": 120.362, "lat": 36.079}
    first = client.post("/api/incidents", json={"source": "hotline", "category": "E0501", **base}).json()
    d = accounts["disp1"]
    _move(client, first, d, "registered")
    with engine.begin() as conn:  # closed an hour ago
        conn.execute(text("UPDATE incidents SET status = 'closed', closed_at = now() - interval '1 hour' "
                          "WHERE id = :i"),
                     {"i": first["id"]})  # fmt: skip
    north = {"lon": base["lon"], "lat": base["lat"] + 80 / 110_950}
    second = client.post(
        "/api/incidents", json={"source": "hotline", "category": "E0501", **north}, headers=d
    ).json()
    same = {x["id"]: x for x in second["likely_duplicates"]}
    assert first["id"] in same and same[first["id"]]["status"] == "closed"  # "reported and closed yesterday"
    changed = client.patch("/api/categories/E0501", json={"duplicate_m": 50}, headers=accounts["admin1"])
    assert changed.status_code == 200 and changed.json()["duplicate_m"] == 50
    again = client.get(f"/api/incidents/{second['id']}/duplicates", headers=d).json()["likely_duplicates"]
    assert first["id"] not in {x["id"] for x in again}  # admins' data: now 50 m
    client.patch("/api/categories/E0501", json={"duplicate_m": 100}, headers=accounts["admin1"])


def test_open311_pages_searches_near_and_lists_updates(client: TestClient, accounts: dict[str, Any]) -> None:
    case = client.post("/api/incidents", json={"source": "hotline", "category": "E0101", **SPOT}).json()
    _move(client, case, accounts["disp1"], "registered")
    one = client.get("/open311/v2/requests.json", params={"page_size": 2}).json()
    two = client.get("/open311/v2/requests.json", params={"page_size": 2, "page": 2}).json()
    assert (
        len(one) == 2
        and len(two) == 2
        and not {r["service_request_id"] for r in one} & {r["service_request_id"] for r in two}
    )
    near = client.get(
        "/open311/v2/requests.json", params={"lat": SPOT["lat"], "long": SPOT["lon"], "radius": 100}
    ).json()
    assert case["number"] in {r["service_request_id"] for r in near}
    import geo.crs

    assert all(geo.crs.geodesic_m(r["long"], r["lat"], SPOT["lon"], SPOT["lat"]) < 100 + 50 for r in near)
    assert client.get("/open311/v2/requests.json", params={"lat": 36.0}).status_code == 400
    updates = client.get(
        "/open311/v2/servicerequestupdates.json", params={"service_request_id": case["number"]}
    ).json()
    assert [u["description"] for u in updates] == ["已受理", "已立案"]
    xml = client.get("/open311/v2/servicerequestupdates.xml", params={"service_request_id": case["number"]})
    assert xml.text.count("<request_update>") == 2


def test_overdue_cases_inspections_and_asset_changes_reach_their_webhooks(
    client: TestClient, accounts: dict[str, Any], receiver: Receiver, worker: Any, engine: Engine,
    clean_outbox: None,
) -> None:  # fmt: skip
    cover = "3702030101000819"
    normal = client.post(
        f"/api/assets/{cover}/inspections", json={"result": "ok"}, headers=accounts["field1"]
    )
    assert normal.status_code == 201  # whatever other tests found, the cover is normal now
    with engine.begin() as conn:  # what is overdue already was announced before this endpoint existed
        conn.execute(text("UPDATE incidents SET overdue_told = deadline WHERE deadline < now()"))
    _hook(
        client,
        accounts["admin1"],
        receiver.url,
        ["case.overdue", "inspection.created", "asset.status_changed"],
    )
    case = client.post("/api/incidents", json={"source": "hotline", "category": "E0101", **SPOT}).json()
    with engine.begin() as conn:
        past = "warn_at = now() - interval '2 hours', deadline = now() - interval '1 hour'"
        conn.execute(text(f"UPDATE incidents SET {past} WHERE id = :i"), {"i": case["id"]})
    got = client.post(f"/api/assets/{cover}/inspections", json={"result": "defect", "defect": "gap"},
                      headers=accounts["field1"])  # fmt: skip
    assert got.status_code == 201, got.text
    w = worker()
    w.run(once=True)
    w.run(once=True)  # announced once, not again each round
    by_type = {b["type"]: b["data"] for b in receiver.bodies()}
    assert sorted(by_type) == ["asset.status_changed", "case.overdue", "inspection.created"]
    assert len(receiver.got) == 3
    assert by_type["case.overdue"]["case"]["number"] == case["number"]
    assert by_type["inspection.created"]["inspection"]["asset_id"] == cover
    assert "field1" not in json.dumps(by_type)  # no staff names
    assert by_type["asset.status_changed"]["to"] != by_type["asset.status_changed"]["from"]
    client.post(f"/api/assets/{cover}/inspections", json={"result": "ok"}, headers=accounts["field1"])


def test_an_email_reaches_a_real_smtp_server(
    client: TestClient, accounts: dict[str, Any], worker: Any, clean_outbox: None
) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    mails: list[Any] = []

    class Keep(Message):
        def handle_message(self, message: Any) -> None:
            mails.append(message)

    from bench.server import free_port

    port = free_port()
    smtp = Controller(Keep(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        who = {"email": "resident@example.org", "notify": True}
        case = client.post(
            "/api/incidents", json={"source": "photo_report", "category": "E0101", **SPOT, "reporter": who}
        ).json()
        _move(client, case, accounts["disp1"], "registered")
        worker(smtp_host="127.0.0.1", smtp_port=port, smtp_from="wangge@shibei.example").run(once=True)
    finally:
        smtp.stop()
    assert len(mails) == 1
    mail = mails[0]
    assert mail["To"] == "resident@example.org" and mail["From"] == "wangge@shibei.example"
    body = mail.get_payload(decode=True).decode("utf-8")
    assert "已立案" in body and f"/track/{case['number']}" in body
    sent = client.get("/api/deliveries", params={"channel": "email"}, headers=accounts["admin1"]).json()[
        "deliveries"
    ]
    assert [d["state"] for d in sent] == ["sent"]


def test_a_replayed_follow_inspection_or_step_is_taken_once(
    client: TestClient, accounts: dict[str, Any]
) -> None:
    case = client.post("/api/incidents", json={"source": "photo_report", "category": "E0101", **SPOT}).json()
    key = {"Idempotency-Key": "phone-follow-0001"}
    answers = [client.post(f"/api/incidents/{case['id']}/followers", json={}, headers=key) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201] and answers[0].json() == answers[1].json()
    staff = client.get(f"/api/incidents/{case['id']}", headers=accounts["disp1"]).json()
    assert staff["repeats"] == 1 and len(staff["reporters"]) == 2  # one follow, not two
    other = client.post(f"/api/incidents/{case['id']}/followers", json={}, headers={"Idempotency-Key": "x"})
    assert other.status_code == 400 and other.json()["error"]["field"] == "Idempotency-Key"

    cover = "3702030101000819"
    who = {**accounts["field1"], "Idempotency-Key": "phone-inspection-0001"}
    before = len(client.get(f"/api/assets/{cover}/inspections", headers=accounts["field1"]).json()["results"])
    sent = [
        client.post(f"/api/assets/{cover}/inspections", json={"result": "ok", "note": "重放"}, headers=who)
        for _ in range(2)
    ]
    assert [s.status_code for s in sent] == [201, 201] and sent[0].json()["id"] == sent[1].json()["id"]
    after = len(client.get(f"/api/assets/{cover}/inspections", headers=accounts["field1"]).json()["results"])
    assert after == before + 1
    reused = client.post(f"/api/incidents/{case['id']}/urge", json={}, headers={**accounts["disp1"], **key})
    assert reused.status_code == 409  # a key is one action's: another target is a conflict

    d = {**accounts["disp1"], "Idempotency-Key": "desk-register-0001"}
    steps = [
        client.post(f"/api/incidents/{case['id']}/transitions", json={"to": "registered"}, headers=d)
        for _ in range(2)
    ]
    assert [s.status_code for s in steps] == [200, 200] and steps[1].headers["idempotent-replayed"] == "true"
    history = client.get(f"/api/incidents/{case['id']}", headers=accounts["disp1"]).json()["history"]
    assert [e["to_status"] for e in history].count("registered") == 1

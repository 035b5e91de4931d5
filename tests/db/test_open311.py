"""Open311 GeoReport v2, checked field by field against the spec (wiki.open311.org/GeoReport_v2)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from layers.accounts import users

SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
}  # fmt: skip


@pytest.fixture(scope="module")
def api_key(engine: Engine) -> str:
    with engine.begin() as conn:
        users.add(conn, "open311-client", "viewer", None)
        return users.new_api_key(conn, "open311-client", "an Open311 app")


def test_services_json_and_xml(client: TestClient) -> None:
    services = client.get("/open311/v2/services.json").json()
    assert isinstance(services, list) and services
    for service in services:
        assert set(service) == SERVICE_FIELDS
        assert service["type"] in ("realtime", "batch", "blackbox") and service["metadata"] is False
    codes = {s["service_code"] for s in services}
    assert {"C0100", "E0501"} <= codes and "E0507" not in codes  # machine-only categories are not offered
    xml = client.get("/open311/v2/services.xml")
    assert xml.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "services" and {c.tag for c in root.find("service")} == SERVICE_FIELDS
    definition = client.get("/open311/v2/services/C0100.json").json()
    assert definition == {"service_code": "C0100", "attributes": []}
    missing = client.get("/open311/v2/services/X0000.json")
    assert (
        missing.status_code == 404 and missing.json()[0]["code"] == 404 and missing.json()[0]["description"]
    )


def test_post_and_get_requests(bound_client: TestClient, api_key: str) -> None:
    form = {
        "api_key": api_key, "service_code": "E0201", "lat": "36.0935", "long": "120.3725",
        "description": "电线杆上小广告", "first_name": "明", "last_name": "欧阳", "phone": "13955556666",
        "email": "zhang@example.com", "media_url": "https://photos.example/ad.jpg",
    }  # fmt: skip
    created = bound_client.post("/open311/v2/requests.json", data=form)
    assert created.status_code == 201, created.text
    (receipt,) = created.json()
    assert set(receipt) == {"service_request_id", "service_notice", "account_id"}
    number = receipt["service_request_id"]
    one = bound_client.get(f"/open311/v2/requests/{number}.json")
    (request,) = one.json()
    assert set(request) == REQUEST_FIELDS
    assert request["status"] == "open" and request["service_code"] == "E0201"
    assert request["lat"] == pytest.approx(36.0935, abs=36 / 111_000)  # snapped to 50 m: public
    assert request["long"] == pytest.approx(120.3725, abs=36 / 90_000)
    assert request["media_url"] == form["media_url"] and request["agency_responsible"]
    assert "13955556666" not in one.text and "欧阳" not in one.text and "example.com" not in one.text
    listed = bound_client.get(
        "/open311/v2/requests.json", params={"service_code": "E0201", "status": "open"}
    ).json()
    assert number in {r["service_request_id"] for r in listed}
    closed = bound_client.get(
        "/open311/v2/requests.json", params={"service_code": "E0201", "status": "closed"}
    ).json()
    assert number not in {r["service_request_id"] for r in closed}
    by_id = bound_client.get("/open311/v2/requests.json", params={"service_request_id": number}).json()
    assert [r["service_request_id"] for r in by_id] == [number]
    xml = ET.fromstring(bound_client.get(f"/open311/v2/requests/{number}.xml").content)
    assert xml.tag == "service_requests" and xml.find("request/service_request_id").text == number


@pytest.mark.parametrize(
    ("key", "form", "status"),
    [
        (None, {"service_code": "E0201", "lat": "36.09", "long": "120.37"}, 400),
        ("wg_wrong", {"service_code": "E0201", "lat": "36.09", "long": "120.37"}, 403),
        ("valid", {"service_code": "E9999", "lat": "36.09", "long": "120.37"}, 400),
        ("valid", {"service_code": "E0201", "lat": "north", "long": "120.37"}, 400),
        ("valid", {"service_code": "E0201"}, 400),  # no location
    ],
)
def test_malformed_requests_get_the_spec_error_list(
    client: TestClient, api_key: str, key: str | None, form: dict[str, str], status: int
) -> None:
    body = form if key is None else {"api_key": api_key if key == "valid" else key, **form}
    got = client.post("/open311/v2/requests.json", data=body)
    assert got.status_code == status, got.text
    (error,) = got.json()
    assert set(error) == {"code", "description"} and error["code"] == status and error["description"]
    xml = client.post("/open311/v2/requests.xml", data=body)
    assert xml.status_code == status and ET.fromstring(xml.content).find("error/code").text == str(status)

"""Open311 GeoReport v2 answers (JSON; the same fields as XML elements)."""

from __future__ import annotations

from api.schemas.common import Answer


class Service(Answer):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class Attribute(Answer):
    code: str


class ServiceDefinition(Answer):
    service_code: str
    attributes: list[Attribute]


class ServiceRequest(Answer):
    """A case as the public sees it through Open311 (snapped, no names)."""

    service_request_id: str
    status: str
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None
    service_notice: str
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str
    address: str
    address_id: str
    zipcode: str
    lat: float | None
    long: float | None
    media_url: str


class RequestUpdate(Answer):
    update_id: str
    service_request_id: str
    status: str
    updated_datetime: str
    description: str
    media_url: str


class Created(Answer):
    service_request_id: str
    service_notice: str
    account_id: str | None

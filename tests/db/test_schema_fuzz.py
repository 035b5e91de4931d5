"""Schemathesis over /openapi.json with every check it has (``--checks all``): every operation,
valid and invalid generated inputs, anonymous and signed in as an admin (reads), no 5xx, status
codes, content types, headers and bodies as declared, invalid input refused, valid accepted."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, Failure, load_all_checks
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import Engine

from layers.accounts import users
from tests.conftest import PASSWORD

EXAMPLES = 3  # per operation and mode in `make test`; `make test-slow` runs DEEP
DEEP = 10
# Every operation is fuzzed either way; the deep run tries more inputs of each.
DEPTHS = [EXAMPLES, pytest.param(DEEP, marks=pytest.mark.slow, id="deep")]
load_all_checks()  # registers the OpenAPI checks, so that the list is all of them
ALL_CHECKS = CHECKS.get_all()

# Rules a JSON Schema cannot state, by operation and the field a refusal names: a schema-valid
# request that breaks one is rightly refused (400/422 naming that field); any other refusal of
# a schema-valid request fails the positive-data check.
STATED_ELSEWHERE = {
    "GET /collections/{collectionId}/items": {"bbox": "min ≤ max, lon within ±180 and lat ±90"},
    "GET /api/locate": {"lon": "the domain of the CRS named in crs", "lat": "", "coordinates": ""},
    "GET /api/reverse": {"lon": "the domain of the CRS named in crs", "lat": "", "coordinates": ""},
    "GET /api/assets/nearest": {"lon": "the domain of the CRS named in crs", "lat": "", "coordinates": ""},
    "GET /api/incidents": {"bbox": "min ≤ max, lon within ±180 and lat ±90"},
    "GET /api/incidents/counts": {"bbox": "min ≤ max, lon within ±180 and lat ±90"},
    "GET /api/incidents/clusters": {"bbox": "min ≤ max, lon within ±180 and lat ±90"},
    "POST /api/incidents/exports": {"bbox": "min ≤ max, lon within ±180 and lat ±90"},
    "POST /open311/v2/requests.{fmt}": {
        "api_key": "required to create (GeoReport v2 answers 400)",
        "idempotency-key": "printable ASCII as it travels in a header",
    },
    "GET /open311/v2/requests.{fmt}": {
        "start_date": "a real date and time",
        "end_date": "",
        "lat": "with long",
        "long": "with lat",
    },
    "GET /open311/v2/servicerequestupdates.{fmt}": {"start_date": "a real date and time", "end_date": ""},
    "POST /api/photos": {"photo": "an image Pillow decodes (bytes no schema describes)"},
    "GET /api/incidents/similar": {"category": "one of the catalogue", "lon": "the CRS's domain", "lat": ""},
    "POST /api/token": {
        "grant_type": "password (a trailing newline that $ lets through is not)",
        "username": "not empty (FastAPI reads an empty form field as none)",
        "password": "",
    },
    "POST /api/locate/batch": {"body": "a JSON or CSV body of points (the body is streamed, not a model)"},
    "POST /api/incidents": {
        None: "a camera's report names its camera_id; an address or a point",
        "category": "one of the catalogue (which admins edit)",
        "idempotency-key": "printable ASCII as it travels in a header",
        "photos": "images Pillow decodes, or photos uploaded before",
    },
    "GET /api/stats/kpi": {"month": "not in the future", "area": "one that exists"},
    "GET /api/analytics/hotspots": {
        "category": "one that exists",
        "area": "",
        "since": "not after until",
        "until": "room for the days before it",
    },
    "GET /api/analytics/repeats": {"category": "a category that exists"},
    "GET /api/analytics/trends": {
        "area": "one that exists",
        "month": "with cases, not ahead",
        "category": "",
    },
    "GET /api/analytics/coverage": {"ev": "only with layer=parking"},
    "GET /api/analytics/coverage/uncovered": {"ev": "only with layer=parking"},
    "GET /api/reports/{month}": {"month": "a month from year 1 on, not ahead"},
    "GET /api/enterprises": {
        "industry": "a code of GB/T 4754-2017",
        "label": "one of the 2+6 chains",
        "capital_min": "not above capital_max",
        "founded_from": "not after founded_to",
        "f": "an export of at most 200,000 firms",
    },
    "GET /api/enterprises/digest": {"date": "a day that is over (its push is made the morning after)"},
}


def _refused_field(response: Any) -> str | None:
    """The field a refusal names: ours in ``error.field``; GeoReport's as the first word of its
    description (JSON or XML)."""
    try:
        body = response.json()
    except ValueError:
        found = re.search(r"<description>([\w-]+)", response.text)
        return found.group(1) if found else None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        field = body["error"].get("field")
        return re.sub(r"\[\d+\]$", "", field) if field else field  # photos[1] → photos
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("description", "")).split(" ")[0].rstrip(":") or None
    return None


def accepted_unless_stated_elsewhere(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, except for a refusal naming a rule of ``STATED_ELSEWHERE``."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except Failure:
        allowed = STATED_ELSEWHERE.get(case.operation.label, {})
        if response.status_code in (400, 422) and _refused_field(response) in allowed:
            return None
        raise


CHECKS_RUN = [c for c in ALL_CHECKS if c is not positive_data_acceptance] + [accepted_unless_stated_elsewhere]


def _fuzz(
    client: TestClient, mode: GenerationMode, headers: dict[str, str], reads_only: bool, examples: int
) -> list[str]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: list[str] = []
    operations = 0
    for loaded in schema.get_all_operations():
        operation = loaded.ok()
        if reads_only and operation.method.upper() != "GET":
            continue
        operations += 1

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=examples, deadline=None, derandomize=True, database=None,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        def run(case: Any) -> None:
            case.call_and_validate(checks=CHECKS_RUN, headers=headers)

        try:
            run()
        except Unsatisfiable:  # negative mode: an operation without parameters has nothing to break
            assert mode is GenerationMode.NEGATIVE
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failure, reported together
            failures.append(f"{operation.label}: {str(exc).strip()[:1500]}")
    assert operations >= (30 if reads_only else 40)
    return failures


@pytest.mark.parametrize("examples", DEPTHS)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_every_check_holds_for_anonymous_callers(
    client: TestClient, mode: GenerationMode, examples: int
) -> None:
    assert len(ALL_CHECKS) >= 14
    failures = _fuzz(client, mode, {}, reads_only=False, examples=examples)
    assert failures == [], "\n\n".join(failures)


@pytest.mark.parametrize("examples", DEPTHS)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_every_check_holds_for_an_admins_reads(
    client: TestClient, engine: Engine, mode: GenerationMode, examples: int
) -> None:
    """Signed in, the reads run their handlers for real (writes are fuzzed anonymously only: they
    would change the session's database under the other tests)."""
    name = f"fuzz-admin-{mode.value}-{examples}"
    with engine.begin() as conn:
        users.add(conn, name, "admin", PASSWORD)
    token = client.post("/api/token", data={"username": name, "password": PASSWORD}).json()["access_token"]
    failures = _fuzz(client, mode, {"Authorization": f"Bearer {token}"}, reads_only=True, examples=examples)
    assert failures == [], "\n\n".join(failures)

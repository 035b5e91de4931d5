"""Schemathesis over /openapi.json: every operation, generated inputs, no 5xx, answers as declared."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES = 25


def test_no_server_errors_and_answers_match_the_schema(client: TestClient) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: list[str] = []
    operations = 0
    for loaded in schema.get_all_operations():
        operation = loaded.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        def run(case: Any) -> None:
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failure, reported together
            failures.append(f"{operation.label}: {str(exc).strip()[:1500]}")
    assert operations >= 40
    assert failures == []

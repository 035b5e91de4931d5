"""Every JSON success answer has a schema in /openapi.json (no database needed to build it)."""

from __future__ import annotations

from typing import Any

from api.app import create_app
from api.settings import Settings


def _typed(schema: dict[str, Any]) -> bool:
    if "$ref" in schema:
        return True
    if schema.get("type") == "array":
        return _typed(schema.get("items", {}))
    return any(_typed(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def test_every_2xx_json_answer_is_typed() -> None:
    spec = create_app(Settings()).openapi()
    typed, untyped = [], []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                body = response.get("content", {}).get("application/json")
                if not status.startswith("2") or body is None:
                    continue
                (typed if _typed(body.get("schema", {})) else untyped).append(f"{method.upper()} {path}")
    assert untyped == []
    assert len(typed) >= 45


def test_the_security_schemes_are_declared() -> None:
    schemes = create_app(Settings()).openapi()["components"]["securitySchemes"]
    assert {"HTTPBearer", "APIKeyHeader", "APIKeyQuery"} <= set(schemes)

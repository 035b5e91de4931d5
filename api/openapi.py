"""The OpenAPI document as the routes behave: where signing in is optional it says so, and it
names every media type an answer comes in.

FastAPI lists the bearer and API-key schemes on every operation that reads the caller, but
most of those also answer the public (with less: snapped points, no names). OpenAPI writes
"optional" as an empty security requirement, ``{}``, beside the schemes; operations that
need a role (``api.deps.require``) keep theirs as required.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from api.deps import REQUIRES_SIGN_IN


def _needs_sign_in(dependant: Dependant) -> bool:
    return any(getattr(d.call, REQUIRES_SIGN_IN, False) or _needs_sign_in(d) for d in dependant.dependencies)


def _media_types(schema: dict[str, Any]) -> None:
    """Errors are JSON on every route (FastAPI files them under an HTML or PDF route's own type),
    and GeoReport answers come as XML too (``.xml``)."""
    for path, item in schema["paths"].items():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content")
                if not content:
                    continue
                if status[0] in "45" and "application/json" not in content:
                    content["application/json"] = next(iter(content.values()))
                if path.startswith("/open311/"):
                    content.setdefault("text/xml", {})


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` with the document that marks optional sign-in."""

    build = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()  # FastAPI's own, kept in app.openapi_schema and marked here once
            for route in iter_route_contexts(app.routes):
                if not isinstance(route.original_route, APIRoute) or _needs_sign_in(route.dependant):
                    continue
                for method in route.methods or ():
                    operation = schema["paths"].get(route.path_format, {}).get(method.lower())
                    if operation and operation.get("security") and {} not in operation["security"]:
                        operation["security"].append({})
            _media_types(schema)
        return app.openapi_schema or build()

    app.openapi = document  # type: ignore[method-assign]

"""Links in answers: the base URL, OGC API link objects, the landing page."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from api.deps import get_settings


def base_url(request: Request) -> str:
    """The URL links in answers start with: ``WANGGE_BASE_URL`` (default the address served
    on), never the request's ``Host`` header — a forged one must not put links to another
    site into answers that clients follow and caches keep."""
    return get_settings(request).public_base_url


def link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    """An OGC API link object."""
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def landing(request: Request) -> dict[str, Any]:
    """The OGC API landing page (also answered at ``/`` for API clients)."""
    base = base_url(request)
    return {
        "title": "wangge",
        "description": "Grid-based urban governance: the district's grid layers, assets and cases.",
        "links": [
            link(f"{base}/?f=json", "self", "application/json", "this document"),
            link(
                f"{base}/openapi.json",
                "service-desc",
                "application/vnd.oai.openapi+json;version=3.0",
                "the API definition",
            ),
            link(f"{base}/docs", "service-doc", "text/html", "the API documentation"),
            link(f"{base}/conformance", "conformance", "application/json", "conformance classes"),
            link(f"{base}/collections", "data", "application/json", "the collections"),
        ],
    }

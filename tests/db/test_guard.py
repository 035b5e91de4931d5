"""Limits and headers every request passes through: body size, rate limits, security headers, CORS."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

ASSET = "3702030102000123"


def test_security_headers(client: TestClient) -> None:
    html = client.get(f"/a/{ASSET}")
    assert html.headers["x-content-type-options"] == "nosniff" and html.headers["x-frame-options"] == "DENY"
    csp = html.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    api = client.get("/api/categories")
    assert api.headers["x-content-type-options"] == "nosniff" and "content-security-policy" not in api.headers
    broken = client.get("/api/incidents/not-a-number")
    assert broken.status_code == 422 and "Traceback" not in broken.text


def test_body_limit_with_and_without_content_length(test_settings: Settings, demo: int) -> None:
    with TestClient(create_app(test_settings.model_copy(update={"max_body_mb": 1}))) as small:
        declared = small.post(
            "/api/incidents", content=b"x" * (2 * 1024 * 1024), headers={"content-type": "application/json"}
        )
        assert declared.status_code == 413 and declared.json()["error"]["code"] == "too_large"

        def chunks() -> Iterator[bytes]:
            for _ in range(40):
                yield b" " * 65536

        streamed = small.post(
            "/api/incidents", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413 and "limit" in streamed.json()["error"]["message"]


def test_rate_limit_per_caller(test_settings: Settings, demo: int) -> None:
    with TestClient(create_app(test_settings.model_copy(update={"rate_limit_per_min": 5}))) as limited:
        answers = [limited.get("/api/categories").status_code for _ in range(6)]
        assert answers[:5] == [200] * 5 and answers[5] == 429
        refused = limited.get("/api/categories")
        assert int(refused.headers["retry-after"]) >= 1 and refused.json()["error"]["code"] == "rate_limited"
        assert limited.get("/healthz").status_code == 200  # probes are never limited
        other = limited.get("/api/categories", headers={"X-API-Key": "wg_someone_else"})
        assert other.status_code == 429  # a credential nobody checked buys no new budget (issue 16, item 6)


def test_cors_only_for_configured_origins(test_settings: Settings, client: TestClient, demo: int) -> None:
    preflight = {"Origin": "https://map.example.gov.cn", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/api/incidents", headers=preflight).headers
    allowed = test_settings.model_copy(update={"cors_origins": ["https://map.example.gov.cn"]})
    with TestClient(create_app(allowed)) as app:
        got = app.options("/api/incidents", headers=preflight)
        assert got.headers["access-control-allow-origin"] == "https://map.example.gov.cn"

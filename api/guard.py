"""What every request passes through: a body-size limit, rate limits, security headers, CORS.

Pure ASGI middleware (no per-request task overhead). The rate limit is a token bucket
per client address — a credential the request carries is not checked here, so a random
key per request buys no new budget — shared by every worker process of the machine
(``api.ratelimit``); heavy operations charge more (``api.deps.charge``). Probes, static files
and the vendored assets are not limited.
"""

from __future__ import annotations

import math
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from api.ratelimit import SharedBuckets, caller_of
from api.settings import Settings

UNLIMITED = ("/healthz", "/readyz", "/static/", "/vendor/", "/favicon")
TILE_COST = 0.1  # one map view asks for dozens of (mostly cached) tiles at once
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https://*.tianditu.gov.cn https://*.tile.openstreetmap.org "
    "https://*.is.autonavi.com; "
    "connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
]


class Guard:
    """Body limit → rate limit → the app, adding security headers to what comes back."""

    def __init__(self, app: ASGIApp, settings: Settings, buckets: SharedBuckets | None):
        self.app = app
        self.limit = settings.max_body_mb * 1024 * 1024
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            message = f"the body is {int(declared):,} bytes; the limit is {self.limit:,}"
            await error_response(413, "too_large", message, "body")(scope, receive, send)
            return
        if self.buckets is not None and not path.startswith(UNLIMITED):
            cost = TILE_COST if path.startswith("/tiles/") else 1.0
            wait = self.buckets.take(caller_of(scope), time.monotonic(), cost)
            if wait > 0:
                retry = {"Retry-After": str(max(1, math.ceil(wait)))}
                answer = error_response(429, "rate_limited", "too many requests; slow down", headers=retry)
                await answer(scope, receive, send)
                return
        if not declared and scope["method"] in ("POST", "PUT", "PATCH"):
            buffered = await self._buffered(receive)  # a chunked body: read it whole, within the limit
            if buffered is None:
                message = f"the body exceeds the limit of {self.limit:,} bytes"
                await error_response(413, "too_large", message, "body")(scope, receive, send)
                return
            receive = buffered

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(HEADERS)
                content_type = dict(message.get("headers") or []).get(b"content-type", b"")
                if content_type.startswith(b"text/html"):
                    extra.append((b"content-security-policy", CSP.encode()))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, secured_send)

    async def _buffered(self, receive: Receive) -> Receive | None:
        """The body's messages replayed (None when it is over the limit)."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.limit:
                return None
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        return replay

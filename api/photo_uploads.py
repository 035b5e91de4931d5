"""Photos sent with a report, a transition or an inspection, as ``multipart/form-data``.

Phones send a form: the JSON of the request in the part ``data`` and the photos as files
in ``photos``. ``InlinePhotos`` turns such a request on the routes that take photos into
the JSON request the route already declares, each file becoming a ``data:`` URL in the
photo field; the route then stores every ``data:`` photo (``store_inline``) before it acts,
in the same way ``POST /api/photos`` does. So one request model and one validation serve
JSON clients, forms and the offline queue of the field phone alike. The body limit of
the guard applies before any of this.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import get_settings
from api.errors import error_response
from geo.errors import InvalidInput
from layers.accounts.actors import Actor
from layers.photos import records
from layers.photos.images import Limits
from layers.photos.store import FileStore

# route → the field the files go to (a list, or one photo)
ROUTES = (
    (re.compile(r"^/api/incidents$"), "photos", True),
    (re.compile(r"^/api/incidents/\d+/transitions$"), "photos", True),
    (re.compile(r"^/api/assets/[^/]+/inspections$"), "photo_url", False),
)
DATA_URL = re.compile(r"^data:(image/[a-z0-9.+-]{1,30});base64,")


def limits_of(request: Request) -> Limits:
    s = get_settings(request)
    return Limits(int(s.photo_max_mb * 1e6), s.photo_max_pixels, s.photo_display_px, s.photo_thumb_px)


def photo_store(request: Request) -> FileStore:
    return FileStore(get_settings(request).photo_root)


def _data_url(upload: UploadFile, data: bytes) -> str:
    kind = upload.content_type if (upload.content_type or "").startswith("image/") else "image/jpeg"
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


async def _as_json(scope: Scope, receive: Receive, field: str, many: bool) -> bytes:
    """The form's ``data`` part with its files added to ``field``; InvalidInput names what is wrong."""
    try:
        form = await StarletteRequest(scope, receive).form(max_files=9, max_fields=20)
    except (HTTPException, MultiPartException) as exc:  # e.g. more than 9 files: the case's limit
        detail = getattr(exc, "detail", None) or getattr(exc, "message", "")
        raise InvalidInput(f"the form cannot be read: {detail}", field="photos") from None
    try:
        raw = form.get("data")
        body: Any = json.loads(raw if isinstance(raw, str) else "{}")
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"the form part 'data' is not JSON: {exc.msg}", field="data") from None
    if not isinstance(body, dict):
        raise InvalidInput("the form part 'data' is a JSON object", field="data")
    files = [f for f in form.getlist("photos") if isinstance(f, UploadFile)]
    urls = [_data_url(f, await f.read()) for f in files]
    await form.close()
    if many:
        body[field] = [*body.get(field, []), *urls]
    elif urls:
        if len(urls) > 1 or body.get(field):
            raise InvalidInput(f"this request takes one photo ({field})", field=field)
        body[field] = urls[0]
    return json.dumps(body).encode()


class InlinePhotos:
    """``multipart/form-data`` → JSON on the routes that take photos (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        ):
            await self.app(scope, receive, send)
            return
        route = next(((f, m) for pattern, f, m in ROUTES if pattern.match(scope["path"])), None)
        if route is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await _as_json(scope, receive, *route)
        except InvalidInput as exc:
            await error_response(400, exc.code, exc.message, exc.field)(scope, receive, send)
            return
        kept = [(k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")]
        kept += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app({**scope, "headers": kept}, replay, send)


def _decode(ref: str, name: str) -> bytes:
    try:
        return base64.b64decode(ref[ref.index(",") + 1 :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{name} is not valid base64", field=name) from None


def store_inline(
    conn: Any, request: Request, refs: Sequence[str], actor: Actor, field: str = "photos"
) -> tuple[list[str], list[str]]:
    """``refs`` with every ``data:`` photo stored and replaced by its URL (in the caller's
    transaction); answers (refs, warnings about the photos)."""
    limits, store = limits_of(request), photo_store(request)
    kept, warnings = [], []
    for i, ref in enumerate(refs):
        if not DATA_URL.match(ref):
            kept.append(ref)
            continue
        name = f"{field}[{i}]" if field == "photos" else field
        stored = records.save(conn, store, _decode(ref, name), limits, actor, name)
        kept.append(stored.url)
        warnings += [f"{name}: {w}" for w in stored.warnings]
    return kept, warnings

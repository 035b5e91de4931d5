"""Who is calling: bearer tokens (OAuth2 password flow, JWT) and API keys → an ``Actor``.

A token carries the user's name, role, unit and token version and lives
``WANGGE_TOKEN_MINUTES``; every request re-checks the user (disabled? revoked?) with one
indexed query, so revocation takes effect at once. API keys (``wg_…``) come as
``Authorization: Bearer``, ``X-API-Key`` or — for Open311 clients, as the spec says —
an ``api_key`` parameter. No credentials = the public.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from api.settings import Settings
from geo.errors import Forbidden, Unauthorized
from layers import users
from layers.actors import PUBLIC, Actor

ALGORITHM = "HS256"


def secret_key(settings: Settings) -> str:
    """The signing key: the setting, else ``var/secret`` (created once, readable by us only)."""
    if settings.secret_key:
        return settings.secret_key
    path: Path = settings.var_dir / "secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x", encoding="ascii", opener=lambda p, f: os.open(p, f, 0o600)) as out:
                out.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass  # another worker wrote it first
    return path.read_text(encoding="ascii").strip()


def issue(user: users.User, settings: Settings, key: str) -> dict[str, object]:
    """An OAuth2 token response for ``user``."""
    now = int(time.time())
    claims = {
        "sub": user.name,
        "role": user.role,
        "unit": user.unit,
        "ver": user.token_version,
        "iat": now,
        "exp": now + settings.token_minutes * 60,
        "jti": secrets.token_hex(8),
    }
    return {
        "access_token": jwt.encode(claims, key, algorithm=ALGORITHM),
        "token_type": "bearer",
        "expires_in": settings.token_minutes * 60,
        "role": user.role,
        "user": user.name,
    }


def _credential(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use Authorization: Bearer <token or API key>")
        return value.strip()
    return request.headers.get("x-api-key") or request.query_params.get("api_key")


def get_actor(request: Request) -> Actor:
    """The caller as an ``Actor`` (the public when no credentials are given)."""
    credential = _credential(request)
    if credential is None:
        return PUBLIC
    with request.app.state.engine.connect() as conn:
        if credential.startswith("wg_"):
            user = users.by_api_key(conn, credential)
        else:
            try:
                claims = jwt.decode(credential, request.app.state.secret, algorithms=[ALGORITHM])
            except jwt.ExpiredSignatureError:
                raise Unauthorized("the token has expired; sign in again") from None
            except jwt.PyJWTError:
                raise Unauthorized("the token is not valid") from None
            user = users.current(conn, str(claims.get("sub")), int(claims.get("ver", -1)))
    return Actor(user.name, user.role, user.unit)


ActorDep = Annotated[Actor, Depends(get_actor)]


async def require_reader(request: Request) -> None:
    """Reads are public unless ``WANGGE_PUBLIC_READS=false``; then they need a signed-in staff role.

    Async and free when reads are public: the hot read paths (locate) pay nothing for it."""
    if request.app.state.settings.public_reads:
        return
    actor = await run_in_threadpool(get_actor, request)
    if actor is PUBLIC:
        raise Unauthorized("sign in to read: this platform's data is not public (WANGGE_PUBLIC_READS=false)")


READERS = [Depends(require_reader)]


def require(*roles: str) -> Any:
    """A dependency that lets only ``roles`` through (401 for the public, 403 for others)."""

    def check(actor: ActorDep) -> Actor:
        if actor is PUBLIC:
            raise Unauthorized(f"sign in as {' or '.join(roles)}")
        if actor.role not in roles:
            raise Forbidden(f"a {actor.role} may not do this; it needs {' or '.join(roles)}")
        return actor

    return Depends(check)


StaffDep = Annotated[Actor, require("admin", "dispatcher", "planner", "field", "viewer")]
HandlerDep = Annotated[Actor, require("admin", "dispatcher", "field")]
DispatcherDep = Annotated[Actor, require("admin", "dispatcher")]
AdminDep = Annotated[Actor, require("admin")]

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

import jwt
from sqlalchemy import Connection

from api.settings import Settings
from geo.errors import Unauthorized
from layers.accounts import users
from layers.accounts.actors import Actor

ALGORITHM = "HS256"
SESSION_COOKIE = "wangge_session"  # a browser session (layers.accounts.sessions)
CSRF_HEADER = "X-CSRF-Token"


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


def actor_for(conn: Connection, credential: str, secret: str) -> Actor:
    """The user behind ``credential`` (an API key ``wg_…`` or a signed token), checked now."""
    if credential.startswith("wg_"):
        user = users.by_api_key(conn, credential)
    else:
        try:
            claims = jwt.decode(credential, secret, algorithms=[ALGORITHM])
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired; sign in again") from None
        except jwt.PyJWTError:
            raise Unauthorized("the token is not valid") from None
        user = users.current(conn, str(claims.get("sub")), int(claims.get("ver", -1)))
    return Actor(user.name, user.role, user.unit)

"""Browser sessions: a random cookie (stored as its SHA-256 digest), a CSRF token, sliding expiry.

A session lasts ``idle_hours`` after its last use (a shift with its pauses) and never more
than ``max_hours`` after sign-in; its use is written at most once a minute. It carries the
user's token version, so signing out everywhere (``users.revoke_tokens``) and disabling a
user end sessions too. The CSRF token is a synchronizer token: pages send it back in the
``X-CSRF-Token`` header of every write.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, delete, func, insert, select, update

from geo.errors import Unauthorized
from layers.accounts.actors import Actor
from layers.accounts.users import User
from layers.db.models import SESSIONS, USERS

EXPIRED = "session_expired"


@dataclass(frozen=True)
class Session:
    actor: Actor
    csrf: str
    expires_at: str

    def as_json(self) -> dict[str, object]:
        """What a page knows of its session (``GET /api/session``; pages carry it too)."""
        return {
            "signed_in": True, "user": self.actor.name, "role": self.actor.role, "unit": self.actor.unit,
            "csrf_token": self.csrf, "expires_at": self.expires_at,
        }  # fmt: skip


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(conn: Connection, user: User, idle_hours: float) -> tuple[str, str]:
    """A new session for ``user``: (the cookie's token, the CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    conn.execute(
        insert(SESSIONS).values(
            digest=_digest(token), user_name=user.name, csrf=csrf, token_version=user.token_version,
            expires_at=func.now() + timedelta(hours=idle_hours),
        )
    )  # fmt: skip
    conn.execute(delete(SESSIONS).where(SESSIONS.c.expires_at < func.now() - timedelta(days=1)))
    return token, csrf


def current(conn: Connection, token: str, idle_hours: float, max_hours: float) -> Session:
    """The live session of a cookie, its expiry slid forward; 401 ``session_expired`` otherwise."""
    s, u = SESSIONS.c, USERS.c
    row = conn.execute(
        select(s.digest, s.csrf, s.expires_at, s.last_seen, u.name, u.role, u.unit)
        .add_columns((s.last_seen < func.now() - timedelta(minutes=1)).label("stale"))
        .join_from(SESSIONS, USERS, u.name == s.user_name)
        .where(s.digest == _digest(token), s.expires_at > func.now(), ~u.disabled)
        .where(s.token_version == u.token_version, s.created_at > func.now() - timedelta(hours=max_hours))
    ).first()
    if row is None:
        raise Unauthorized("your session has ended; sign in again", code=EXPIRED)
    expires = row.expires_at
    if row.stale:
        expires = conn.execute(
            update(SESSIONS)
            .where(s.digest == row.digest)
            .values(last_seen=func.now(), expires_at=func.now() + timedelta(hours=idle_hours))
            .returning(s.expires_at)
        ).scalar_one()
    return Session(Actor(row.name, row.role, row.unit), row.csrf, expires.isoformat())


def csrf_matches(session: Session, sent: str | None) -> bool:
    """Whether a write carries the session's CSRF token (compared in constant time)."""
    return sent is not None and hmac.compare_digest(session.csrf.encode(), sent.encode())


def close(conn: Connection, token: str) -> None:
    """Sign out: the session ends now."""
    conn.execute(delete(SESSIONS).where(SESSIONS.c.digest == _digest(token)))

"""Accounts: users (argon2-hashed passwords, one role, an optional unit) and API keys.

Passwords go through argon2-cffi's defaults (RFC 9106 low-memory profile); API keys are
random 256-bit strings, stored as SHA-256 digests. A user's ``token_version`` is part of
every token issued; bumping it revokes them all (disable does so too).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from geo.errors import Conflict, InvalidInput, NotFound, Unauthorized
from layers.db.models import API_KEYS, USERS
from layers.db.vocabulary import ROLES

_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("timing equaliser")  # verify against it for unknown users


@dataclass(frozen=True)
class User:
    name: str
    role: str
    unit: str | None
    token_version: int


def add(conn: Connection, name: str, role: str, password: str | None, unit: str | None = None) -> User:
    """Create a user; machine accounts may have no password (they use API keys)."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; roles: {', '.join(ROLES)}", field="role")
    if password is not None and len(password) < 10:
        raise InvalidInput("a password has at least 10 characters", field="password")
    digest = _HASHER.hash(password) if password is not None else None
    try:
        with conn.begin_nested():
            conn.execute(insert(USERS).values(name=name, role=role, unit=unit, password_hash=digest))
    except IntegrityError as exc:
        if "ck_users_name" in str(exc.orig):
            raise InvalidInput(f"user name {name!r}: 2–64 of A–Z a–z 0–9 _ . @ -", field="name") from None
        raise Conflict(f"user {name} exists", field="name") from None
    return User(name, role, unit, 0)


def listing(conn: Connection) -> list[dict[str, Any]]:
    """Every user with the number of live API keys."""
    keys = (
        select(func.count())
        .where(API_KEYS.c.user_name == USERS.c.name, API_KEYS.c.revoked_at.is_(None))
        .scalar_subquery()
    )
    u = USERS.c
    query = select(u.name, u.role, u.unit, u.disabled, u.created_at, keys.label("keys")).order_by(u.name)
    return [dict(r) for r in conn.execute(query).mappings()]


def disable(conn: Connection, name: str) -> None:
    """Disable a user: no sign-in, every token and API key stops working."""
    done = conn.execute(
        update(USERS)
        .where(USERS.c.name == name)
        .values(disabled=True, token_version=USERS.c.token_version + 1)
    )
    if done.rowcount == 0:
        raise NotFound(f"no user {name}", field="name")
    live = API_KEYS.c
    conn.execute(
        update(API_KEYS)
        .where(live.user_name == name, live.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


def revoke_tokens(conn: Connection, name: str) -> None:
    """Sign out everywhere: tokens issued so far stop working."""
    conn.execute(update(USERS).where(USERS.c.name == name).values(token_version=USERS.c.token_version + 1))


def authenticate(conn: Connection, name: str, password: str) -> User:
    """The user for a name and password (the same error, and about the same time, for any failure)."""
    u = USERS.c
    row = conn.execute(
        select(u.name, u.role, u.unit, u.password_hash, u.disabled, u.token_version).where(u.name == name)
    ).first()
    try:
        _HASHER.verify(row.password_hash if row is not None and row.password_hash else _DUMMY, password)
        ok = row is not None and row.password_hash is not None and not row.disabled
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None:
        raise Unauthorized("wrong user name or password")
    return User(row.name, row.role, row.unit, row.token_version)


def current(conn: Connection, name: str, version: int) -> User:
    """The user a token names, if it is still valid (not disabled, not revoked)."""
    u = USERS.c
    row = conn.execute(
        select(u.name, u.role, u.unit, u.disabled, u.token_version).where(u.name == name)
    ).first()
    if row is None or row.disabled or row.token_version != version:
        raise Unauthorized("the token was revoked or its user disabled; sign in again")
    return User(row.name, row.role, row.unit, row.token_version)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key(conn: Connection, name: str, label: str = "") -> str:
    """A new API key for user ``name``; the key itself is shown once and never stored."""
    if conn.execute(select(USERS.c.name).where(USERS.c.name == name, ~USERS.c.disabled)).first() is None:
        raise NotFound(f"no active user {name}", field="name")
    key = "wg_" + secrets.token_urlsafe(32)
    conn.execute(insert(API_KEYS).values(user_name=name, prefix=key[:10], digest=_digest(key), label=label))
    return key


def by_api_key(conn: Connection, key: str) -> User:
    """The user an API key belongs to (revoked keys and disabled users refused)."""
    u, k = USERS.c, API_KEYS.c
    row = conn.execute(
        select(u.name, u.role, u.unit, u.token_version)
        .join_from(API_KEYS, USERS, u.name == k.user_name)
        .where(k.digest == _digest(key), k.revoked_at.is_(None), ~u.disabled)
    ).first()
    if row is None:
        raise Unauthorized("unknown or revoked API key")
    return User(row.name, row.role, row.unit, row.token_version)

"""Sign-in and the audit log."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.schemas.common import Answer, Timestamp


class Token(Answer):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str
    expires_in: int
    role: str
    user: str


class AuditEntry(Answer):
    at: Timestamp
    actor: str
    role: str
    action: str
    target: str
    detail: dict[str, Any]


class AuditLog(Answer):
    entries: list[AuditEntry]


class Imported(Answer):
    """What a layer upload wrote (grid layers: the draft generation it went into)."""

    collection: str
    count: int
    crs: str
    generation: int | None = None
    notes: list[str] | None = None
    status: str | None = None
    added: int | None = Field(None, description="Assets: how many were new.")
    updated: int | None = Field(None, description="Assets: how many existing ones were updated by ID.")


class SessionInfo(Answer):
    """A browser session: who is signed in, the CSRF token writes carry, when it ends if unused;
    without one, ``signed_in`` is false and ``ended`` says whether a session has just ended."""

    signed_in: bool
    ended: bool = False
    user: str | None = None
    role: str | None = None
    unit: str | None = None
    csrf_token: str | None = None
    expires_at: str | None = None

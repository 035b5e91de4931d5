"""Webhook endpoints: registered by admins per event kind, with a secret to verify calls by.

A URL must be http(s) and must not be the platform itself (its own host and port, as
served or as its public URL): a webhook to itself would loop. Loopback and private
addresses on other ports are allowed — the district's other systems live there.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, func, insert, select, update

from geo.errors import InvalidInput, NotFound
from layers.accounts.actors import Actor
from layers.db.models import DELIVERIES, WEBHOOKS

W, D = WEBHOOKS.c, DELIVERIES.c
EventKind = Literal[
    "case.created", "case.status_changed", "case.overdue", "asset.status_changed", "inspection.created"
]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "[::1]"}


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=500, description="Where events are POSTed (http or https).")
    events: list[EventKind] = Field(min_length=1, max_length=5)


class WebhookChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventKind] | None = Field(default=None, min_length=1, max_length=5)
    active: bool | None = None
    resume: bool = Field(default=False, description="Resume a paused endpoint (its waiting events go out).")


def _origin(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return ("127.0.0.1" if host in LOOPBACK else host), port


def check_url(url: str, own: list[str]) -> str:
    """``url`` if it may be a webhook; a 400 naming ``url`` otherwise (``own``: the platform's URLs).

    >>> check_url("http://127.0.0.1:9000/hook", ["http://127.0.0.1:8000"])
    'http://127.0.0.1:9000/hook'
    >>> check_url("http://localhost:8000/api/x", ["http://127.0.0.1:8000"])
    Traceback (most recent call last):
    geo.errors.InvalidInput: the webhook URL points at this platform itself (localhost:8000)
    >>> check_url("ftp://example.org/", [])
    Traceback (most recent call last):
    geo.errors.InvalidInput: a webhook URL is http:// or https://, not ftp://example.org/
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"a webhook URL is http:// or https://, not {url}", field="url")
    try:
        origin = _origin(url)
    except ValueError:
        raise InvalidInput(f"the webhook URL has no valid port: {url}", field="url") from None
    if any(origin == _origin(mine) for mine in own):
        raise InvalidInput(f"the webhook URL points at this platform itself ({parts.netloc})", field="url")
    return url


def _view(row: Any) -> dict[str, Any]:
    return {k: v for k, v in row._mapping.items() if k != "secret"}


def _columns() -> list[Any]:
    waiting = (
        select(func.count())
        .where(D.webhook_id == W.id, D.state.in_(("pending", "sending")))
        .scalar_subquery()
    )
    last = (
        select(
            func.concat(D.state, " ", func.coalesce(D.last_status, 0), " ", func.coalesce(D.last_error, ""))
        )
        .where(D.webhook_id == W.id, D.state.in_(("sent", "failed", "pending")), D.attempts > 0)
        .order_by(func.coalesce(D.sent_at, D.next_at).desc())
        .limit(1)
        .scalar_subquery()
    )
    return [W.id, W.url, W.events, W.secret, W.active, W.failures, W.paused_at, W.created_by, W.created_at,
            waiting.label("waiting"), last.label("last_delivery")]  # fmt: skip


def create(conn: Connection, hook: WebhookIn, actor: Actor, own: list[str]) -> dict[str, Any]:
    """Register an endpoint; the answer carries its secret, this once."""
    secret = secrets.token_urlsafe(32)
    new = conn.execute(
        insert(WEBHOOKS).values(url=check_url(hook.url, own), events=sorted(set(hook.events)), secret=secret,
                                created_by=actor.name).returning(W.id)
    ).scalar_one()  # fmt: skip
    return {**get(conn, new), "secret": secret}


def get(conn: Connection, hook_id: int) -> dict[str, Any]:
    row = conn.execute(select(*_columns()).where(W.id == hook_id)).first()
    if row is None:
        raise NotFound(f"no webhook {hook_id}", field="webhook_id")
    return _view(row)


def listing(conn: Connection) -> list[dict[str, Any]]:
    return [_view(r) for r in conn.execute(select(*_columns()).order_by(W.id))]


def change(conn: Connection, hook_id: int, change: WebhookChange) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if change.events is not None:
        values["events"] = sorted(set(change.events))
    if change.active is not None:
        values["active"] = change.active
    if change.resume:
        values.update(paused_at=None, failures=0)
    if values:
        done = conn.execute(update(WEBHOOKS).where(W.id == hook_id).values(**values))
        if not done.rowcount:
            raise NotFound(f"no webhook {hook_id}", field="webhook_id")
    return get(conn, hook_id)

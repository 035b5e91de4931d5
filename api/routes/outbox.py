"""Webhooks and deliveries (admins): register endpoints per event kind, see what was sent.

A webhook's calls are signed (``X-Wangge-Signature: sha256=HMAC(secret, body)``) and carry
``X-Wangge-Event-Id``; the secret is shown once, when the endpoint is registered.
Deliveries list everything the outbox sent or holds — messages to reporters too, which
is why only admins read them (they name phones and e-mail addresses).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import Connection

from api.deps import AdminDep, get_settings, run_read, run_tx
from api.params import one_of
from api.schemas import photos as schemas
from layers.accounts import audit
from layers.db.vocabulary import CHANNELS, DELIVERY_STATES
from layers.outbox import delivery, webhooks

router = APIRouter(tags=["webhooks"])


def _own(request: Request) -> list[str]:
    s = get_settings(request)
    return [s.public_base_url, f"http://{s.host}:{s.port}", f"{request.url.scheme}://{request.url.netloc}"]


@router.get("/api/webhooks", response_model=schemas.Webhooks, response_model_exclude_unset=True)
async def list_webhooks(request: Request, actor: AdminDep) -> dict[str, Any]:
    """Every endpoint with its health: failures in a row, paused, waiting deliveries, the last one."""
    return {"webhooks": await run_read(request, webhooks.listing)}


@router.post(
    "/api/webhooks", status_code=201, response_model=schemas.Webhook, response_model_exclude_unset=True
)
async def create_webhook(request: Request, body: webhooks.WebhookIn, actor: AdminDep) -> dict[str, Any]:
    """Register an endpoint for some event kinds; the answer shows its signing secret, once."""
    own = _own(request)

    def work(conn: Connection) -> dict[str, Any]:
        made = webhooks.create(conn, body, actor, own)
        audit.record(conn, actor, "webhook.create", f"webhook:{made['id']}", url=body.url, events=body.events)
        return made

    return await run_tx(request, work)


@router.patch("/api/webhooks/{webhook_id}", response_model=schemas.Webhook, response_model_exclude_unset=True)
async def change_webhook(
    request: Request, webhook_id: int, body: webhooks.WebhookChange, actor: AdminDep
) -> dict[str, Any]:
    """Change its events, switch it off or on, or resume it after a pause."""

    def work(conn: Connection) -> dict[str, Any]:
        changed = webhooks.change(conn, webhook_id, body)
        audit.record(
            conn, actor, "webhook.change", f"webhook:{webhook_id}", **body.model_dump(exclude_none=True)
        )
        return changed

    return await run_tx(request, work)


@router.get("/api/deliveries", response_model=schemas.Deliveries)
async def list_deliveries(
    request: Request,
    actor: AdminDep,
    state: str | None = Query(None, pattern=one_of(DELIVERY_STATES)),
    channel: str | None = Query(None, pattern=one_of(CHANNELS)),
    incident_id: int | None = Query(None, ge=1, le=2**63 - 1),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> dict[str, Any]:
    """What the outbox sent, holds (no sender set up) or still tries, newest first."""
    rows, total = await run_read(
        request, lambda c: delivery.listing(
            c, state=state, channel=channel, incident_id=incident_id, limit=limit, offset=offset
        ),
    )  # fmt: skip
    return {"numberMatched": total, "deliveries": rows}

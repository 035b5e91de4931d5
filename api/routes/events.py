"""Machine events: ``POST /api/events`` takes up to 10,000 camera or sensor events at a time.

The batch is acknowledged once its good rows are stored (one statement); ``wangge worker``
folds them into cases in order (``layers.cases.camera_events``). Only machine accounts'
API keys (``X-API-Key``) may post; a bad row is answered with its error, the rest kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Connection

from api.deps import ActorDep, StaffDep, charge, run_read, run_tx
from api.schemas import events as schemas
from geo.errors import TooLarge, Unauthorized
from layers.cases import camera_events, categories

router = APIRouter(prefix="/api/events", tags=["events"])
EVENTS_PER_REQUEST = 1000  # a batch spends the rate budget of one request per thousand events


@router.post("", status_code=202, response_model=schemas.EventsAccepted)
async def post_events(request: Request, actor: ActorDep, batch: schemas.EventBatch) -> dict[str, Any]:
    """Store a batch of machine events (202): each is folded into the open case of its category
    and H3 cell within the category's window, or files a new case, by ``wangge worker``."""
    if "x-api-key" not in request.headers or actor.role == "public":
        raise Unauthorized("events come from a machine account's API key (X-API-Key)")
    if len(batch.events) > camera_events.MAX_EVENTS:
        raise TooLarge(
            f"events has {len(batch.events):,} rows; the limit is {camera_events.MAX_EVENTS:,}",
            field="events",
        )
    charge(request, len(batch.events) / EVENTS_PER_REQUEST, f"a batch of {len(batch.events):,} events")
    now = datetime.now(UTC)

    def store(conn: Connection) -> camera_events.Accepted:
        return camera_events.accept(conn, actor.name, batch.events, categories.load(conn), now)

    done = await run_tx(request, store)
    return {"stored": done.stored, "duplicates": done.duplicates, "rejected": done.rejected}


@router.get("", response_model=schemas.EventBacklog)
async def backlog(request: Request, staff: StaffDep) -> dict[str, int]:
    """Events by state: how many wait for the worker, were folded, filed cases, were refused."""
    return await run_read(request, camera_events.backlog)

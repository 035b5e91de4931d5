"""Machine events (AI cameras, sensors): a batch in, what became of each row out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.errors import ErrorDetail
from api.schemas.common import Answer
from layers.cases.camera_events import MAX_EVENTS, EventIn


class EventBatch(BaseModel):
    """Up to 10,000 events; each row is checked on its own (shape: ``EventIn``)."""

    events: list[dict[str, Any]] = Field(
        description=f"Up to {MAX_EVENTS:,} events, each like EventIn; a bad row is answered, the rest kept.",
        json_schema_extra={"items": EventIn.model_json_schema()},
    )


class RefusedEvent(Answer):
    index: int
    error: ErrorDetail


class EventsAccepted(Answer):
    """Stored (acknowledged: they will be folded into cases), resent ones, and the refused rows."""

    stored: int
    duplicates: int
    rejected: list[RefusedEvent]


class EventBacklog(Answer):
    """Events by state: ``new`` waits for the worker; folded into a case, a new case, refused."""

    new: int
    folded: int
    created: int
    rejected: int

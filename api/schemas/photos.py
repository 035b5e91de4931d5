"""Photos (照片) and what is told to people and systems: uploads, EXIF, webhooks, deliveries."""

from __future__ import annotations

from typing import Any

from api.schemas.common import Answer, Timestamp


class LonLat(Answer):
    lon: float
    lat: float


class Uploaded(Answer):
    """A stored photo: refer to it by ``url``; ``exif_position`` is where the photo says it was taken."""

    id: str
    url: str
    thumbnail: str
    media_type: str
    width: int
    height: int
    bytes: int
    exif_position: LonLat | None
    warnings: list[str]


class PhotoMeta(Answer):
    """What a photo said of itself (dispatchers only)."""

    id: str
    media_type: str
    width: int
    height: int
    bytes: int
    taken_at: Timestamp | None
    device: str | None
    lon: float | None
    lat: float | None
    public: bool
    uploaded_by: str
    uploaded_at: Timestamp
    attached_at: Timestamp | None


class Webhook(Answer):
    """An endpoint: its events, health and last delivery (its secret only when created)."""

    id: int
    url: str
    events: list[str]
    active: bool
    failures: int
    paused_at: Timestamp | None
    waiting: int
    last_delivery: str | None
    created_by: str
    created_at: Timestamp
    secret: str | None = None


class Webhooks(Answer):
    webhooks: list[Webhook]


class Delivery(Answer):
    """One delivery of the outbox (admins: it names the recipient)."""

    id: int
    event_id: str
    kind: str
    channel: str
    target: str
    state: str
    attempts: int
    next_at: Timestamp
    sent_at: Timestamp | None
    last_status: int | None
    last_error: str | None
    incident_id: int | None
    payload: dict[str, Any]


class Deliveries(Answer):
    numberMatched: int
    deliveries: list[Delivery]

"""Photos' rows: stored after their files, attached to what uses them, swept when nothing did.

The order keeps the two stores consistent without a distributed transaction: the files
are written (and flushed) first, then the row is inserted in the caller's transaction. A
crash before the commit leaves files without a row; a photo uploaded and never used
leaves a row without a case. ``sweep`` removes both once they are older than the
setting, so nothing is an orphan for ever, and a row never points at a missing file.

A photo is referenced by its URL path, ``/api/photos/{sha256}``; the older http(s) URLs of
photos kept elsewhere are still accepted as they are.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import Connection, and_, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from geo.errors import InvalidInput, NotFound
from layers.accounts.actors import Actor
from layers.db import sql
from layers.db.models import PHOTOS
from layers.photos.images import Limits, Processed, process
from layers.photos.store import PhotoStore

ROWS = PHOTOS.c
PREFIX = "/api/photos/"
OWN = re.compile(r"^/api/photos/([0-9a-f]{64})$")
PhotoRef = Annotated[
    str,
    Field(
        pattern=r"^(/api/photos/[0-9a-f]{64}|https?://[!-~]{1,500}|data:image/[a-z0-9.+-]{1,30};base64,[A-Za-z0-9+/=]+)$",
        max_length=300_000_000,
        description="A photo uploaded here (`/api/photos/{id}`, from POST /api/photos), the photo itself as "
        "a `data:image/…;base64,` URL (stored on arrival), or an http(s) URL of a photo kept elsewhere.",
    ),
]  # fmt: skip


@dataclass(frozen=True)
class Stored:
    """An uploaded photo as the uploader is told of it."""

    id: str
    url: str
    media_type: str
    width: int
    height: int
    bytes: int
    lon: float | None
    lat: float | None
    warnings: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "url": self.url, "thumbnail": f"{self.url}?size=thumb",
            "media_type": self.media_type, "width": self.width, "height": self.height, "bytes": self.bytes,
            "exif_position": None if self.lon is None else {"lon": self.lon, "lat": self.lat},
            "warnings": self.warnings,
        }  # fmt: skip


def save(conn: Connection, store: PhotoStore, data: bytes, limits: Limits, actor: Actor, name: str) -> Stored:
    """Check, store and record one photo (files first, then the row, in the caller's transaction)."""
    photo: Processed = process(data, limits, name)
    photo_id = hashlib.sha256(data).hexdigest()
    store.put(photo_id, "original", data)
    store.put(photo_id, "display", photo.display)
    store.put(photo_id, "thumb", photo.thumb)
    conn.execute(
        pg_insert(PHOTOS)
        .values(
            id=photo_id, media_type=photo.media_type, width=photo.width, height=photo.height, bytes=len(data),
            taken_at=photo.taken_at, device=photo.device, uploaded_by=actor.name,
            gps=sql.point(photo.lon, photo.lat) if photo.lon is not None and photo.lat is not None else None,
        )
        .on_conflict_do_nothing(index_elements=[ROWS.id])
    )  # fmt: skip
    return Stored(
        photo_id, PREFIX + photo_id, photo.media_type, photo.width, photo.height, len(data),
        photo.lon, photo.lat, photo.warnings,
    )  # fmt: skip


def own_ids(refs: Sequence[str]) -> list[tuple[int, str]]:
    """(position, id) of the references that are photos of this store.

    >>> own_ids(["https://example.org/a.jpg", "/api/photos/" + "ab" * 32])
    [(1, 'abababababababababababababababababababababababababababababababab')]
    """
    return [(i, m.group(1)) for i, ref in enumerate(refs) if (m := OWN.match(ref))]


def attach(conn: Connection, refs: Sequence[str], *, public: bool = False, field: str = "photos") -> None:
    """Mark the store's photos among ``refs`` as used (a report's own are shown to the public —
    only a photo used for the first time: naming a staff photo in a report does not publish it);
    a reference to a photo never uploaded is a 400 naming its place."""
    for position, ref in enumerate(refs):
        if ref.startswith("data:"):  # api.photo_uploads.store_inline stores these first
            raise InvalidInput("a photo sent inline was not stored", field=f"{field}[{position}]")
    mine = own_ids(refs)
    if not mine:
        return
    ids = [i for _, i in mine]
    known = set(conn.execute(select(ROWS.id).where(ROWS.id.in_(ids)).with_for_update()).scalars())  # vs sweep
    for position, photo_id in mine:
        if photo_id not in known:
            raise InvalidInput(
                f"no uploaded photo {photo_id[:12]}…; upload it first", field=f"{field}[{position}]"
            )
    conn.execute(
        update(PHOTOS)
        .where(ROWS.id.in_(ids))
        .values(
            attached_at=func.coalesce(ROWS.attached_at, func.now()),
            public=ROWS.public | and_(literal(public), ROWS.attached_at.is_(None)),
        )
    )


def first_position(conn: Connection, refs: Sequence[str]) -> tuple[str, float, float] | None:
    """(reference, lon, lat) of the first of the store's photos whose EXIF gave a position."""
    for _, photo_id in own_ids(refs):
        found = conn.execute(
            select(func.ST_X(ROWS.gps), func.ST_Y(ROWS.gps)).where(ROWS.id == photo_id, ROWS.gps.is_not(None))
        ).first()
        if found is not None:
            return PREFIX + photo_id, float(found[0]), float(found[1])
    return None


def far_from(conn: Connection, refs: Sequence[str], lon: float, lat: float, metres: float) -> list[str]:
    """Notes on the photos whose EXIF position is more than ``metres`` from the report's point."""
    notes = []
    for position, photo_id in own_ids(refs):
        away = conn.execute(
            select(sql.distance_m(ROWS.gps, lon, lat)).where(ROWS.id == photo_id, ROWS.gps.is_not(None))
        ).scalar()
        if away is not None and away > metres:
            notes.append(
                f"photo {position + 1} was taken {away:.0f} m from this location (its EXIF position)"
            )
    return notes


def meta(conn: Connection, photo_id: str) -> dict[str, Any]:
    """What a photo said of itself (dispatchers only: it can locate a resident's home)."""
    found = (
        conn.execute(
            select(
                PHOTOS.c.id, ROWS.media_type, ROWS.width, ROWS.height, ROWS.bytes, ROWS.taken_at, ROWS.device
            )
            .add_columns(ROWS.public, ROWS.uploaded_by, ROWS.uploaded_at, ROWS.attached_at)
            .add_columns(func.ST_X(ROWS.gps).label("lon"), func.ST_Y(ROWS.gps).label("lat"))
            .where(ROWS.id == photo_id)
        )
        .mappings()
        .first()
    )
    if found is None:
        raise NotFound(f"no photo {photo_id}", field="photo_id")
    return dict(found)


def readable(conn: Connection, photo_id: str, staff: bool) -> bool:
    """Whether a caller may see a photo: staff any, the public a report's own photos."""
    query = select(ROWS.public).where(ROWS.id == photo_id)
    public = conn.execute(query).scalar()
    if public is None:
        raise NotFound(f"no photo {photo_id}", field="photo_id")
    return staff or bool(public)


def sweep(conn: Connection, store: PhotoStore, older_than_h: float) -> tuple[int, int]:
    """Remove uploads nothing took and files without a row, older than ``older_than_h`` hours;
    answers (rows, files) removed."""
    gone = list(
        conn.execute(
            delete(PHOTOS)
            .where(
                ROWS.attached_at.is_(None),
                ROWS.uploaded_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, older_than_h * 3600),
            )
            .returning(ROWS.id)
        ).scalars()
    )
    for photo_id in gone:
        store.delete(photo_id)
    limit_s = older_than_h * 3600
    kept = set(conn.execute(select(ROWS.id)).scalars())
    strays = [p for p in store.ids() if p not in kept and store.age_s(p) > limit_s]
    for photo_id in strays:
        store.delete(photo_id)
    store.sweep_partial()
    return len(gone), len(strays)

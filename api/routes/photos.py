"""``/api/photos``: upload a photo, read its display copy or thumbnail, and (dispatchers) what
its EXIF said. Every copy served is re-encoded without metadata; the original stays in
the store. The public reads a report's own photos; staff read every photo."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse

from api.deps import ActorDep, DispatcherDep, charge_public_report, run_read, run_tx
from api.photo_uploads import limits_of, photo_store
from api.schemas import photos as schemas
from geo.errors import NotFound, TooLarge
from layers.accounts.actors import PUBLIC
from layers.photos import records

router = APIRouter(prefix="/api/photos", tags=["photos"])
PhotoId = Path(pattern=r"^[0-9a-f]{64}$", description="The photo's SHA-256.")


@router.post("", status_code=201, response_model=schemas.Uploaded)
async def upload(
    request: Request, actor: ActorDep, photo: UploadFile = File(..., description="JPEG, PNG, WebP or HEIC")
) -> dict[str, Any]:
    """Store a photo; refer to it by its ``url`` in a report, a transition or an inspection
    (within ``WANGGE_PHOTO_ORPHAN_HOURS``, or it is swept)."""
    charge_public_report(request, actor, 1 / 3)
    limits = limits_of(request)
    data = await photo.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise TooLarge(f"the photo is over {limits.max_bytes / 1e6:.0f} MB", field="photo")
    name = photo.filename or "photo"
    stored = await run_tx(request, records.save, photo_store(request), data, limits, actor, name)
    return stored.as_json()


@router.get(
    "/{photo_id}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}, "description": "The photo, without metadata."}},
)
async def photo(
    request: Request,
    actor: ActorDep,
    photo_id: str = PhotoId,
    size: Literal["display", "thumb"] = Query("display"),
) -> FileResponse:
    """The display copy (long side ``WANGGE_PHOTO_DISPLAY_PX``) or the thumbnail, as JPEG."""
    staff = actor is not PUBLIC
    if not await run_read(request, records.readable, photo_id, staff):
        raise NotFound(f"no photo {photo_id}", field="photo_id")  # not the public's: as if absent
    found = photo_store(request).path(photo_id, size)
    if found is None:
        raise NotFound(f"photo {photo_id} has no {size} copy in the store", field="photo_id")
    cache = "private, max-age=86400" if staff else "public, max-age=31536000, immutable"
    return FileResponse(
        found, media_type="image/jpeg", headers={"Cache-Control": cache, "ETag": f'"{photo_id}-{size}"'}
    )


@router.get("/{photo_id}/meta", response_model=schemas.PhotoMeta)
async def photo_meta(request: Request, actor: DispatcherDep, photo_id: str = PhotoId) -> dict[str, Any]:
    """What the photo said of itself — EXIF position, time, device — and who uploaded it."""
    return await run_read(request, records.meta, photo_id)

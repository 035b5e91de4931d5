"""``POST /api/layers/{collection}``: an admin uploads a layer file; the same import as the CLI.

Grid layers land in a new draft generation (checked; made live by ``wangge layers
activate`` after review), assets are added. All or nothing: a bad file answers 400 with
every problem listed and writes nothing. The upload is spooled to a temporary file
within ``WANGGE_MAX_UPLOAD_MB``.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path, PurePath
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from sqlalchemy import Connection

from api.deps import AdminDep, SettingsDep, run_tx
from api.schemas import accounts
from geo.errors import InvalidInput, TooLarge
from layers.accounts import audit
from layers.io import area_files, imports

router = APIRouter(prefix="/api/layers", tags=["layers"])
CHUNK = 1024 * 1024


def _as_sent(filename: str | None, suffix: str) -> str:
    """The name of the file as the user sent it, safe as a file name in our temporary folder."""
    name = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", PurePath(filename or "").name).strip(".")
    return name if name.lower().endswith(suffix) else f"upload{suffix}"


@router.post(
    "/{collection}", status_code=201, response_model=accounts.Imported, response_model_exclude_unset=True
)
async def import_file(
    request: Request,
    collection: str,
    actor: AdminDep,
    settings: SettingsDep,
    file: UploadFile = File(..., description="GeoJSON, GeoPackage, zipped Shapefile or CSV"),
    crs: str | None = Form(None, description="CRS of the file when it does not declare one."),
    update: bool = Form(False, description="Assets: update existing assets by ID (all or nothing)."),
    district: str | None = Form(
        None, pattern=r"^\d{6}$", description="The district the file is for (needed with several districts)."
    ),
    extra: str = Form(
        "keep", pattern="^(keep|ignore)$", description="Assets: other columns kept (exports only) or ignored."
    ),
) -> dict[str, Any]:
    """Import a layer file: every row checked, every problem listed, nothing written unless all are good."""
    limit = settings.max_upload_mb * CHUNK
    suffix = PurePath(file.filename or "").suffix.lower()
    if suffix not in area_files.FORMATS:
        raise InvalidInput(
            f"{file.filename!r}: unsupported format; use {', '.join(area_files.FORMATS)}", field="file"
        )
    with tempfile.TemporaryDirectory(prefix="wangge-upload-") as tmp:
        path = Path(tmp) / _as_sent(file.filename, suffix)  # messages name the file the user sent
        size = 0
        with path.open("wb") as out:
            while chunk := await file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"the file exceeds {limit // CHUNK} MB", field="file")
                out.write(chunk)

        def work(conn: Connection) -> dict[str, Any]:
            answer = imports.import_file(
                conn,
                collection,
                path,
                crs=crs,
                update=update,
                extra=extra,
                tolerance_m=settings.asset_tolerance_m,
                district=district,
            ).as_dict()
            audit.record(
                conn, actor, "layer.import", f"collection:{collection}", file=file.filename, **answer
            )
            return answer

        return await run_tx(request, work)

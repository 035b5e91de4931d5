"""Locating: a point (in any CRS) → district, street, community, grid, micro-grid, worker.

Single answers come from the worker's in-memory index (no SQL); batches of up to a
million points are parsed column-wise, located in vectorised calls and streamed back
in input order, bad rows answered with their error.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse

from api.deps import READERS, ActorDep, IndexDep, SettingsDep, charge, run_heavy, run_heavy_thread, run_read
from api.params import CRS, CRS_HELP
from api.schemas import locate as locate_schema
from geo import points
from geo.crs import from_wgs84, parse_crs, to_wgs84
from geo.errors import InvalidInput, TooLarge
from layers.accounts.actors import PUBLIC
from layers.cases import intake
from layers.db.vocabulary import PRIVILEGED
from layers.grid.answers import point_answer
from layers.io import pointfiles

POINTS_PER_REQUEST = 1000  # a batch spends the rate budget of one request per thousand points
router = APIRouter(prefix="/api/locate", tags=["locate"], dependencies=READERS)


@router.get("", response_class=JSONResponse, response_model=locate_schema.Located)
async def locate(
    request: Request,
    index: IndexDep,
    settings: SettingsDep,
    actor: ActorDep,
    lon: float = Query(..., description="Longitude (or x) in `crs`."),
    lat: float = Query(..., description="Latitude (or y) in `crs`."),
    crs: str = Query("wgs84", pattern=CRS, description=CRS_HELP),
    accuracy_m: float | None = Query(None, ge=0, le=100_000, description="GPS accuracy of the point."),
    out_crs: str | None = Query(
        None, pattern=CRS, description="CRS of `point` in the answer (default WGS84)."
    ),
    category: str | None = Query(None, max_length=5, description="Nearby open cases of this category only."),
    nearby: bool = Query(False, description="Nearby open cases of every category (one query)."),
) -> JSONResponse:
    """Who is responsible for this point: the area chain, the grid worker, boundary distance.

    All from the worker's memory (~60 µs): the chain, and the nearest asset of each kind
    within ``WANGGE_NEARBY_ASSETS_M`` from the in-memory asset index. With ``category``,
    the open cases of that category within ``WANGGE_NEARBY_INCIDENTS_M`` come from one query;
    with ``nearby``, those of every category. Dispatchers also get the grid worker's phone.
    """
    x, y = (float(v) for v in to_wgs84(lon, lat, crs))
    px, py = (float(v) for v in from_wgs84(x, y, out_crs)) if out_crs else (x, y)
    snap_m = settings.public_snap_m if actor is PUBLIC else 0.0  # the public's distances are coarse
    cases = (  # "of the same kind": only a category makes the query (plain locate stays SQL-free)
        await run_read(request, intake.nearby_open, x, y, settings.nearby_incidents_m, category, 10, snap_m)
        if category or nearby
        else []
    )
    body = point_answer(
        index,
        x,
        y,
        accuracy_m=accuracy_m,
        min_ambiguous_m=settings.ambiguous_m,
        nearby_assets_m=settings.nearby_assets_m,
    )
    body["nearby_incidents"] = jsonable_encoder(cases)
    grid = body.get("grid") or {}
    if actor.role in PRIVILEGED and grid.get("code") in index.phones:
        grid["worker"]["phone"] = index.phones[grid["code"]]
    return JSONResponse(
        {
            "query": {"lon": lon, "lat": lat, "crs": crs},
            "point": {"type": "Point", "coordinates": [round(px, 8), round(py, 8)]},
            **body,
        }
    )


async def _read_body(request: Request, limit_mb: int) -> bytes:
    declared = request.headers.get("content-length")
    limit = limit_mb * 1024 * 1024
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the body is {int(declared):,} bytes; the limit is {limit:,}", field="body")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise TooLarge(f"the body exceeds the limit of {limit:,} bytes", field="body")
    return bytes(body)


def _csv_batch(data: bytes, limit: int) -> points.PointBatch:
    """The whole CSV as one batch (the body is in memory already; the answer is streamed)."""
    batches = list(pointfiles.csv_batches(data, limit))
    if len(batches) == 1:
        return batches[0]
    extra = pa.concat_tables([b.extra for b in batches])
    x, y = np.concatenate([b.x for b in batches]), np.concatenate([b.y for b in batches])
    errors = {b.offset + k: e for b in batches for k, e in b.errors.items()}
    return points.PointBatch(x, y, errors, extra)


async def _parse(request: Request, crs: str | None, limit: int, max_mb: int) -> tuple[points.PointBatch, str]:
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("send the CSV as the form field `file`", field="file")
        data = await upload.read()
        if len(data) > max_mb * 1024 * 1024:
            raise TooLarge(f"the file exceeds {max_mb} MB", field="file")
        batch = await run_heavy_thread(request, _csv_batch, data, limit)
        return batch, crs or str(form.get("crs") or "wgs84")
    body = await _read_body(request, max_mb)
    if kind in ("text/csv", "application/csv"):
        return await run_heavy_thread(request, _csv_batch, body, limit), crs or "wgs84"
    batch, body_crs = await run_heavy(request, pointfiles.json_batch, body, limit)
    return batch, crs or body_crs or "wgs84"


@router.post("/batch", responses={200: {"model": locate_schema.BatchAnswer, "content": {"text/csv": {}}}})
async def locate_batch(
    request: Request,
    settings: SettingsDep,
    index: IndexDep,
    crs: str | None = Query(None, pattern=CRS, description="CRS of the points (overrides the body's `crs`)."),
) -> StreamingResponse:
    """Locate many points: JSON ``{"crs", "points"}``, a GeoJSON FeatureCollection, or CSV (lon, lat).

    Answers stream back in input order; a bad row is answered with its error and the
    rest are still located. ``Accept: text/csv`` answers as CSV: the file's own columns
    as given, then the answer. Parsing, locating and writing are column-wise (pyarrow)
    and off the event loop, 100,000 rows at a time.
    """
    batch, used_crs = await _parse(request, crs, settings.batch_max_points, settings.max_upload_mb)
    charge(request, len(batch) / POINTS_PER_REQUEST, f"a batch of {len(batch):,} points")
    parse_crs(used_crs)
    tables = pointfiles.located(index, iter([batch]), used_crs)
    if "text/csv" in request.headers.get("accept", ""):
        return StreamingResponse(pointfiles.csv_stream(tables), media_type="text/csv; charset=utf-8")
    return StreamingResponse(pointfiles.json_stream(tables, used_crs), media_type="application/json")

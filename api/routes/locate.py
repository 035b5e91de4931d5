"""Locating: a point (in any CRS) → district, street, community, grid, micro-grid, worker.

Single answers come from the worker's in-memory index (no SQL); batches of up to a
million points are parsed once, located in one vectorised call and streamed back
in input order, bad rows answered with their error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse

from api.auth import READERS
from api.deps import SettingsDep, run_read
from api.locating import IndexHolder
from geo import points
from geo.crs import from_wgs84, parse_crs, to_wgs84
from geo.errors import InvalidInput, TooLarge
from layers import incidents
from layers.index import AreaIndex, Located

router = APIRouter(prefix="/api/locate", tags=["locate"], dependencies=READERS)


async def get_index(request: Request) -> AreaIndex:
    """The worker's index; checking for a new generation (a query, maybe a rebuild) runs
    in the threadpool, the common case returns at once without leaving the event loop."""
    holder: IndexHolder = request.app.state.index_holder
    return holder.fresh() or await run_in_threadpool(holder.get)


IndexDep = Annotated[AreaIndex, Depends(get_index)]


def answer(
    index: AreaIndex,
    located: Located,
    k: int,
    lon: float,
    lat: float,
    accuracy_m: float | None,
    min_ambiguous_m: float,
) -> dict[str, Any]:
    """The full single-point answer of API.md for row ``k`` of ``located``."""
    i = int(located.index[k])
    inside = bool(located.inside[k])
    edge = index.boundary_distance_m(i, lon, lat) if inside else 0.0
    threshold = max(accuracy_m or 0.0, min_ambiguous_m)
    return {
        "inside": inside,
        "distance_m": round(float(located.distance_m[k]), 2),
        "boundary_distance_m": round(edge, 2),
        "ambiguous": bool(inside and edge < threshold),
        **index.chain(i),
        "generation": index.generation,
        "nearest_assets": [],
        "nearby_incidents": [],
    }


def nearest_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``nearest_assets`` entries of a locate answer."""
    return [
        {
            "id": r["id"],
            "kind": r["kind"],
            "subclass": r["subclass"],
            "distance_m": round(float(r["distance_m"]), 2),
        }
        for r in rows
    ]


@router.get("", response_class=JSONResponse)
async def locate(
    request: Request,
    index: IndexDep,
    settings: SettingsDep,
    lon: float = Query(..., description="Longitude (or x) in `crs`."),
    lat: float = Query(..., description="Latitude (or y) in `crs`."),
    crs: str = Query("wgs84", description="wgs84, cgcs2000, gcj02, bd09, EPSG:4326/4490/3857/4549/4528"),
    accuracy_m: float | None = Query(None, ge=0, le=100_000, description="GPS accuracy of the point."),
    out_crs: str | None = Query(None, description="CRS of `point` in the answer (default WGS84)."),
    category: str | None = Query(None, max_length=5, description="Nearby open cases of this category only."),
) -> JSONResponse:
    """Who is responsible for this point: the area chain, the grid worker, boundary distance.

    All from the worker's memory (~60 µs): the chain, and the nearest asset of each kind
    within ``WANGGE_NEARBY_ASSETS_M`` from the in-memory asset index. With ``category``,
    the open cases of that category within ``WANGGE_NEARBY_INCIDENTS_M`` come from one query.
    """
    wlon, wlat = to_wgs84(lon, lat, crs)
    wlon, wlat = np.atleast_1d(wlon), np.atleast_1d(wlat)
    located = index.locate(wlon, wlat)
    px, py = from_wgs84(wlon, wlat, out_crs) if out_crs else (wlon, wlat)
    x, y = float(wlon[0]), float(wlat[0])

    near = index.assets.nearest_each(x, y, settings.nearby_assets_m) if index.assets else []
    cases = (  # "of the same kind": only a category makes the query (plain locate stays SQL-free)
        await run_read(request, incidents.nearby_open, x, y, settings.nearby_incidents_m, category)
        if category
        else []
    )
    body = answer(index, located, 0, x, y, accuracy_m, settings.ambiguous_m)
    body["nearest_assets"] = nearest_summary(near)
    body["nearby_incidents"] = jsonable_encoder(cases)
    return JSONResponse(
        {
            "query": {"lon": lon, "lat": lat, "crs": crs},
            "point": {"type": "Point", "coordinates": [round(float(px[0]), 8), round(float(py[0]), 8)]},
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
        return points.from_csv(data, limit), crs or str(form.get("crs") or "wgs84")
    body = await _read_body(request, max_mb)
    if kind in ("text/csv", "application/csv"):
        return points.from_csv(body, limit), crs or "wgs84"
    try:
        parsed = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("the body is not valid JSON (or send text/csv)", field="body") from None
    batch, body_crs = points.from_json(parsed, limit)
    return batch, crs or body_crs or "wgs84"


def located_rows(
    index: AreaIndex,
    batch: points.PointBatch,
    crs: str,
    chunk: int = 100_000,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Answers for every row of ``batch`` in input order, located ``chunk`` rows at a time."""
    lon, lat = points.to_wgs84_rows(batch, crs)
    ok = np.isfinite(lon) & np.isfinite(lat)
    for k in batch.errors:
        ok[k] = False
    n = len(batch)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        good = ok[start:stop]
        located = index.locate(np.where(good, lon[start:stop], 0.0), np.where(good, lat[start:stop], 0.0))
        for j in range(stop - start):
            if not good[j]:
                yield {"error": batch.errors[start + j]}
                continue
            code = index.codes[int(located.index[j])]
            yield {
                "inside": bool(located.inside[j]),
                "distance_m": round(float(located.distance_m[j]), 2),
                "street": code[:9],
                "community": code[:12],
                "grid": code[:15],
                "micro_grid": code,
            }
        if progress is not None:
            progress(stop, n)


def json_stream(rows: Iterator[dict[str, Any]], crs: str) -> Iterator[bytes]:
    yield b'{"crs": ' + json.dumps(crs).encode() + b', "results": ['
    first = True
    buffer: list[str] = []
    for row in rows:
        buffer.append(("" if first else ",") + json.dumps(row, ensure_ascii=False))
        first = False
        if len(buffer) >= 10_000:
            yield "".join(buffer).encode()
            buffer = []
    yield ("".join(buffer) + "]}").encode()


CSV_COLUMNS = ("inside", "distance_m", "street", "community", "grid", "micro_grid", "error")


def csv_stream(rows: Iterator[dict[str, Any]], batch: points.PointBatch) -> Iterator[bytes]:
    import csv
    import io

    extra = list(batch.extra[0]) if batch.extra else []
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", *extra, "lon", "lat", *CSV_COLUMNS])
    for k, row in enumerate(rows):
        error = row.get("error", {}).get("message", "")
        given = [batch.extra[k].get(c, "") for c in extra] if batch.extra else []
        x = "" if np.isnan(batch.x[k]) else repr(float(batch.x[k]))
        y = "" if np.isnan(batch.y[k]) else repr(float(batch.y[k]))
        values = [
            "true" if v is True else "false" if v is False else v
            for v in (row.get(c, "") for c in CSV_COLUMNS[:-1])
        ]
        writer.writerow([k + 1, *given, x, y, *values, error])
        if out.tell() > 1 << 20:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


@router.post("/batch")
async def locate_batch(
    request: Request,
    settings: SettingsDep,
    crs: str | None = Query(None, description="CRS of the points (overrides the body's `crs`)."),
) -> StreamingResponse:
    """Locate many points: JSON ``{"crs", "points"}``, a GeoJSON FeatureCollection, or CSV (lon, lat).

    Answers stream back in input order; a bad row is answered with its error and the
    rest are still located. ``Accept: text/csv`` answers as CSV.
    """
    batch, used_crs = await _parse(request, crs, settings.batch_max_points, settings.max_upload_mb)
    parse_crs(used_crs)
    rows = located_rows(await get_index(request), batch, used_crs)
    if "text/csv" in request.headers.get("accept", ""):
        return StreamingResponse(csv_stream(rows, batch), media_type="text/csv; charset=utf-8")
    return StreamingResponse(json_stream(rows, used_crs), media_type="application/json")

"""The field worker's asset page ``/a/{id}``, its QR codes, and the friendly 404.

Server-rendered with Jinja2 (autoescaped); the map data travels as JSON in a
``<script type="application/json">`` block and the shared map module draws it.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta, timezone
from typing import Any

import segno
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import get_index, get_settings, run_read
from api.params import AssetIdPath, GridCodePath
from api.printing import html_to_pdf
from api.templating import templates
from geo.crs import from_wgs84
from geo.errors import InvalidInput, NotFound
from layers.assets import features, inspections, store
from layers.assets.inspections import DEFECTS
from layers.assets.kinds import KINDS, parse_asset_id
from layers.db.vocabulary import STATUS_NAMES
from layers.grid import areas

router = APIRouter(tags=["pages"])
BEIJING = timezone(timedelta(hours=8))


def _attributes(kind_name: str, values: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows in the kind's schema order, values in words a field worker reads."""
    kind = KINDS[kind_name]
    order = list(kind.attributes.model_fields)
    rows = []
    for key in sorted(values, key=lambda k: order.index(k) if k in order else len(order)):
        value = values[key]
        if value is None:
            continue
        shown = kind.values.get(key, {}).get(value, value) if isinstance(value, str) else value
        rows.append((kind.labels.get(key, key), _show(shown)))
    return rows


def _page_data(
    conn: Any, asset_id: str
) -> tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]:
    row = store.get_asset(conn, asset_id)
    micro = None
    if row["micro_grid"] and row["generation"]:
        area = areas.get_area(conn, row["micro_grid"], row["generation"], columns=("code",))
        micro = json.loads(area["geojson"])
    near = [r for r in store.nearest(conn, row["lon"], row["lat"], k=9, radius_m=200) if r["id"] != asset_id]
    row["inspections"] = inspections.history(conn, asset_id, limit=20)
    row["incidents"] = features.incident_summaries(conn, asset_id)
    return row, micro, near[:8]


def _not_found(request: Request, asset_id: str, reason: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "asset_404.html", {"asset_id": asset_id, "reason": reason}, status_code=404
    )


@router.get("/a/", response_class=HTMLResponse, include_in_schema=False)
async def asset_search(request: Request, id: str = Query("")) -> Response:
    """The search box of the 404 page: go to the asset typed."""
    wanted = id.strip()
    if wanted:
        return RedirectResponse(f"/a/{wanted}", status_code=303)
    return _not_found(request, "", "")


def _grid_covers(conn: Any, grid_code: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    generation = areas.require_active(conn)
    grid = areas.get_area(conn, grid_code, generation, with_geometry=False)
    return grid, store.covers_of_grid(conn, generation, grid_code)


@router.get(
    "/a/labels/{grid_code}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def label_sheet_pdf(request: Request, grid_code: GridCodePath) -> Response:
    """The label sheet of a grid as a PDF (A4, printed by headless Chromium on the server)."""
    sheet = await label_sheet(request, grid_code)
    pdf = await run_in_threadpool(html_to_pdf, bytes(sheet.body).decode("utf-8"))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="labels-{grid_code}.pdf"'},
    )


@router.get("/a/labels/{grid_code}", response_class=HTMLResponse)
async def label_sheet(request: Request, grid_code: GridCodePath) -> HTMLResponse:
    """A printable sheet of QR labels for every manhole cover of a grid (``.pdf`` for the PDF)."""
    grid, covers = await run_read(request, _grid_covers, grid_code)
    base = get_settings(request).public_base_url
    subclasses = KINDS["manhole_cover"].subclasses
    labels = [
        {
            "id": c["id"],
            "subclass_name": subclasses.get(c["subclass"][2:], ""),
            "svg": segno.make(f"{base}/a/{c['id']}", error="m").svg_inline(scale=3, border=2),
        }
        for c in covers
    ]
    context = {"grid_code": grid_code, "grid_name": grid["name"], "labels": labels}
    return templates.TemplateResponse(request, "labels.html", context)


@router.get("/a/{asset_id}", response_class=HTMLResponse)
async def asset_page(request: Request, asset_id: str) -> HTMLResponse:
    """Mobile-first page of one asset: map, attributes, area chain and worker, history, nearby."""
    try:
        parse_asset_id(asset_id)
        row, micro, near = await run_read(request, _page_data, asset_id)
    except (InvalidInput, NotFound) as exc:
        return _not_found(request, asset_id, exc.message)
    index = await get_index(request)
    feature = features.asset_feature(row, index)
    props = feature["properties"]
    kind = KINDS[row["kind"]]
    for n in near:
        n["subclass_name"] = kind.subclasses.get(n["subclass"][2:], n["subclass"])
        n["distance_m"] = round(float(n["distance_m"]), 1)
    glon, glat = (float(v) for v in from_wgs84(row["lon"], row["lat"], "gcj02"))
    status = row["attributes"].get("status", "normal")
    data = {
        "id": row["id"],
        "point": [row["lon"], row["lat"]],
        "micro_grid": micro,
        "nearby": [
            {"id": n["id"], "lon": n["lon"], "lat": n["lat"], "distance_m": n["distance_m"]} for n in near
        ],
    }
    context = {
        "asset": row,
        "kind_title": kind.title,
        "subclass_name": props["subclass_name"],
        "status": status,
        "status_label": kind.values.get("status", {}).get(status, status),
        "chain": props["areas"],
        "attributes": _attributes(row["kind"], row["attributes"]),
        "inspections": [
            {
                "when": i["inspected_at"].astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
                "result": "正常" if i["result"] == "ok" else DEFECTS[i["defect"]][0],
                "note": i["note"],
            }
            for i in row["inspections"]
        ],
        "incidents": [_case_line(c) for c in row["incidents"]],
        "defects": [(code, label) for code, (label, _) in DEFECTS.items()],
        "nearby": near,
        "lat_text": f"{row['lat']:.6f}",
        "lon_text": f"{row['lon']:.6f}",
        "navigate_geo": f"geo:{row['lat']:.7f},{row['lon']:.7f}?q={row['lat']:.7f},{row['lon']:.7f}",
        "navigate_amap": f"https://uri.amap.com/marker?position={glon:.7f},{glat:.7f}&name={row['id']}",
        # JSON inside <script>: "</" must not close the element.
        "data_json": json.dumps(data, ensure_ascii=False).replace("</", "<\\/"),
    }
    return templates.TemplateResponse(request, "asset.html", context)


def _case_line(case: dict[str, Any]) -> dict[str, Any]:
    """A case on the asset page: when (Beijing) and its status in words."""
    when = case["received_at"].astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    return {**case, "when": when, "status_name": STATUS_NAMES[case["status"]][0]}


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "有" if value else "无"
    return str(value)


def _qr(request: Request, asset_id: str) -> segno.QRCode:
    parse_asset_id(asset_id)
    return segno.make(f"{get_settings(request).public_base_url}/a/{asset_id}", error="m")


@router.get("/a/{asset_id}/qr.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def qr_png(request: Request, asset_id: AssetIdPath, scale: int = Query(8, ge=2, le=40)) -> Response:
    """QR code of the asset page's absolute URL (base URL from WANGGE_BASE_URL)."""
    out = io.BytesIO()
    _qr(request, asset_id).save(out, kind="png", scale=scale, border=4)
    return Response(
        out.getvalue(), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get(
    "/a/{asset_id}/qr.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}}
)
async def qr_svg(request: Request, asset_id: AssetIdPath) -> Response:
    """The same QR code as SVG (for printing labels)."""
    out = io.BytesIO()
    _qr(request, asset_id).save(out, kind="svg", scale=4, border=4, xmldecl=False)
    return Response(
        out.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )

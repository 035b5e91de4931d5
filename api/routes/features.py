"""OGC API – Features (Core + GeoJSON) for the grid layers, so QGIS reads them directly.

Landing page, conformance, collections and items as in OGC 17-069r4; features are
GeoJSON (RFC 7946) in CRS84 with the area code as id. Personal data (the grid
worker's phone) is never part of these public responses.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from api.deps import READERS, ReadDep, StaleDep
from api.links import base_url, link
from api.params import BBoxDep, PageDep
from api.schemas import features, service
from geo.errors import InvalidInput, NotFound
from layers.addresses import gazetteer
from layers.assets import store
from layers.db.vocabulary import ENTERPRISE_STATUSES, PLURAL
from layers.enterprises import queries as firms
from layers.grid import areas

router = APIRouter(tags=["OGC API – Features"], dependencies=READERS)

GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
]
AREA_COLLECTIONS = {
    "districts": ("district", "区 Districts", "The districts served (real boundaries, codes and names)."),
    "streets": ("street", "街道 Streets", "Streets (街道办事处; real codes and names)."),
    "communities": ("community", "社区 Communities", "Communities (real codes and names)."),
    "grids": ("grid", "网格 Grids", "Grids with their responsible grid worker (generated in the demo)."),
    "micro_grids": ("micro_grid", "微网格 Micro-grids", "Micro-grids, one door-to-door round each."),
}


# Asset collections: id → (kind, title, description)
ASSET_COLLECTIONS = {
    "manhole_covers": (
        "manhole_cover",
        "窨井盖 Manhole covers",
        "Manhole covers with GB/T 30428.2 component IDs "
        "(generated in the demo). Filters: subclass (e.g. 0102), status.",
    ),
    "parking": (
        "parking",
        "停车场 Car parks",
        "Public car parks (component 0201): project status, spaces, EV "
        "spaces; 瑞岛路地下停车场 has its published figures, the others are generated. Filter: status.",
    ),
    "cameras": (
        "camera",
        "监控电子眼 Cameras",
        "Surveillance cameras (监控电子眼, component 0136), with whether each runs AI event "
        "detection (generated in the demo). Filters: subclass, status.",
    ),
}
ADDRESSES = (
    "addresses",
    "门牌地址 Standard addresses",
    "The standard address table (门牌): road, house number, building and point, the fields the "
    "geocoder matches on (generated in the demo, on the real roads). Filter: road.",
)
ENTERPRISES = (
    "enterprises",
    "企业 Enterprises",
    "The register's firms at their operating address's doorplate: credit code, name, industry "
    "(GB/T 4754), 2+6 chain, status, founding date and responsible street; no people, no rooms "
    "(generated in the demo). Filter: status (在营, 注销, 吊销, 迁出).",
)


@router.get("/conformance", response_model=service.Conformance)
def conformance() -> dict[str, list[str]]:
    """The conformance classes this server implements."""
    return {"conformsTo": CONFORMANCE}


def _extent(conn: Connection, level: str, generation: int | None) -> list[float]:
    if generation is None:
        return [-180.0, -90.0, 180.0, 90.0]
    return areas.extent(conn, level, generation) or [-180.0, -90.0, 180.0, 90.0]


def _collection(request: Request, conn: Connection, cid: str, generation: int | None) -> dict[str, Any]:
    base = base_url(request)
    if cid == ADDRESSES[0]:
        _, title, description = ADDRESSES
        extent = gazetteer.extent(conn) or [-180.0, -90.0, 180.0, 90.0]
        return _described(base, cid, title, description, extent, f"{cid} as GeoJSON")
    if cid == ENTERPRISES[0]:
        _, title, description = ENTERPRISES
        extent = firms.extent(conn) or [-180.0, -90.0, 180.0, 90.0]
        return _described(base, cid, title, description, extent, f"{cid} as GeoJSON")
    if cid in ASSET_COLLECTIONS:
        kind, title, description = ASSET_COLLECTIONS[cid]
        extent = store.extent(conn, kind) or [-180.0, -90.0, 180.0, 90.0]
        return _described(base, cid, title, description, extent, f"{cid} as GeoJSON")
    level, title, description = AREA_COLLECTIONS[cid]
    extent = _extent(conn, level, generation)
    return _described(base, cid, title, description, extent, f"{PLURAL[level]} as GeoJSON")


def _described(
    base: str, cid: str, title: str, description: str, bbox: list[float], items: str
) -> dict[str, Any]:
    """A collection's description (OGC API – Features ``collection``)."""
    return {
        "id": cid,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [bbox], "crs": CRS84}},
        "links": [
            link(f"{base}/collections/{cid}", "self", "application/json", title),
            link(f"{base}/collections/{cid}/items", "items", GEOJSON, items),
        ],
    }


def _collection_id(cid: str) -> str:
    if (
        cid not in AREA_COLLECTIONS
        and cid not in ASSET_COLLECTIONS
        and cid not in (ADDRESSES[0], ENTERPRISES[0])
    ):
        raise NotFound(f"no collection {cid!r}; see /collections", field="collectionId")
    return cid


@router.get("/collections", response_model=features.Collections, response_model_exclude_unset=True)
def collections(request: Request, stale: StaleDep) -> dict[str, Any]:
    """The layers served as OGC API – Features collections."""

    def fetch(conn: Connection) -> list[dict[str, Any]]:
        generation = areas.active_generation(conn)
        ids = [*AREA_COLLECTIONS, *ASSET_COLLECTIONS, ADDRESSES[0], ENTERPRISES[0]]
        return [_collection(request, conn, cid, generation) for cid in ids]

    base = base_url(request)
    return {
        "links": [link(f"{base}/collections", "self", "application/json", "the collections")],
        "collections": stale(fetch),
    }


@router.get(
    "/collections/{collectionId}", response_model=features.Collection, response_model_exclude_unset=True
)
def collection(collectionId: str, request: Request, stale: StaleDep) -> dict[str, Any]:
    """One collection's description and extent."""
    cid = _collection_id(collectionId)
    return stale(lambda conn: _collection(request, conn, cid, areas.active_generation(conn)))


def feature(row: dict[str, Any], base: str, cid: str) -> dict[str, Any]:
    """A database row (with ``geojson``) as a GeoJSON Feature whose id is the code or asset ID."""
    fid = row["code"] if "code" in row else row["id"]
    props = {k: v for k, v in row.items() if k != "geojson" and v is not None}
    return {
        "type": "Feature",
        "id": fid,
        "geometry": json.loads(row["geojson"]) if row.get("geojson") else None,
        "properties": props,
        "links": [link(f"{base}/collections/{cid}/items/{fid}", "self", GEOJSON)],
    }


def _generation(conn: Connection, generation: int | None) -> int:
    if generation is None:
        return areas.require_active(conn)
    if not any(g.id == generation for g in areas.list_generations(conn)):
        raise NotFound(f"no generation {generation}", field="generation")
    return generation


def _refuse_filters(cid: str, meant_for: str, **filters: object) -> None:
    """A filter given to a collection it does not apply to is an error, not silently ignored."""
    for name, value in filters.items():
        if value is not None:
            raise InvalidInput(f"{name} filters {meant_for} collections, not {cid}", field=name)


@router.get(
    "/collections/{collectionId}/items",
    response_class=JSONResponse,
    response_model=features.FeatureCollection,
)
def items(
    collectionId: str,
    request: Request,
    stale: StaleDep,
    bbox: BBoxDep,
    page: PageDep,
    parent: str | None = Query(None, description="Areas: only the children of this area code."),
    generation: int | None = Query(
        None, ge=1, le=2**31 - 1, description="Areas: grid generation (default: the active one)."
    ),
    subclass: str | None = Query(
        None, pattern=r"^[0-9]{4}$", description="Assets: class + subclass, e.g. 0102."
    ),
    status: str | None = Query(
        None, max_length=20, description="Assets: status, e.g. damaged; enterprises: 在营 …"
    ),
    road: str | None = Query(None, max_length=50, description="Addresses: only this road, e.g. 恩县路."),
    district: str | None = Query(
        None, pattern=r"^[0-9]{6}$", description="Only the features of this district, e.g. 370202."
    ),
) -> JSONResponse:
    """Features of a collection, filtered by bbox and properties, paged with limit/offset."""
    cid = _collection_id(collectionId)
    if cid == ENTERPRISES[0]:
        _refuse_filters(cid, "area and asset", parent=parent, generation=generation, subclass=subclass)
        _refuse_filters(cid, "address", road=road)
        if status is not None and status not in ENTERPRISE_STATUSES:
            raise InvalidInput(
                f"an enterprise's status is one of {', '.join(ENTERPRISE_STATUSES)}", field="status"
            )
    elif cid == ADDRESSES[0]:
        _refuse_filters(cid, "area and asset", parent=parent, generation=generation, subclass=subclass)
        _refuse_filters(cid, "asset", status=status)
    elif cid in ASSET_COLLECTIONS:
        _refuse_filters(cid, "area", parent=parent, generation=generation)
        _refuse_filters(cid, "address", road=road)
    else:
        _refuse_filters(cid, "asset", subclass=subclass, status=status)
        _refuse_filters(cid, "address", road=road)
        if parent is not None:
            areas.level_of(parent, field="parent")

    def fetch(conn: Connection) -> tuple[list[dict[str, Any]], int]:
        if cid == ENTERPRISES[0]:
            return firms.query_features(
                conn, bbox=bbox, limit=page.limit, offset=page.offset, district=district, status=status
            )
        if cid == ADDRESSES[0]:
            return gazetteer.query_features(
                conn, bbox=bbox, road=road, limit=page.limit, offset=page.offset, district=district
            )
        if cid in ASSET_COLLECTIONS:
            return store.query_features(
                conn,
                kind=ASSET_COLLECTIONS[cid][0],
                bbox=bbox,
                subclass=subclass,
                status=status,
                limit=page.limit,
                offset=page.offset,
                district=district,
            )
        return areas.query_features(
            conn,
            level=AREA_COLLECTIONS[cid][0],
            generation=_generation(conn, generation),
            bbox=bbox,
            parent=parent,
            limit=page.limit,
            offset=page.offset,
            district=district,
        )

    rows, matched = stale(fetch)
    base = base_url(request)
    query = {k: v for k, v in request.query_params.items() if k not in ("offset", "f")}
    here = f"{base}/collections/{cid}/items"

    def href(offset: int) -> str:
        return f"{here}?{urlencode({**query, 'offset': offset, 'limit': page.limit})}"

    links = [
        link(href(page.offset), "self", GEOJSON, "this page"),
        link(f"{base}/collections/{cid}", "collection", "application/json"),
    ]
    if page.offset + len(rows) < matched:
        links.append(link(href(page.offset + page.limit), "next", GEOJSON, "next page"))
    if page.offset > 0:
        links.append(link(href(max(0, page.offset - page.limit)), "prev", GEOJSON, "previous page"))
    body = {
        "type": "FeatureCollection",
        "features": [feature(r, base, cid) for r in rows],
        "numberMatched": matched,
        "numberReturned": len(rows),
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": links,
    }
    return JSONResponse(body, media_type=GEOJSON)


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    response_class=JSONResponse,
    response_model=features.Feature,
)
def item(
    collectionId: str,
    featureId: str,
    request: Request,
    conn: ReadDep,
    generation: int | None = Query(
        None, ge=1, le=2**31 - 1, description="Grid generation (default: the active one)."
    ),
) -> JSONResponse:
    """One feature by its code (areas) or component ID (assets)."""
    cid = _collection_id(collectionId)
    base = base_url(request)
    if cid in (ADDRESSES[0], ENTERPRISES[0]):
        row = (gazetteer if cid == ADDRESSES[0] else firms).feature_row(conn, featureId)
        body = feature(row, base, cid)
        body["links"].append(link(f"{base}/collections/{cid}", "collection", "application/json"))
        return JSONResponse(body, media_type=GEOJSON)
    if cid in ASSET_COLLECTIONS:
        body = feature(store.feature_row(conn, ASSET_COLLECTIONS[cid][0], featureId), base, cid)
        body["links"].append(link(f"{base}/collections/{cid}", "collection", "application/json"))
        return JSONResponse(body, media_type=GEOJSON)
    level = AREA_COLLECTIONS[cid][0]
    gen = _generation(conn, generation)
    if areas.LEVEL_OF_LENGTH.get(len(featureId)) != level or not featureId.isdigit():
        raise NotFound(f"no {level.replace('_', '-')} with code {featureId}", field="featureId")
    row = areas.get_area(conn, featureId, gen)
    body = feature(row, base, cid)
    body["links"].append(link(f"{base}/collections/{cid}", "collection", "application/json"))
    return JSONResponse(body, media_type=GEOJSON)

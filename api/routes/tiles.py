"""``/tiles``: Mapbox Vector Tiles of the grid levels and assets, with ETags and a server cache.

A cached tile is answered on the event loop without a thread hop or a query; a miss is
rendered by PostGIS (``layers.tiles``) and kept. ``If-None-Match`` gets a 304.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.deps import READERS, get_settings, get_tile_cache, run_stale_read
from api.links import base_url
from api.schemas import service
from geo.errors import NotFound
from layers.tiles import mvt
from layers.tiles.cache import TileCache

router = APIRouter(tags=["tiles"], dependencies=READERS)
MVT = "application/vnd.mapbox-vector-tile"


def _tileset(collection: str) -> mvt.Tileset:
    try:
        return mvt.TILESETS[collection]
    except KeyError:
        known = ", ".join(mvt.TILESETS)
        raise NotFound(f"no tiles for collection {collection!r}; there are: {known}") from None


async def _fresh(request: Request, cache: TileCache) -> None:
    """Versions from where the tiles are rendered (a replica, maybe): a tile is never older than its key."""
    if cache.stale():
        cache.update(*await run_stale_read(request, mvt.versions))


@router.get(
    "/tiles",
    summary="The tilesets, their zoom ranges and current versions",
    response_model=service.Tilesets,
    response_model_exclude_unset=True,
)
async def tilesets(request: Request) -> dict[str, Any]:
    cache = get_tile_cache(request)
    await _fresh(request, cache)
    base = base_url(request)
    return {
        "tilesets": [
            {
                "id": t.name,
                "minzoom": t.minzoom,
                "maxzoom": mvt.MAX_ZOOM,
                "version": f"{cache.generation}.{cache.versions.get(t.layer)}",
                "tiles": [f"{base}/tiles/{t.name}/{{z}}/{{x}}/{{y}}.mvt"],
            }
            for t in mvt.TILESETS.values()
        ]
    }


@router.get(
    "/tiles/{collection}/{z}/{x}/{y}.mvt",
    summary="One vector tile (layer name = collection id)",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 304: {"description": "Not modified"}},
)
async def tile(
    request: Request,
    collection: str,
    z: int = Path(ge=0, le=mvt.MAX_ZOOM),
    x: int = Path(ge=0),
    y: int = Path(ge=0),
) -> Response:
    tileset = _tileset(collection)
    mvt.check_tile(z, x, y)
    cache = get_tile_cache(request)
    await _fresh(request, cache)
    if cache.generation is None:
        raise NotFound("no generation of the grid layers is active yet")
    key = cache.key(tileset, z, x, y)
    found = cache.get(key)
    if found is None:
        body = await run_stale_read(request, mvt.render, tileset, z, x, y, cache.generation)
        found = cache.put(key, body)
    public = "public" if get_settings(request).public_reads else "private"
    headers = {"ETag": found.etag, "Cache-Control": f"{public}, max-age=60", "Vary": "Authorization"}
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=MVT, headers=headers)

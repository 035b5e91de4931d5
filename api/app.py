"""The application factory: ``create_app(settings) -> FastAPI``."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import make_url
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES

from api import errors, logs, openapi
from api.auth import secret_key
from api.db import Database, make_engine, open_replica
from api.guard import Guard
from api.photo_uploads import InlinePhotos
from api.ratelimit import SharedBuckets
from api.routes import (
    addresses,
    analytics,
    areas,
    assets,
    audit,
    campaigns,
    case_pages,
    enterprise_pages,
    enterprises,
    events,
    features,
    health,
    incidents,
    locate,
    open311,
    outbox,
    pages,
    phone_pages,
    photos,
    residents,
    root,
    session,
    stats,
    supervision,
    tiles,
    tokens,
    uploads,
    workbench,
)
from api.settings import Settings, redact
from api.state import WorkerState
from layers.cases.worktime import WorkHours
from web import WEB_DIR

log = logging.getLogger("wangge.api")
UNCOMPRESSED = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    "application/vnd.mapbox-vector-tile",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/geopackage+sqlite3",
    "image/*",
)


def _buckets(settings: Settings, per_minute: int, purpose: str, window_s: float = 60.0) -> SharedBuckets:
    """Budgets in the machine-wide table of this deployment (its port's file, its database's
    namespace): two apps of one deployment share them, other deployments and purposes do not."""
    database = make_url(settings.sqlalchemy_url()).database or ""
    path = settings.var_dir / f"ratelimit-{settings.port}.buckets"
    return SharedBuckets(path, per_minute, namespace=f"{database}/{purpose}", window_s=window_s)


def rate_buckets(settings: Settings) -> SharedBuckets | None:
    """The request budgets, if limits are on (a budget is also its rate: other limits differ)."""
    if not settings.rate_limit_per_min:
        return None
    return _buckets(settings, settings.rate_limit_per_min, str(settings.rate_limit_per_min))


def signin_buckets(settings: Settings) -> tuple[SharedBuckets, SharedBuckets]:
    """Failed sign-ins per account and per address."""
    return (
        _buckets(settings, settings.signin_failures, "signin/account"),
        _buckets(settings, settings.signin_failures_per_address, "signin/address"),
    )


ADDRESS_SHARE = 10  # phones behind one carrier address (CGNAT is common): an address gets ten devices' budget


def report_buckets(settings: Settings) -> tuple[SharedBuckets, SharedBuckets] | None:
    """The public's reports an hour per device, and per address (None: off)."""
    if not settings.report_per_hour:
        return None
    hourly = settings.report_per_hour
    return (
        _buckets(settings, hourly, f"reports/device/{hourly}", 3600.0),
        _buckets(settings, hourly * ADDRESS_SHARE, f"reports/address/{hourly}", 3600.0),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the database pool opens in ``lifespan`` and closes with it."""
    settings = settings or Settings()

    work_hours = WorkHours.parse(settings.work_hours)
    secret = secret_key(settings)
    buckets = rate_buckets(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(make_engine(settings), open_replica(settings))
        app.state.worker = worker = WorkerState.open(settings, db, work_hours, secret, buckets)
        worker.signin = signin_buckets(settings)
        worker.public_reports = report_buckets(settings)
        # Built in the background: the server is ready at once, and a locate that comes
        # before the index is done waits for it on the holder's lock.
        threading.Thread(target=worker.index.warm, name="index-warm", daemon=True).start()
        log.info("database %s", redact(settings.sqlalchemy_url()))
        if db.replica is not None:
            log.info("replica %s: %s", redact(settings.replica_url or ""), db.replica.state)
        try:
            yield
        finally:
            worker.close()

    app = FastAPI(
        title="wangge",
        summary="Grid-based urban governance on PostGIS",
        version="0.1.0",
        debug=settings.debug,
        lifespan=lifespan,
        responses=errors.ERROR_RESPONSES,
        docs_url=None,  # served from the vendored Swagger UI and ReDoc (api/routes/root.py): no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    logs.install()
    errors.install(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-API-Key"],
        )
    # Text answers (JSON, GeoJSON, CSV, HTML) compressed for clients that accept gzip (large
    # ones on a thread); small answers (a locate) are not worth the CPU, nor are tiles (served
    # from the cache as they are), PDFs, spreadsheets and images (compressed already).
    # Inside the guard, so its limits still see every request first.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5, exclude_content_types=UNCOMPRESSED)
    app.add_middleware(InlinePhotos)  # a phone's form with photos → the JSON the route declares
    app.add_middleware(Guard, settings=settings, buckets=buckets)
    for module in (
        root,
        health,
        features,
        areas,
        locate,
        addresses,
        assets,
        campaigns,
        pages,
        case_pages,
        phone_pages,
        workbench,
        residents,
        supervision,
        incidents,
        events,
        session,
        tokens,
        stats,
        open311,
        audit,
        uploads,
        tiles,
        analytics,
        photos,
        outbox,
        enterprises,
        enterprise_pages,
    ):
        app.include_router(module.router)
    app.include_router(analytics.reports)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.mount("/vendor", StaticFiles(directory=WEB_DIR / "vendor"), name="vendor")
    openapi.install(app)
    return app

"""Liveness and readiness probes."""

from __future__ import annotations

import os

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api import printing
from api.db import readiness
from api.deps import DbDep, SettingsDep
from api.schemas import service as schemas

router = APIRouter(tags=["service"])


@router.get("/healthz", response_model=schemas.Health)
async def healthz() -> dict[str, str]:
    """200 while the process runs."""
    return {"status": "ok"}


@router.get("/api/capabilities", response_model=schemas.Capabilities)
async def capabilities() -> dict[str, dict[str, object]]:
    """Which optional parts are ready on this server (PDF printing, Chinese fonts) and what to install."""
    return await run_in_threadpool(printing.capabilities)


@router.get("/readyz", response_model=schemas.Readiness, responses={503: {"model": schemas.Readiness}})
def readyz(db: DbDep, settings: SettingsDep) -> JSONResponse:
    """200 when the database is reachable, has PostGIS and is migrated to head; else 503.

    With a replica, also its state and lag (checked now); a replica that is down or behind
    does not make the server unready: its reads go to the primary meanwhile.
    """
    ok, report = readiness(db.engine)
    headers = None if ok else {"Retry-After": str(settings.retry_after_s)}
    replica = db.replica.report() if db.replica is not None and db.replica.check() else {}
    return JSONResponse(
        {**report, "worker": os.getpid(), **replica}, status_code=200 if ok else 503, headers=headers
    )

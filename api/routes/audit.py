"""``GET /api/audit``: the audit log, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder

from api.deps import AdminDep, run_read
from api.schemas import accounts
from layers.accounts import audit

router = APIRouter(prefix="/api/audit", tags=["accounts"])


@router.get("", response_model=accounts.AuditLog, response_model_exclude_unset=True)
async def audit_log(
    request: Request,
    actor: AdminDep,
    user: str | None = Query(None, max_length=64, description="Entries of this user only."),
    action: str | None = Query(None, max_length=64, description="Action prefix, e.g. personal.read"),
    since: datetime | None = Query(None),
    limit: int = Query(100, ge=1, le=10_000),
) -> dict[str, Any]:
    """Newest first: changes of state, sign-ins, reads of personal data."""
    rows = await run_read(
        request, lambda conn: audit.entries(conn, actor=user, action=action, since=since, limit=limit)
    )
    return {"entries": jsonable_encoder(rows)}

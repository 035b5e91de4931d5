"""What every action on a case does around its change, for the routes that act on cases:
lock the case, refuse a stale page (``version``), apply the change, answer the case as the
actor sees it — all in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from api.deps import action_key, get_settings, run_tx
from layers.accounts.actors import Actor
from layers.cases import queries, supervision
from layers.db import keys


async def changed(
    request: Request,
    change: Callable[[Connection], object],
    case_id: int,
    actor: Actor,
    version: int | None,
    show: int | None = None,
) -> Any:
    """Apply ``change`` to case ``case_id`` if it is still at ``version`` (None: unchecked) and
    answer case ``show`` (default: the same case; a merge shows, and so first locks, both —
    in id order, as the merge itself does, so two merges never wait on each other).

    With an ``Idempotency-Key`` header an action is taken once: a replay of the key (a phone
    sending its queue again) answers the case as it is now, with ``Idempotent-Replayed``."""
    key = action_key(request)

    def work(conn: Connection) -> tuple[dict[str, Any], bool]:
        if show is not None:
            for other in sorted({case_id, show}):
                supervision.check_version(conn, other, None)
        replayed = (
            key is not None and keys.claim(conn, key, f"incident:{case_id}", actor.name) is not keys.NEW
        )
        if not replayed:
            supervision.check_version(conn, case_id, version)
            change(conn)
        return queries.get(conn, show or case_id, actor, get_settings(request).public_snap_m), replayed

    case, replayed = await run_tx(request, work)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(jsonable_encoder(case), headers=headers)

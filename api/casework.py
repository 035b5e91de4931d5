"""What every action on a case does around its change, for the routes that act on cases:
lock the case, refuse a stale page (``version``), apply the change, answer the case as the
actor sees it — all in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from sqlalchemy import Connection

from api.deps import get_settings, run_tx
from layers.accounts.actors import Actor
from layers.cases import queries, supervision


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
    in id order, as the merge itself does, so two merges never wait on each other)."""

    def work(conn: Connection) -> dict[str, Any]:
        if show is not None:
            for other in sorted({case_id, show}):
                supervision.check_version(conn, other, None)
        supervision.check_version(conn, case_id, version)
        change(conn)
        return queries.get(conn, show or case_id, actor, get_settings(request).public_snap_m)

    return jsonable_encoder(await run_tx(request, work))

"""Sign-in: the OAuth2 password flow issuing short-lived bearer tokens, and sign-out everywhere."""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import Connection

from api.auth import issue
from api.deps import StaffDep, StateDep, run_tx
from api.ratelimit import caller_of
from api.schemas import accounts
from geo.errors import RateLimited, Unauthorized
from layers.accounts import audit, users
from layers.accounts.actors import PUBLIC, Actor

router = APIRouter(prefix="/api/token", tags=["accounts"])


@router.post("", response_model=accounts.Token, response_model_exclude_unset=True)
async def token(
    request: Request, state: StateDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> dict[str, Any]:
    """Exchange a user name and password for a bearer token (``WANGGE_TOKEN_MINUTES``)."""

    account, address = f"u:{form.username[:64]}", caller_of(request.scope)
    checks = list(zip(state.signin or (), (account, address), strict=False))

    def work() -> users.User:
        now = time.monotonic()
        wait = max((buckets.peek(key, now) for buckets, key in checks), default=0.0)
        if wait > 0:  # paused after repeated failures, never locked for good: the budget refills
            with state.db.transaction() as log:
                audit.record(log, PUBLIC, "auth.throttled", f"user:{form.username[:64]}", address=address)
            raise RateLimited(f"too many failed sign-ins; retry in {math.ceil(wait)} s", wait)
        with state.db.transaction() as conn:
            try:
                user = users.authenticate(conn, form.username, form.password)
            except Unauthorized:
                for buckets, key in checks:
                    buckets.take(key, now)
                with state.db.transaction() as log:  # the failure is logged, though this rolls back
                    audit.record(log, PUBLIC, "auth.failed", f"user:{form.username[:64]}")
                raise
            audit.record(conn, Actor(user.name, user.role, user.unit), "auth.sign_in", f"user:{user.name}")
            return user

    user = await run_in_threadpool(work)
    return issue(user, state.settings, state.secret)


@router.post("/revoke", status_code=204)
async def revoke(request: Request, actor: StaffDep) -> Response:
    """Sign out everywhere: every token issued to the caller so far stops working."""

    def work(conn: Connection) -> None:
        users.revoke_tokens(conn, actor.name)
        audit.record(conn, actor, "auth.revoke", f"user:{actor.name}")

    await run_tx(request, work)
    return Response(status_code=204)

"""Sign-in: the OAuth2 password flow issuing short-lived bearer tokens, and sign-out everywhere."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import Connection

from api.auth import issue
from api.deps import StaffDep, StateDep, run_tx
from api.ratelimit import caller_of
from api.schemas import accounts
from api.signin import authenticate
from layers.accounts import audit, users

router = APIRouter(prefix="/api/token", tags=["accounts"])


@router.post("", response_model=accounts.Token, response_model_exclude_unset=True)
async def token(
    request: Request, state: StateDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> dict[str, Any]:
    """Exchange a user name and password for a bearer token (``WANGGE_TOKEN_MINUTES``)."""

    address = caller_of(request.scope)
    user = await run_in_threadpool(authenticate, state, address, form.username, form.password, "token")
    return issue(user, state.settings, state.secret)


@router.post("/revoke", status_code=204)
async def revoke(request: Request, actor: StaffDep) -> Response:
    """Sign out everywhere: every token issued to the caller so far stops working."""

    def work(conn: Connection) -> None:
        users.revoke_tokens(conn, actor.name)
        audit.record(conn, actor, "auth.revoke", f"user:{actor.name}")

    await run_tx(request, work)
    return Response(status_code=204)

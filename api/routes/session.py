"""Browser sessions: sign in from a page (an HttpOnly, SameSite=Strict cookie), who am I, sign out.

Bearer tokens (``/api/token``) and API keys stay for machines; pages use the cookie, and
send the CSRF token this answers in ``X-CSRF-Token`` with every write (``api.deps``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.auth import SESSION_COOKIE
from api.deps import ActorDep, StateDep
from api.ratelimit import caller_of
from api.schemas import accounts
from api.signin import authenticate
from layers.accounts import audit, sessions
from layers.accounts.actors import PUBLIC

router = APIRouter(prefix="/api/session", tags=["accounts"])


@router.post("", response_model=accounts.SessionInfo)
async def sign_in(
    request: Request,
    response: Response,
    state: StateDep,
    username: Annotated[str, Form(min_length=1, max_length=200)],
    password: Annotated[str, Form(min_length=1, max_length=1000)],
) -> dict[str, Any]:
    """Sign in from a page: sets the session cookie and answers the CSRF token."""
    settings = state.settings
    user = await run_in_threadpool(
        authenticate, state, caller_of(request.scope), username, password, "session"
    )

    def work() -> sessions.Session:
        with state.db.transaction() as conn:
            token, _ = sessions.open_session(conn, user, settings.session_hours)
            found = sessions.current(conn, token, settings.session_hours, settings.session_max_hours)
        response.set_cookie(
            SESSION_COOKIE, token, max_age=int(settings.session_max_hours * 3600), path="/", httponly=True,
            samesite="strict", secure=settings.public_base_url.startswith("https://"),
        )  # fmt: skip
        return found

    return (await run_in_threadpool(work)).as_json()


@router.get("", response_model=accounts.SessionInfo, response_model_exclude_none=True)
async def who(request: Request, actor: ActorDep) -> dict[str, Any]:
    """The page's session, or ``signed_in: false`` (``ended: true`` when its session has ended)."""
    session = getattr(request.state, "session", None)
    if session is None or actor is PUBLIC:
        return {"signed_in": False, "ended": bool(getattr(request.state, "session_expired", False))}
    return session.as_json()


@router.delete("", status_code=204)
async def sign_out(request: Request, state: StateDep, actor: ActorDep) -> Response:
    """Sign out of this browser: the session ends and its cookie is cleared."""
    cookie = request.cookies.get(SESSION_COOKIE)

    def work() -> None:
        with state.db.transaction() as conn:
            if cookie:
                sessions.close(conn, cookie)
            if actor is not PUBLIC:
                audit.record(conn, actor, "auth.sign_out", f"user:{actor.name}")

    await run_in_threadpool(work)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response

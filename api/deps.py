"""Every dependency of the routes: the one door to settings, the database, the worker's
state and the caller.

Routes take these as typed parameters (``ReadDep``, ``TxDep``, ``IndexDep``, ``ActorDep``…)
or call ``run_read``/``run_tx``; nothing else reaches ``request.app.state``. Tests bind
the database to a rolled-back transaction by replacing ``WorkerState.db``.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection

from api.auth import CSRF_HEADER, SESSION_COOKIE, actor_for
from api.db import Database
from api.ratelimit import caller_of
from api.settings import Settings
from api.state import WorkerState
from geo.errors import Forbidden, InvalidInput, RateLimited, Unauthorized
from layers.accounts import sessions
from layers.accounts.actors import PUBLIC, Actor
from layers.db.vocabulary import DISPATCHERS, HANDLERS, ROLES
from layers.grid.index import AreaIndex
from layers.tiles.cache import TileCache

T = TypeVar("T")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_state(request: Request) -> WorkerState:
    """The worker's state, opened in the app's lifespan."""
    worker: WorkerState = request.app.state.worker
    return worker


def get_db(request: Request) -> Database:
    return get_state(request).db


def get_tx(request: Request) -> Iterator[Connection]:
    """A connection for one request, in a transaction committed when the route returns."""
    with get_db(request).transaction() as conn:
        yield conn


def get_read(request: Request) -> Iterator[Connection]:
    """An autocommit connection for routes that only read: no BEGIN/COMMIT round trips."""
    with get_db(request).read() as conn:
        yield conn


def _reading(request: Request, fn: Callable[..., T], args: tuple[Any, ...]) -> Callable[[], T]:
    """``fn(conn, *args)`` on an autocommit connection, as a call for a worker thread."""
    db = get_db(request)

    def work() -> T:
        with db.read() as conn:
            return fn(conn, *args)

    return work


async def run_read(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(conn, *args)`` on an autocommit connection in one threadpool hop.

    For hot read routes: a sync generator dependency plus a sync route cost three
    thread hops (about a millisecond here); this costs one.
    """
    return await run_in_threadpool(_reading(request, fn, args))


async def run_stale_read(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """``run_read`` for reads that may be a moment stale: on the replica when one is usable."""
    db = get_db(request)
    return await run_in_threadpool(db.read_stale, fn, *args)


async def get_stale(request: Request) -> Callable[..., Any]:
    """For sync routes: ``stale(fn, *args)`` runs ``fn(conn, *args)`` as ``run_stale_read`` does."""
    return get_db(request).read_stale


async def run_tx(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(conn, *args)`` in one transaction in one threadpool hop."""
    db = get_db(request)

    def work() -> T:
        with db.transaction() as conn:
            return fn(conn, *args)

    return await run_in_threadpool(work)


async def run_heavy(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run CPU-heavy, pure ``fn(*args)`` (a million points of JSON) in the worker's pool of
    processes (``WANGGE_HEAVY_JOBS`` of them): JSON parsing holds the GIL for a second, so a
    thread would make ``/healthz`` and every light request wait (pyarrow's CSV does not)."""
    return await asyncio.wrap_future(get_state(request).pool().submit(fn, *args))


async def run_heavy_thread(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run heavy ``fn(*args)`` that needs this process (a connection, the caches) on a
    thread, at most ``WANGGE_HEAVY_JOBS`` at once."""
    return await anyio.to_thread.run_sync(lambda: fn(*args), limiter=get_state(request).heavy)


async def run_heavy_stale(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """``run_heavy_thread`` with a connection, for reads that may be a moment stale (the replica)."""
    return await run_heavy_thread(request, get_db(request).read_stale, fn, *args)


async def get_index(request: Request) -> AreaIndex:
    """The worker's index; checking for a new generation (a query, maybe a rebuild) runs
    in the threadpool, the common case returns at once without leaving the event loop."""
    holder = get_state(request).index
    fresh = holder.fresh()
    return fresh if fresh is not None else await run_in_threadpool(holder.get)


def charge(request: Request, tokens: float, what: str) -> None:
    """Spend ``tokens`` more of the caller's rate budget for a heavy operation (the request
    itself cost one); a 429 with Retry-After when the budget does not hold them."""
    rate = get_state(request).rate
    if rate is None or tokens <= 0:
        return
    wait = rate.take(caller_of(request.scope), time.monotonic(), tokens)
    if wait > 0:
        raise RateLimited(
            f"{what} costs {tokens:,.0f} requests of your budget; retry in {math.ceil(wait)} s", wait
        )


IDEMPOTENCY_KEY = re.compile(r"^[!-~]{8,200}$")


def action_key(request: Request) -> str | None:
    """The request's ``Idempotency-Key`` (8–200 printable characters), if it sends one."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise InvalidInput("an Idempotency-Key is 8 to 200 printable characters", field="Idempotency-Key")
    return key


DEVICE_HEADER = "X-Device-Id"  # the resident page's random id of the phone (localStorage)


def charge_public_report(request: Request, actor: Actor, cost: float = 1.0) -> None:
    """The public files at most ``WANGGE_REPORT_PER_HOUR`` reports an hour per device and per
    address (a follow counts as one, a photo as a third); staff are not limited here."""
    buckets = get_state(request).public_reports
    if actor is not PUBLIC or buckets is None:
        return
    device = (request.headers.get(DEVICE_HEADER) or "")[:64] or caller_of(request.scope)
    now = time.monotonic()
    per_device, per_address = buckets
    waits = [per_device.peek(device, now, cost), per_address.peek(caller_of(request.scope), now, cost)]
    if max(waits) > 0:
        minutes = math.ceil(max(waits) / 60)
        raise RateLimited(f"too many reports from here; you can report again in {minutes} min", max(waits))
    per_device.take(device, now, cost)
    per_address.take(caller_of(request.scope), now, cost)


def get_tile_cache(request: Request) -> TileCache:
    return get_state(request).tiles


# Dependencies that only read app.state are async: FastAPI runs a sync dependency on the
# threadpool, a hop of a few hundred microseconds that the hot paths (locate) cannot pay.
async def _settings(request: Request) -> Settings:
    return get_settings(request)


async def _state(request: Request) -> WorkerState:
    return get_state(request)


async def _db(request: Request) -> Database:
    return get_db(request)


SettingsDep = Annotated[Settings, Depends(_settings)]
StateDep = Annotated[WorkerState, Depends(_state)]
DbDep = Annotated[Database, Depends(_db)]
TxDep = Annotated[Connection, Depends(get_tx)]
ReadDep = Annotated[Connection, Depends(get_read)]
StaleDep = Annotated[Callable[..., Any], Depends(get_stale)]
IndexDep = Annotated[AreaIndex, Depends(get_index)]


# --- the caller -------------------------------------------------------------------------

bearer = HTTPBearer(auto_error=False, description="A token from POST /api/token, or an API key (wg_…).")
key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (wg_…).")
key_query = APIKeyQuery(name="api_key", auto_error=False, description="An API key (Open311's POST only).")
OpenKeyDep = Annotated[str | None, Security(key_query)]


async def credential_of(
    request: Request,
    token: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    header_key: Annotated[str | None, Security(key_header)],
) -> str | None:
    """The credential the caller sent in a header, if any (a malformed Authorization header is
    a 401). An ``api_key`` in the query string counts only where Open311 says so (its POST):
    elsewhere it would land in access logs and browser histories."""
    if token is not None and token.credentials.strip():
        return token.credentials.strip()
    if request.headers.get("authorization"):
        raise Unauthorized("use Authorization: Bearer <token or API key>")
    return header_key


CredentialDep = Annotated[str | None, Depends(credential_of)]


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


SESSION_PATH = "/api/session"


def _session_actor(request: Request, state: WorkerState, cookie: str) -> Actor:
    """The user of a session cookie; a write without the session's CSRF token is refused.
    An ended session is a 401 ``session_expired`` everywhere — the page signs in again and
    goes on, it never silently shows the public's view — except on ``/api/session`` itself,
    where one signs in again or out (which clears the cookie)."""
    settings = state.settings
    try:
        with state.db.read() as conn:
            session = sessions.current(conn, cookie, settings.session_hours, settings.session_max_hours)
    except Unauthorized:
        if request.url.path != SESSION_PATH:
            raise
        request.state.session_expired = True
        return PUBLIC
    if request.method not in SAFE_METHODS and not sessions.csrf_matches(
        session, request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden(f"a write from a signed-in page needs its {CSRF_HEADER} header", code="csrf")
    request.state.session = session
    return session.actor


async def get_actor(request: Request, credential: CredentialDep) -> Actor:
    """The caller as an ``Actor``: the public at once when no credentials are given (no
    thread hop, no query), else the user behind them, checked in the database: a bearer
    token or API key, or else the browser's session cookie."""
    state = get_state(request)
    if credential is None:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return PUBLIC
        return await run_in_threadpool(_session_actor, request, state, cookie)

    def check() -> Actor:
        with state.db.read() as conn:
            return actor_for(conn, credential, state.secret)

    return await run_in_threadpool(check)


ActorDep = Annotated[Actor, Depends(get_actor)]


async def require_reader(request: Request) -> None:
    """Reads are public unless ``WANGGE_PUBLIC_READS=false``; then they need a signed-in staff role.

    Async and free when reads are public: the hot read paths (locate) pay nothing for it."""
    if get_settings(request).public_reads:
        return
    credential = await credential_of(request, await bearer(request), await key_header(request))
    actor = await get_actor(request, credential)
    if actor is PUBLIC:
        raise Unauthorized("sign in to read: this platform's data is not public (WANGGE_PUBLIC_READS=false)")


READERS = [Depends(require_reader)]


REQUIRES_SIGN_IN = "requires_sign_in"  # marks the checks below for the OpenAPI document (api.openapi)


def require(*roles: str) -> Any:
    """A dependency that lets only ``roles`` through (401 for the public, 403 for others)."""

    async def check(actor: ActorDep) -> Actor:
        if actor is PUBLIC:
            raise Unauthorized(f"sign in as {' or '.join(roles)}")
        if actor.role not in roles:
            raise Forbidden(f"a {actor.role} may not do this; it needs {' or '.join(roles)}")
        return actor

    setattr(check, REQUIRES_SIGN_IN, True)
    return Depends(check)


StaffDep = Annotated[Actor, require(*ROLES)]
HandlerDep = Annotated[Actor, require(*HANDLERS)]
DispatcherDep = Annotated[Actor, require(*DISPATCHERS)]
AdminDep = Annotated[Actor, require("admin")]

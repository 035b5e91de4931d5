"""Checking a user name and password, for tokens and for browser sessions alike: paused
(never locked for good) after repeated failures per account and per address, every
attempt in the audit log."""

from __future__ import annotations

import math
import time

from api.state import WorkerState
from geo.errors import RateLimited, Unauthorized
from layers.accounts import audit, users
from layers.accounts.actors import PUBLIC, Actor


def authenticate(state: WorkerState, address: str, username: str, password: str, via: str) -> users.User:
    """The user behind a name and password (blocking: call it on a worker thread)."""
    account = f"u:{username[:64]}"
    checks = list(zip(state.signin or (), (account, address), strict=False))
    now = time.monotonic()
    wait = max((buckets.peek(key, now) for buckets, key in checks), default=0.0)
    if wait > 0:  # paused after repeated failures, never locked for good: the budget refills
        with state.db.transaction() as log:
            audit.record(log, PUBLIC, "auth.throttled", f"user:{username[:64]}", address=address)
        raise RateLimited(f"too many failed sign-ins; retry in {math.ceil(wait)} s", wait)
    with state.db.transaction() as conn:
        try:
            user = users.authenticate(conn, username, password)
        except Unauthorized:
            for buckets, key in checks:
                buckets.take(key, now)
            with state.db.transaction() as log:  # the failure is logged, though this rolls back
                audit.record(log, PUBLIC, "auth.failed", f"user:{username[:64]}")
            raise
        audit.record(
            conn, Actor(user.name, user.role, user.unit), "auth.sign_in", f"user:{user.name}", via=via
        )
        return user

"""Typed dependencies shared by the routes (database connection, settings)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine

from api.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_connection(request: Request) -> Iterator[Connection]:
    """A connection for one request, in a transaction committed when the route returns."""
    with request.app.state.engine.begin() as conn:
        yield conn


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ConnDep = Annotated[Connection, Depends(get_connection)]

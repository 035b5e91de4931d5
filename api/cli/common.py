"""What every command shares: the Typer app, settings, the engine, who the CLI acts as."""

from __future__ import annotations

import typer
from sqlalchemy import Engine

from api.settings import Settings
from layers.accounts.actors import Actor

app = typer.Typer(
    help="wangge: grid-based urban governance on PostGIS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
CLI = Actor("cli", "admin")  # who the command line acts as, in the audit log


def load_settings() -> Settings:
    """The settings, read when a command starts (never at import)."""
    return Settings()


def engine() -> Engine:
    """An engine on a database migrated to head (else a one-line error)."""
    from api.db import make_engine, require_head

    engine = make_engine(load_settings(), pool_size=1)
    require_head(engine)
    return engine

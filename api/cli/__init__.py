"""The ``wangge`` command line, one module per command group.

Every failure the user can fix ends in one line on stderr that says what to do and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from api.cli import accounts, analysis, cases, database, demo, enterprises, layers, serve  # noqa: F401
from api.cli.common import app
from geo.errors import WanggeError


def main() -> None:
    """Entry point of the ``wangge`` script: domain errors become one line and exit 1."""
    try:
        app()
    except WanggeError as exc:
        typer.echo(f"wangge: {exc.message}", err=True)
        sys.exit(1)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "WANGGE_" + str(first["loc"][0]).upper() if first["loc"] else "?"
        typer.echo(f"wangge: setting {name}: {first['msg']} (got {first.get('input')!r})", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)

"""``wangge users``: accounts, roles, API keys."""

from __future__ import annotations

import typer

from api.cli.common import CLI, app, engine

group = typer.Typer(help="Accounts: users, roles, API keys.", no_args_is_help=True)
app.add_typer(group, name="users")


@group.command("add")
def users_add(
    name: str = typer.Argument(..., help="Sign-in name."),
    role: str = typer.Option(..., help="admin, dispatcher, planner, field or viewer."),
    unit: str = typer.Option(None, help="Department or area code the user works for (field staff)."),
    machine: bool = typer.Option(False, help="No password: a machine source that uses API keys."),
) -> None:
    """Add a user; the password is asked for (or read from WANGGE_NEW_PASSWORD)."""
    import os

    from layers.accounts import audit, users

    password = None
    if not machine:
        password = os.environ.get("WANGGE_NEW_PASSWORD") or typer.prompt(
            "password", hide_input=True, confirmation_prompt=True
        )
    with engine().begin() as conn:
        users.add(conn, name, role, password, unit)
        audit.record(conn, CLI, "user.add", f"user:{name}", role=role, unit=unit)
    typer.echo(f"wangge: added {role} {name}" + (f" of {unit}" if unit else ""))


@group.command("list")
def users_list() -> None:
    """Every user with role, unit, state and live API keys."""
    from layers.accounts import users

    with engine().connect() as conn:
        rows = users.listing(conn)
    for r in rows:
        state = "disabled" if r["disabled"] else "active"
        typer.echo(f"{r['name']:<24} {r['role']:<10} {r['unit'] or '-':<20} {state:<8} keys: {r['keys']}")
    typer.echo(f"wangge: {len(rows)} users")


@group.command("disable")
def users_disable(name: str = typer.Argument(...)) -> None:
    """Disable a user: sign-in refused, tokens and API keys revoked at once."""
    from layers.accounts import audit, users

    with engine().begin() as conn:
        users.disable(conn, name)
        audit.record(conn, CLI, "user.disable", f"user:{name}")
    typer.echo(f"wangge: disabled {name}; their tokens and API keys no longer work")


@group.command("apikey")
def users_apikey(
    name: str = typer.Argument(...), label: str = typer.Option("", help="What it is for.")
) -> None:
    """Issue an API key for a (machine) user; it is printed once and never stored."""
    from layers.accounts import audit, users

    with engine().begin() as conn:
        key = users.new_api_key(conn, name, label)
        audit.record(conn, CLI, "user.apikey", f"user:{name}", label=label)
    typer.echo(key)

"""The layout is the architecture: import rules, no SQL in the web layer, the README's map."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    """geo ← layers ← api, web imports nothing, routes never import routes (pyproject's contracts)."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "broken" in done.stdout and " 0 broken" in done.stdout


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_no_sql_in_the_routes() -> None:
    """Routes call layers; SQL (text or Core) lives there."""
    for path in sorted((ROOT / "api" / "routes").glob("*.py")):
        used = _imports(path)
        assert "sqlalchemy.text" not in used, path.name
        assert not any(u.startswith("sqlalchemy.") and u.split(".")[-1] in ("select", "insert") for u in used)


def test_no_route_reaches_app_state() -> None:
    """``api.deps`` is the one door to the worker's state."""
    for path in sorted((ROOT / "api").rglob("*.py")):
        if path.name not in ("deps.py", "app.py"):
            assert "app.state" not in path.read_text(encoding="utf-8").replace(
                "(``app.state.worker``)", ""
            ), path


def test_every_package_says_what_lives_there() -> None:
    for init in sorted([*(ROOT / "layers").rglob("__init__.py"), *(ROOT / "api").rglob("__init__.py")]):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, init


def test_readme_layout_table_matches_the_tree() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Layout") : readme.index("## Development")]
    listed = set(re.findall(r"`([a-z_/]+/)`", table))
    packages = {f"layers/{p.parent.name}/" for p in (ROOT / "layers").glob("*/__init__.py")}
    packages |= {f"api/{p.parent.name}/" for p in (ROOT / "api").glob("*/__init__.py")}
    assert packages <= listed, sorted(packages - listed)
    nested = {p for p in listed if p.count("/") == 2 and p.startswith(("layers/", "api/"))}
    assert nested <= packages, f"the table names folders that are gone: {sorted(nested - packages)}"

"""House rules that keep the layout honest (DESIGN.md, STYLE.md)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["narrative", "server", "mobile_bridge", "affect", "genmodels", "web_client"]
# The pure core may use the standard library, pydantic and PyYAML (the story file parser).
BANNED_IN_PURE = {
    "asyncio", "socket", "fastapi", "starlette", "sqlalchemy", "redis", "aiortc", "websockets",
    "server", "mobile_bridge", "genmodels", "logging", "time", "secrets", "os", "subprocess",
}  # fmt: skip


@pytest.mark.parametrize("name", PACKAGES)
def test_each_package_says_what_it_owns_and_exports_real_names(name):
    module = importlib.import_module(name)
    assert module.__doc__ and len(module.__doc__.split()) > 10
    for exported in module.__all__:
        assert hasattr(module, exported), f"{name}.__all__ names missing {exported}"


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted((ROOT / "narrative").glob("*.py")), ids=lambda p: p.name)
def test_narrative_stays_pure(path):
    banned = imported_roots(path) & (BANNED_IN_PURE | {"affect", "numpy"})
    assert not banned, f"{path.name} imports {sorted(banned)}"


def test_only_the_ink_runtime_module_imports_bink():
    # DESIGN.md: narrative may import bink for computation only; one typed module wraps it.
    users = {
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "bink" in imported_roots(path)
    }
    assert users == {"narrative/ink_runtime.py"}


def test_no_module_grows_past_the_house_limit():
    big = {
        str(path.relative_to(ROOT)): n
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert big == {}

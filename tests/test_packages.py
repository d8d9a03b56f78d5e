"""House rules that keep the layout honest (DESIGN.md, STYLE.md)."""

from __future__ import annotations

import ast
import importlib
import re
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


# -- the import graph -----------------------------------------------------------------

OURS = ("narrative", "affect", "mobile_bridge", "genmodels", "server", "web_client")
DESIGN = ROOT.parent / "shared" / "DESIGN.md"  # beside the checkout on a developer's machine
# Arrows our README's table allows that DESIGN.md's table does not list, and why.
BEYOND_DESIGN = {
    ("affect", "narrative"): "the mood sample the per-viewer pipeline produces",
    ("server", "web_client"): "the pages' files, found by web_client's one module",
}


def readme_table() -> dict[str, set[str]]:
    """README's Layout table: package → the packages (or subpackages) it may import."""
    layout = (ROOT / "README.md").read_text(encoding="utf-8").split("## Layout", 1)[1]
    table: dict[str, set[str]] = {}
    for line in layout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = cells[0].strip("`/") if cells else ""
        if len(cells) == 3 and name in OURS:
            table[name] = set(re.findall(r"`([a-z_.]+)`", cells[2]))
    return table


def imports_of(package: str) -> dict[str, set[str]]:
    """Every module of ours that ``package`` imports (at any depth: lazy imports too),
    with the files that do."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] in OURS and name.split(".")[0] != package:
                    found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def allowed(module: str, table: set[str]) -> bool:
    return any(module == entry or module.startswith(entry + ".") for entry in table)


def test_the_layout_table_names_every_package_as_design_md_does():
    """Every package has its row; where DESIGN.md is beside the checkout (a developer's
    machine; CI clones the repository alone), the rows allow nothing DESIGN.md does not
    but the arrows `BEYOND_DESIGN` names."""
    ours = readme_table()
    assert set(ours) == set(OURS)
    if not DESIGN.exists():
        return
    design = design_table(DESIGN.read_text(encoding="utf-8"))
    for package in OURS:
        extra = {
            m for m in ours[package] - design.get(package, set())
            if (package, m) not in BEYOND_DESIGN
        }  # fmt: skip
        assert extra == set(), f"{package}: README allows {extra}, DESIGN.md does not"


@pytest.mark.parametrize("package", OURS)
def test_a_package_imports_only_what_the_layout_table_allows(package):
    table = readme_table()[package]
    wrong = {m: sorted(files) for m, files in imports_of(package).items() if not allowed(m, table)}
    assert wrong == {}, f"{package} may import only {sorted(table)}"


def design_table(text: str) -> dict[str, set[str]]:
    """DESIGN.md's package table: package → ours it may import ("the media part of
    mobile_bridge" is `mobile_bridge.media`, "everything above" every earlier row)."""
    table: dict[str, set[str]] = {}
    for line in text.split("## Packages", 1)[1].split("\n\n", 2)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = cells[0].strip("`/") if cells else ""
        if len(cells) != 3 or name not in OURS:
            continue
        may = cells[2]
        if "everything above" in may:
            table[name] = set(table)
            continue
        names = {n for n in OURS if re.search(rf"\b{n}\b", may)}
        if "media part of mobile_bridge" in may:
            names = (names - {"mobile_bridge"}) | {"mobile_bridge.media"}
        table[name] = names
    return table


# The room's core (server.rooms.core and what it is built of) is as pure as narrative/:
# no clock, chance, logging or socket, and none of the room's I/O shell.
ROOM_CORE = ("core", "effects", "live_feed", "audience", "views", "inbox")
BANNED_IN_ROOM_CORE = BANNED_IN_PURE - {"server", "mobile_bridge", "genmodels"}
ROOM_SHELL = {
    "server.persistence", "server.persistence.store", "server.rooms.room",
    "server.rooms.registry", "server.rooms.delivery", "server.rooms.outbox",
    "server.rooms.page", "server.rooms.fill_ins", "server.rooms.film_cues",
}  # fmt: skip


@pytest.mark.parametrize("name", ROOM_CORE)
def test_the_room_core_stays_pure(name):
    path = ROOT / "server" / "rooms" / f"{name}.py"
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    banned = {m for m in modules if m.split(".")[0] in BANNED_IN_ROOM_CORE or m in ROOM_SHELL}
    assert not banned, f"{name}.py imports {sorted(banned)}"

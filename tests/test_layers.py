"""The package map in docs/design.md is a whiteboard the code is checked against: every import in
``src/recomp`` (lazy and type-only imports included) must be one its package's row allows."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import ROOT

SOURCE = ROOT / "src" / "recomp"


def package_map() -> dict[str, set[str]]:
    """The design's map: package -> the packages it may import (besides itself)."""
    design = (ROOT / "docs" / "design.md").read_text()
    section = design.split("## Packages and layers", 1)[1].split("\n#", 1)[0]
    allowed: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        packages = re.findall(r"`(recomp[\w.]*)`", cells[0])
        may = set(re.findall(r"`(recomp[\w.]*)`", cells[2]))
        for package in packages:
            allowed[package] = may | set(packages)
    return allowed


def owner(module: str, packages: set[str]) -> str:
    """The package of the map a module belongs to (the longest that contains it)."""
    candidates = [p for p in packages if module == p or module.startswith(p + ".")]
    assert candidates, f"{module} is in no package of the design's map"
    return max(candidates, key=len)


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """Every recomp module the file imports, wherever the import statement is."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, name) for line, name in found if name == "recomp" or name.startswith("recomp.")]


def test_the_map_names_every_package_and_module():
    allowed = package_map()
    assert {"recomp.ir", "recomp.frontends", "recomp.opt", "recomp.backend", "recomp.runtime"} <= set(allowed)
    for path in SOURCE.rglob("*.py"):
        owner(module_name(path), set(allowed))


def test_no_import_runs_the_wrong_way():
    allowed = package_map()
    packages = set(allowed)
    wrong = []
    for path in sorted(SOURCE.rglob("*.py")):
        mine = owner(module_name(path), packages)
        for line, name in imports(path):
            theirs = owner(name, packages)
            if theirs not in allowed[mine]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {mine} imports {name}")
    assert not wrong, "imports the package map (docs/design.md) does not allow:\n" + "\n".join(wrong)


def test_the_backend_knows_no_frontend_and_nobody_asks_a_frontend_with_getattr():
    for path in (SOURCE / "backend").rglob("*.py"):
        assert not any(name.startswith("recomp.frontends") for _, name in imports(path)), path
    for path in SOURCE.rglob("*.py"):
        if "frontends" not in path.parts:  # the Frontend class declares every member others use
            assert not re.search(r"getattr\([\w.]*frontend\b", path.read_text()), path

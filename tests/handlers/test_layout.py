"""The handlers' layout holds: customer and staff handlers never import each other, the feedback desk
imports neither, and the shared plumbing at handlers/ top imports none of the three."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
SIDES = ("handlers.customer", "handlers.staff", "handlers.desk")
FORBIDDEN = {
    "handlers.customer": ("handlers.staff",),
    "handlers.staff": ("handlers.customer",),
    "handlers.desk": ("handlers.customer", "handlers.staff"),
    "handlers": SIDES,  # the shared modules
}


def _package(path: Path) -> str:
    parts = path.relative_to(HANDLERS.parent).with_suffix("").parts
    return ".".join(parts[:2]) if len(parts) > 2 else "handlers"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, `from a import b` counted as both a and a.b."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


@pytest.mark.parametrize("path", sorted(HANDLERS.rglob("*.py")), ids=lambda p: str(p.relative_to(HANDLERS)))
def test_no_handler_imports_across_sides(path: Path) -> None:
    forbidden = FORBIDDEN[_package(path)]
    crossing = sorted(m for m in _imports(path) if any(_within(m, f) for f in forbidden))
    assert crossing == []


def test_the_rule_sees_a_crossing(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text("from handlers.staff import roles\nfrom handlers import customer\n")
    assert {"handlers.staff.roles", "handlers.customer"} <= _imports(source)
    assert _package(HANDLERS / "customer" / "feedback.py") == "handlers.customer"
    assert _package(HANDLERS / "paging.py") == "handlers"

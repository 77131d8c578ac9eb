"""The shape of the code: imports between rooms and between features, the largest files and functions.

    python bench/shape.py [ROOT] [--top N] [--edges]

ROOT is a checkout (default: this one). Reads `ROOT/src/copbot` with `ast` only (nothing is imported or
run, so any revision can be measured, e.g. a `git worktree` of an older commit). A room is a top-level
module or package of `copbot`; the features are the rooms `features.py` lists in its registry. Every
import counts, those inside functions included. Prints the feature-to-feature edges (A -> B: some module
of A imports from B), the edges between all rooms, the largest files by lines and the largest functions
by lines (decorators and docstrings included). For duplicated blocks, run `duplicates --repo src --most 200`.
"""

from __future__ import annotations

import argparse
import ast
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "copbot"


@dataclass
class Shape:
    """What one walk over the package found."""

    features: list[str]
    edges: Counter[tuple[str, str]] = field(default_factory=Counter)  # (from room, to room) -> imports
    files: list[tuple[int, str]] = field(default_factory=list)  # (lines, path)
    functions: list[tuple[int, str]] = field(default_factory=list)  # (lines, path:line name)

    def feature_edges(self) -> list[tuple[str, str]]:
        """Distinct edges between two different features."""
        return sorted((a, b) for a, b in self.edges if a != b and a in self.features and b in self.features)

    def room_edges(self) -> list[tuple[str, str]]:
        """Distinct edges between two different rooms (features and core alike)."""
        return sorted((a, b) for a, b in self.edges if a != b)


def room_of(module: str) -> str | None:
    """`copbot.reviews.handlers` -> `reviews`; None for modules outside the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == PACKAGE else None


def module_name(package_dir: Path, path: Path) -> str:
    """The dotted name of a file below the package."""
    relative = path.relative_to(package_dir.parent).with_suffix("")
    parts = list(relative.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(tree: ast.AST, current: str, is_package: bool) -> list[str]:
    """Every module an `import` or `from ... import` names, relative imports resolved."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = current.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from copbot import reviews` names the room in the alias
            found += [f"{base}.{alias.name}" for alias in node.names] if base == PACKAGE else [base]
    return found


def registry_features(package_dir: Path) -> list[str]:
    """The rooms `features.py` builds its FEATURES tuple from (`room.FEATURE`)."""
    tree = ast.parse((package_dir / "features.py").read_text(encoding="utf-8"))
    names = [
        node.value.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "FEATURE" and isinstance(node.value, ast.Name)
    ]
    return sorted(set(names))


def measure(root: Path) -> Shape:
    """Walk `root/src/copbot`."""
    package_dir = root / "src" / PACKAGE
    shape = Shape(features=registry_features(package_dir))
    for path in sorted(package_dir.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        name = module_name(package_dir, path)
        shape.files.append((len(source.splitlines()), str(path.relative_to(root / "src"))))
        here = room_of(name) or PACKAGE
        for target in imported_modules(tree, name, path.name == "__init__.py"):
            there = room_of(target)
            if there is not None:
                shape.edges[(here, there)] += 1
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                where = f"{path.relative_to(root / 'src')}:{node.lineno} {node.name}"
                shape.functions.append((node.end_lineno - start + 1, where))
    return shape


def report(shape: Shape, *, top: int, edges: bool) -> str:
    """The figures as text."""
    feature_edges = shape.feature_edges()
    lines = [
        f"features ({len(shape.features)}): {', '.join(shape.features)}",
        f"feature -> feature edges: {len(feature_edges)}",
        *(f"  {a} -> {b} ({shape.edges[(a, b)]} imports)" for a, b in feature_edges),
        f"room -> room edges (core included): {len(shape.room_edges())}",
    ]
    if edges:
        lines += [f"  {a} -> {b} ({shape.edges[(a, b)]})" for a, b in shape.room_edges()]
    files = sorted(shape.files, reverse=True)
    functions = sorted(shape.functions, reverse=True)
    lines += [
        f"files: {len(files)}, lines: {sum(n for n, _ in files)}",
        f"largest files (top {top}):",
        *(f"  {n:5d} {path}" for n, path in files[:top]),
        f"functions: {len(functions)}; over 50 lines: {sum(1 for n, _ in functions if n > 50)}",
        f"largest functions (top {top}):",
        *(f"  {n:5d} {where}" for n, where in functions[:top]),
    ]
    return "\n".join(lines)


def main() -> None:
    """Measure a checkout and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("root", nargs="?", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--top", type=int, default=10, help="how many of the largest files and functions")
    parser.add_argument("--edges", action="store_true", help="list every room -> room edge")
    args = parser.parse_args()
    print(report(measure(Path(args.root)), top=args.top, edges=args.edges))


if __name__ == "__main__":
    main()

"""The import graph of ``bci/``: cycles, layer rules, and modules over ~500 lines.

Every ``import``/``from ... import`` of a ``bci`` module counts, at module level or inside a
function, under ``TYPE_CHECKING`` or not: a lazy import hides a cycle from Python, not from
the design. Run ``python tools/import_graph.py`` from the repository root; it prints the
cycles, the broken layer rules and the long modules (with the reason stated at their top, if
any) and exits with 1 when there is a cycle or a broken rule.

A module over :data:`MAX_LINES` states why in a comment line starting with ``# Long module:``
within its first 60 lines (continued on the following ``# `` lines).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "LAYER_RULES",
    "MAX_LINES",
    "broken_rules",
    "cycles",
    "import_graph",
    "long_modules",
]

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 500

#: (importer prefix, imported prefix): imports that must not exist.
LAYER_RULES: tuple[tuple[str, str], ...] = (
    ("bci.streams", "bci.datasets"),
    ("bci.streams", "bci.decoders"),
    ("bci.decoders", "bci.streams"),
    ("bci.recordings", "bci.streams"),
    ("bci.recordings", "bci.datasets"),
    ("bci.signal", "bci.streams"),
    ("bci.signal", "bci.datasets"),
    ("bci.signal", "bci.decoders"),
    ("bci.signal", "bci.online"),
    ("bci.datasets", "bci.online"),
    ("bci.decoders", "bci.online"),
    ("bci.streams", "bci.online"),
    ("bci.online", "bci.api"),
    ("bci.online", "bci.cli"),
    ("bci.evaluation", "bci.cli"),
    ("bci.analysis", "bci.cli"),
)
#: Third-party packages only ``bci.api`` (and the CLI that serves it) may import.
API_ONLY = ("fastapi", "starlette", "uvicorn")


def _module_name(path: Path, package_root: Path) -> str:
    parts = list(path.relative_to(package_root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def import_graph(package_root: Path = ROOT / "bci") -> tuple[dict[str, set[str]], set[str]]:
    """Edges ``module -> bci modules it imports`` and the modules importing API-only packages.

    ``from bci.x import y`` counts as an import of ``bci.x.y`` when that is a module, else of
    ``bci.x``.
    """
    files = {_module_name(p, package_root): p for p in sorted(package_root.rglob("*.py"))}
    graph: dict[str, set[str]] = {m: set() for m in files}
    api_users: set[str] = set()
    for mod, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, is_package, node)
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names
                ]
            for t in targets:
                if t.split(".")[0] in API_ONLY:
                    api_users.add(mod)
                while t and t not in files:
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    graph[mod].add(t)
    return graph, api_users


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def _is_under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def broken_rules(graph: dict[str, set[str]], api_users: Iterable[str]) -> list[str]:
    """Imports that break :data:`LAYER_RULES`, and API packages imported below ``bci.api``."""
    out = [
        f"{src} imports {dst} (rule: {a} must not import {b})"
        for src, dsts in sorted(graph.items())
        for dst in sorted(dsts)
        for a, b in LAYER_RULES
        if _is_under(src, a) and _is_under(dst, b)
    ]
    out += [
        f"{m} imports one of {', '.join(API_ONLY)} (only bci.api and bci.cli may)"
        for m in sorted(api_users)
        if not (_is_under(m, "bci.api") or _is_under(m, "bci.cli"))
    ]
    return out


def _reason(head: list[str]) -> str | None:
    """The ``# Long module:`` comment in ``head`` (with its continuation lines), or None."""
    for i, line in enumerate(head):
        if line.startswith("# Long module:"):
            parts = [line.split(":", 1)[1].strip()]
            for more in head[i + 1 :]:
                if not more.startswith("# ") or more.startswith("# Long module:"):
                    break
                parts.append(more[2:].strip())
            return " ".join(parts)
    return None


def long_modules(package_root: Path = ROOT / "bci") -> list[tuple[str, int, str | None]]:
    """``(path, lines, reason or None)`` of the modules over :data:`MAX_LINES` lines."""
    out = []
    for p in sorted(package_root.rglob("*.py")):
        lines = p.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES:
            reason = _reason(lines[:60])
            out.append((str(p.relative_to(package_root.parent)), len(lines), reason))
    return out


def main() -> int:
    """Print the report; 1 if there is a cycle or a broken rule."""
    graph, api_users = import_graph()
    found = cycles(graph)
    rules = broken_rules(graph, api_users)
    n_edges = sum(len(v) for v in graph.values())
    print(f"{len(graph)} modules, {n_edges} imports between them")
    print(f"cycles: {len(found)}")
    for comp in found:
        print("  " + " <-> ".join(comp))
    print(f"broken layer rules: {len(rules)}")
    for r in rules:
        print("  " + r)
    print(f"modules over {MAX_LINES} lines:")
    for path, n, reason in long_modules():
        print(f"  {path:<36} {n:>5}  {reason or 'NO REASON STATED'}")
    return 1 if found or rules else 0


if __name__ == "__main__":
    sys.exit(main())

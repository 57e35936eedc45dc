"""The shape of the code, checked: no import circles among the modules of shared/ and services/, and no
source file there longer than a screen (docs/decisions/010-module-map.md).

Every import counts, wherever it is written: at module level, inside a function, or under
`if TYPE_CHECKING:` — a circle hidden in a function is still two modules that cannot be read (or
changed) one without the other.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "services")
MAX_LINES = 300
NOT_SOURCE = ("services/gateway/static",)


def _sources() -> dict[str, Path]:
    """Module name -> file, for every .py file under the checked packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(NOT_SOURCE) or "__pycache__" in rel:
                continue
            parts = rel[:-3].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The checked modules `module` imports: `import a.b` and `from a import b` name a.b when it is a
    module, else the nearest enclosing module that is one (`from a.b import Name` -> a.b)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            targets = [t for t in targets if resolve(t) == t] or [base]
        else:
            continue
        found |= {m for t in targets if (m := resolve(t)) and m != module}
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _sources()
    known = set(modules)
    return {name: _imported(name, path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[str]:
    """One circle per strongly connected component of more than one module (Tarjan), each written as a
    path a -> b -> ... -> a through the component, followed by the component's other modules, if any."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:  # recursion depth is bounded by the module count (a few hundred)
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    out = []
    for component in components:
        circle = _circle_in(component, graph)
        rest = sorted(component - set(circle))
        out.append(" -> ".join(circle) + (f"   (same component: {', '.join(rest)})" if rest else ""))
    return out


def _circle_in(component: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest circle through the component's first module (breadth-first back to it)."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    following.append(w)
        frontier = following
    return sorted(component)  # unreachable for a strongly connected component


def test_no_import_circles():
    found = cycles(import_graph())
    assert not found, "import circles:\n" + "\n".join("  " + c for c in found)


def test_no_source_file_longer_than_a_screen():
    long = {path.relative_to(ROOT).as_posix(): n for path in _sources().values()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"files over {MAX_LINES} lines: {long}"


# -- the checker itself ----------------------------------------------------------------------------
def test_the_checker_finds_a_circle_hidden_in_a_function_and_under_type_checking(tmp_path, monkeypatch):
    pkg = tmp_path / "shared"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from shared.b import thing\n")
    (pkg / "b.py").write_text("def f():\n    from shared import c\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import X\n")
    (pkg / "d.py").write_text("import shared.a\n")  # into the circle, not part of it
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGES", ("shared",))
    graph = import_graph()
    assert graph["shared.b"] == {"shared", "shared.c"} and graph["shared.c"] == {"shared.a"}
    assert cycles(graph) == ["shared.a -> shared.b -> shared.c -> shared.a"]

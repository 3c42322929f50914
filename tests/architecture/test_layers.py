"""The package's layers (docs/architecture.md): each module imports only from its own layer
or earlier ones, and no import cycle exists anywhere in `fluentai/`.

Every import counts — at module level, inside functions (lazy imports), and under
`TYPE_CHECKING` — because a cycle hidden in a function is still a cycle a reader must hold
in their head.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "fluentai"

# Import order, earliest first. A module may import from its own layer and earlier ones.
LAYERS = ["syntax", "resolve", "runtime", "compile", "server", "effects", "interpreter",
          "frontends"]
# The transport layer knows nothing of FluentAI values or errors: of the rest of the
# package it may use only the task helpers (continuing an already started coroutine).
SERVER_MAY_IMPORT = {"fluentai.runtime.tasks"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The fluentai modules `name` imports (a package import counts as its __init__)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            if target in known and target != name:
                found.add(target)
    return found


def layer_of(name: str) -> int | None:
    parts = name.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return None


GRAPH = {n: imports_of(n, p, set(modules())) for n, p in modules().items()}


def test_every_module_belongs_to_a_layer() -> None:
    loose = [n for n in GRAPH if layer_of(n) is None
             and n not in ("fluentai", "fluentai.__main__")]
    assert not loose, f"modules outside the layer folders: {loose}"


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_point_to_earlier_layers(name: str) -> None:
    mine = layer_of(name)
    if mine is None:
        return
    for target in GRAPH[name]:
        theirs = layer_of(target)
        if theirs is None:
            continue  # the package root (__version__)
        assert theirs <= mine, (
            f"{name} ({LAYERS[mine]}) imports {target} ({LAYERS[theirs]}), a later layer")
    if LAYERS[mine] == "server":
        outside = {t for t in GRAPH[name] if layer_of(t) != mine} - SERVER_MAY_IMPORT
        assert not outside, f"the transport layer imports {sorted(outside)}"


def test_no_import_cycles() -> None:
    # Tarjan's strongly connected components: any component of two or more is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"

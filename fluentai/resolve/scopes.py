"""The resolver's scopes: which names a piece of code can see, and, once the whole program is
known, which frame and slot each declaration lives in.

Resolution happens in two steps. While walking the program, every scope records its
declarations (`Decl`) and every use is tied to the `Decl` it means, or to no declaration (a
module global). A declaration used from inside a nested function is *captured*. Only when
the walk is over is it known which loop bodies hold captured declarations; `layout` then
gives those bodies a frame of their own (fresh per iteration), gives every function and the
module one, and numbers the slots. Nothing is compiled twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MODULE = "module"
FUNCTION = "function"
LOOP = "loop"  # a loop body: may need a frame of its own
BLOCK = "block"


class Decl:
    """One declared name. `key` is the node code generation asks about (a `let`, a
    parameter, a `for` loop for its variable, a pattern binding, ...)."""

    __slots__ = ("captured", "const", "frame", "key", "name", "scope", "slot")

    def __init__(self, name: str, key: Any, scope: Scope, const: bool) -> None:
        self.name = name
        self.key = key
        self.scope = scope
        self.const = const
        self.captured = False  # used from a nested function
        self.frame: Frame | None = None  # set by `layout`
        self.slot = 0


class Frame:
    """One run-time environment list: slot 0 holds the enclosing environment."""

    __slots__ = ("parent", "size")

    def __init__(self, parent: Frame | None) -> None:
        self.parent = parent
        self.size = 1

    def new_slot(self) -> int:
        self.size += 1
        return self.size - 1

    def depth_to(self, target: Frame) -> int:
        depth = 0
        frame: Frame | None = self
        while frame is not target:
            assert frame is not None, "a declaration's frame encloses every use of it"
            frame = frame.parent
            depth += 1
        return depth


class Scope:
    """A region of code with its own names: the module, a function, a loop body or a block
    (`{ }`, a `match` arm, a `catch`)."""

    __slots__ = ("ahead", "children", "decls", "defining", "frame", "function", "kind", "node",
                 "order", "parent")

    def __init__(self, kind: str, parent: Scope | None, node: Any = None) -> None:
        self.kind = kind
        self.parent = parent
        self.node = node  # the function or loop this scope is the body of
        # The function (or module) scope the code of this scope runs in.
        self.function: Scope = self if kind in (MODULE, FUNCTION) else parent.function  # type: ignore[union-attr]
        self.decls: dict[str, Decl] = {}
        self.order: list[Decl] = []  # declarations in source order (slot order)
        # The `let`s of this block not reached yet, per name in order (nested functions may
        # refer to them: mutually recursive local lambdas), and the `let` whose initializer
        # is being resolved (nested functions in it refer to the binding being defined).
        self.ahead: dict[str, list[Decl]] = {}
        self.defining: dict[str, Decl] = {}
        self.children: list[Scope] = []
        self.frame: Frame | None = None
        if parent is not None:
            parent.children.append(self)

    def declare(self, name: str, key: Any, const: bool = False) -> Decl:
        return self.add(Decl(name, key, self, const))

    def add(self, decl: Decl) -> Decl:
        """Make `decl` (made by `declare` or ahead of time for a `let`) visible from here on."""
        self.decls[decl.name] = decl
        self.order.append(decl)
        return decl

    def enclosing(self) -> Iterator[Scope]:
        scope: Scope | None = self
        while scope is not None:
            yield scope
            scope = scope.parent


def layout(module: Scope) -> None:
    """Give every scope its frame and every declaration its slot (see the module doc)."""
    _decide_frames(module)
    _number(module, None)


def _decide_frames(scope: Scope) -> bool:
    """Post-order: mark loop bodies that need a frame of their own (`frame` set to a
    placeholder); returns whether `scope` holds, in its own frame's territory, a declaration
    a closure captures."""
    captured = any(d.captured for d in scope.order)
    for child in scope.children:
        inner = _decide_frames(child)
        if child.kind != FUNCTION and not (child.kind == LOOP and child.frame is not None):
            captured = captured or inner
    if scope.kind == LOOP and captured:
        scope.frame = _FRESH
        return False
    return captured


_FRESH = Frame(None)  # marks a loop body as needing its own frame until `_number` runs


def _number(scope: Scope, enclosing: Frame | None) -> None:
    if scope.kind in (MODULE, FUNCTION) or scope.frame is _FRESH:
        scope.frame = Frame(enclosing)
    else:
        scope.frame = enclosing
    frame = scope.frame
    assert frame is not None
    for decl in scope.order:
        decl.frame = frame
        decl.slot = frame.new_slot()
    for child in scope.children:
        _number(child, frame)

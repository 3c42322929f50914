"""The abstract syntax tree: small immutable node classes, each carrying its `Span`, and
`walk` / `iter_children` to traverse them.

Expressions and statements share one hierarchy because blocks, `if`, `match`, `try` and
`handle` are expressions. Nodes hold no behaviour; the resolver and the code generator give
them meaning. Nodes compare and hash by identity: the resolver's tables are keyed by the
node a name, slot or frame belongs to.

`@node` makes a slotted, immutable class with an `__init__` over its annotated fields (base
classes' first), equality and a repr. It does what `dataclass(frozen=True, slots=True)`
would at a tenth of the import cost, which matters: every `fluentai run` pays it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, dataclass_transform

from .source import Span

_N = TypeVar("_N")
_MISSING = object()


def _fields(cls: type) -> list[str]:
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        for name in inspect.get_annotations(klass):
            if not name.startswith("_") and name not in names:
                names.append(name)
    return names


@dataclass_transform(frozen_default=True, eq_default=False)
def node(cls: type[_N]) -> type[_N]:
    own = [n for n in inspect.get_annotations(cls) if not n.startswith("_")]
    names = _fields(cls)
    defaults = {n: cls.__dict__[n] for n in own if n in cls.__dict__}
    for klass in cls.__mro__[1:]:
        for n, v in getattr(klass, "_defaults", {}).items():
            defaults.setdefault(n, v)
    namespace = {k: v for k, v in cls.__dict__.items()
                 if k not in own and k not in ("__dict__", "__weakref__")}
    namespace["__slots__"] = tuple(own)
    namespace["_fields"] = tuple(names)
    namespace["_defaults"] = defaults
    params = ", ".join(f"{n}=_d[{n!r}]" if n in defaults else n for n in names)
    body = "".join(f"    _set(self, {n!r}, {n})\n" for n in names) or "    pass\n"
    scope: dict[str, Any] = {"_set": object.__setattr__, "_d": defaults}
    exec(f"def __init__(self, {params}):\n{body}", scope)
    namespace["__init__"] = scope["__init__"]
    made: type[_N] = type(cls.__name__, cls.__bases__, namespace)
    return made


class _Base:
    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} nodes are immutable")

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({args})"


@node
class Node(_Base):
    span: Span


# ----------------------------------------------------------------------------- expressions
@node
class Literal(Node):
    value: Any  # None, bool, int, float or str


@node
class FString(Node):
    parts: tuple[str | Node, ...]  # literal text pieces, embedded expressions, `Formatted`


@node
class Formatted(Node):
    """`{value:spec}` in an f-string: the value formatted with Python's format mini-language
    (`.2f`, `>6`, `,`)."""

    value: Node
    spec: str


@node
class Var(Node):
    name: str


@node
class ListLit(Node):
    items: tuple[Node, ...]


@node
class MapLit(Node):
    pairs: tuple[tuple[str, Node], ...]


@node
class Unary(Node):
    op: str  # "-" or "!"
    operand: Node


@node
class Binary(Node):
    op: str  # + - * / % ** == != < > <= >=
    left: Node
    right: Node


@node
class Logical(Node):
    op: str  # "&&" or "||"
    left: Node
    right: Node


@node
class Range(Node):
    start: Node
    end: Node
    inclusive: bool


@node
class Pipe(Node):
    value: Node
    target: Node  # a Call (value becomes its first argument) or any callable expression


@node
class Call(Node):
    callee: Node
    args: tuple[Node, ...]


@node
class MethodCall(Node):
    receiver: Node
    name: str
    args: tuple[Node, ...]


@node
class Await(Node):
    value: Node


@node
class Field(Node):
    target: Node
    name: str


@node
class Index(Node):
    target: Node
    index: Node


@node
class Assign(Node):
    target: Node  # Var, Field or Index
    op: str  # "=", "+=", ...
    value: Node


@node
class Param(_Base):
    name: str
    type: str | None
    span: Span
    default: Node | None = None


@node
class Lambda(Node):
    params: tuple[Param, ...]
    body: Node


@node
class Block(Node):
    body: tuple[Node, ...]


@node
class If(Node):
    cond: Node
    then: Block
    orelse: Node | None  # Block, If or None


@node
class Loop(Node):
    body: Block


@node
class While(Node):
    cond: Node
    body: Block


@node
class For(Node):
    var: str  # "" when `pattern` binds the items
    iterable: Node
    body: Block
    pattern: Node | None = None  # `for [k, v] in m.entries()`: a ListPat


@node
class Try(Node):
    body: Block
    catch_name: str | None
    handler: Block | None
    finally_: Block | None


@node
class Perform(Node):
    effect: str
    op: str
    args: tuple[Node, ...]


@node
class HandlerClause(Node):
    effect: str
    op: str
    params: tuple[Param, ...]
    body: Node


@node
class Handle(Node):
    body: Block
    clauses: tuple[HandlerClause, ...]


@node
class Printable(Node):
    value: Node


# ----------------------------------------------------------------------------- patterns
@node
class WildcardPat(Node):
    pass


@node
class BindPat(Node):
    name: str


@node
class LiteralPat(Node):
    value: Any


@node
class ListPat(Node):
    items: tuple[Node, ...]
    rest: str | None  # name bound to the remaining items, "_" to ignore, None: exact length
    has_rest: bool


@node
class RangePat(Node):
    """`1..10` / `0..=9` in a match arm: a number in the range."""

    start: int | float
    end: int | float
    inclusive: bool


@node
class MapPat(Node):
    pairs: tuple[tuple[str, Node], ...]


@node
class AltPat(Node):
    options: tuple[Node, ...]


@node
class MatchArm(Node):
    pattern: Node
    guard: Node | None
    body: Node


@node
class Match(Node):
    subject: Node
    arms: tuple[MatchArm, ...]


# ----------------------------------------------------------------------------- statements
@node
class Let(Node):
    name: str
    value: Node
    const: bool
    public: bool


@node
class LetPattern(Node):
    """`let [a, b, ...rest] = value`: the names a list pattern binds."""

    pattern: Node  # a ListPat
    value: Node
    public: bool


@node
class Return(Node):
    value: Node | None


@node
class Break(Node):
    pass


@node
class Continue(Node):
    pass


@node
class Throw(Node):
    value: Node


@node
class FunctionDecl(Node):
    name: str
    params: tuple[Param, ...]
    body: Block
    is_async: bool
    public: bool


@node
class Use(Node):
    module: str
    names: tuple[str, ...] | None  # `use m::{a, b}` imports names; None binds the module


@node
class Program(Node):
    body: tuple[Node, ...]


# ----------------------------------------------------------------------------- traversal
def iter_children(node: _Base) -> Iterator[_Base]:
    """The nodes directly below `node`, in source order (like CPython's
    `ast.iter_child_nodes`); strings, numbers and spans are not nodes."""
    for name in node._fields:
        value = getattr(node, name)
        if isinstance(value, _Base):
            yield value
        elif type(value) is tuple:
            yield from _nodes_in(value)


def _nodes_in(items: tuple[Any, ...]) -> Iterator[_Base]:
    for item in items:
        if isinstance(item, _Base):
            yield item
        elif type(item) is tuple:  # map literal and map pattern pairs: (key, node)
            yield from _nodes_in(item)


def walk(node: _Base, enter: Callable[[_Base], bool] | None = None) -> Iterator[_Base]:
    """`node` and every node below it, parents before children (like CPython's `ast.walk`,
    but depth-first, so source order is kept). With `enter`, the children of a node are
    visited only when `enter(node)` is true (the root's always are)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if enter is None or current is node or enter(current):
            stack.extend(reversed(list(iter_children(current))))


def same_function(node: _Base) -> bool:
    """For `walk(..., enter=same_function)`: stay out of nested functions and handler
    clauses, whose code runs at another time."""
    return not isinstance(node, Lambda | FunctionDecl | HandlerClause)


def waits(node: _Base) -> bool:
    """Whether evaluating `node` can wait: it has an `.await()` outside nested functions
    (such code compiles to a coroutine)."""
    return any(isinstance(n, Await) for n in walk(node, enter=same_function))

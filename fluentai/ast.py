"""The abstract syntax tree: small immutable node classes, each carrying its `Span`.

Expressions and statements share one hierarchy because blocks, `if`, `match`, `try` and
`handle` are expressions. Nodes hold no behaviour; the compiler gives them meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .source import Span


@dataclass(frozen=True, slots=True)
class Node:
    span: Span


# ----------------------------------------------------------------------------- expressions
@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Any  # None, bool, int, float or str


@dataclass(frozen=True, slots=True)
class FString(Node):
    parts: tuple[str | Node, ...]  # literal text pieces and embedded expressions


@dataclass(frozen=True, slots=True)
class Var(Node):
    name: str


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapLit(Node):
    pairs: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "-" or "!"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # + - * / % ** == != < > <= >=
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Logical(Node):
    op: str  # "&&" or "||"
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Range(Node):
    start: Node
    end: Node
    inclusive: bool


@dataclass(frozen=True, slots=True)
class Pipe(Node):
    value: Node
    target: Node  # a Call (value becomes its first argument) or any callable expression


@dataclass(frozen=True, slots=True)
class Call(Node):
    callee: Node
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MethodCall(Node):
    receiver: Node
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Await(Node):
    value: Node


@dataclass(frozen=True, slots=True)
class Field(Node):
    target: Node
    name: str


@dataclass(frozen=True, slots=True)
class Index(Node):
    target: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Assign(Node):
    target: Node  # Var, Field or Index
    op: str  # "=", "+=", ...
    value: Node


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str | None
    span: Span
    default: Node | None = None


@dataclass(frozen=True, slots=True)
class Lambda(Node):
    params: tuple[Param, ...]
    body: Node


@dataclass(frozen=True, slots=True)
class Block(Node):
    body: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class If(Node):
    cond: Node
    then: Block
    orelse: Node | None  # Block, If or None


@dataclass(frozen=True, slots=True)
class Loop(Node):
    body: Block


@dataclass(frozen=True, slots=True)
class While(Node):
    cond: Node
    body: Block


@dataclass(frozen=True, slots=True)
class For(Node):
    var: str
    iterable: Node
    body: Block


@dataclass(frozen=True, slots=True)
class Try(Node):
    body: Block
    catch_name: str | None
    handler: Block | None
    finally_: Block | None


@dataclass(frozen=True, slots=True)
class Perform(Node):
    effect: str
    op: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class HandlerClause(Node):
    effect: str
    op: str
    params: tuple[str, ...]
    body: Node


@dataclass(frozen=True, slots=True)
class Handle(Node):
    body: Block
    clauses: tuple[HandlerClause, ...]


@dataclass(frozen=True, slots=True)
class Printable(Node):
    value: Node


# ----------------------------------------------------------------------------- patterns
@dataclass(frozen=True, slots=True)
class WildcardPat(Node):
    pass


@dataclass(frozen=True, slots=True)
class BindPat(Node):
    name: str


@dataclass(frozen=True, slots=True)
class LiteralPat(Node):
    value: Any


@dataclass(frozen=True, slots=True)
class ListPat(Node):
    items: tuple[Node, ...]
    rest: str | None  # name bound to the remaining items, "_" to ignore, None: exact length
    has_rest: bool


@dataclass(frozen=True, slots=True)
class MapPat(Node):
    pairs: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class AltPat(Node):
    options: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MatchArm(Node):
    pattern: Node
    guard: Node | None
    body: Node


@dataclass(frozen=True, slots=True)
class Match(Node):
    subject: Node
    arms: tuple[MatchArm, ...]


# ----------------------------------------------------------------------------- statements
@dataclass(frozen=True, slots=True)
class Let(Node):
    name: str
    value: Node
    const: bool
    public: bool


@dataclass(frozen=True, slots=True)
class Return(Node):
    value: Node | None


@dataclass(frozen=True, slots=True)
class Break(Node):
    pass


@dataclass(frozen=True, slots=True)
class Continue(Node):
    pass


@dataclass(frozen=True, slots=True)
class Throw(Node):
    value: Node


@dataclass(frozen=True, slots=True)
class FunctionDecl(Node):
    name: str
    params: tuple[Param, ...]
    body: Block
    is_async: bool
    public: bool


@dataclass(frozen=True, slots=True)
class Use(Node):
    module: str
    names: tuple[str, ...] | None  # `use m::{a, b}` imports names; None binds the module


@dataclass(frozen=True, slots=True)
class Program(Node):
    body: tuple[Node, ...]

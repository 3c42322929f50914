"""The symbol index of a parsed and resolved document: every declaration (`Symbol`), where it
is visible, and every place a name, a module member, a field, a method or an effect is
written (`Occurrence`). Navigation, hover, completion, rename and semantic tokens all read
it; nothing here runs code.

Which declaration a use means comes from the resolver (`Resolution.declarations` for
locals); a global is the top-level declaration of that name in the file, if any. Positions
are the parser's: 1-based lines and 1-based columns counted in characters.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from ...resolve.resolution import Resolution
from ...syntax import ast

Pos = tuple[int, int]
END: Pos = (1 << 30, 0)

# Symbol kinds.
FUNCTION, LET, CONST, PARAM, FOR, CATCH, PATTERN = (
    "function", "let", "const", "param", "for", "catch", "pattern")
MODULE, IMPORT = "module", "import"  # `use m` binds a module; `use m::{f}` imports `f`

# Occurrence roles.
DECLARATION, READ, WRITE = "declaration", "read", "write"
# Occurrences that are not names of a declaration in this file.
MEMBER = "member"  # `m.f` where `m` is a module: `f` of that module's file
FIELD, METHOD = "field", "method"  # `x.f` and `x.f()` of any other value
EFFECT, OPERATION = "effect", "operation"  # `perform E.op`, `E.op(x) => ...` in `handle`


@dataclass(eq=False)
class Symbol:
    name: str
    kind: str
    node: Any  # the declaring node (the resolver's `Decl.key`); the `use` for MODULE, IMPORT
    start: Pos  # of the declared name
    top: bool  # a module global
    scope: tuple[Pos, Pos]  # where the name means this symbol
    value: ast.Node | None = None  # a `let`/`const`'s value
    module: str | None = None  # MODULE, IMPORT: the module's name
    async_: bool = False


@dataclass(eq=False)
class Occurrence:
    start: Pos
    name: str
    role: str
    symbol: Symbol | None = None  # None for a global nothing in the file declares
    module: Symbol | None = None  # MEMBER: the module symbol before the dot
    effect: str | None = None  # OPERATION: its effect
    node: Any = None

    @property
    def end(self) -> Pos:
        return (self.start[0], self.start[1] + len(self.name))


@dataclass
class Index:
    text: str
    line_starts: list[int]
    symbols: list[Symbol] = field(default_factory=list)
    occurrences: list[Occurrence] = field(default_factory=list)
    top: dict[str, Symbol] = field(default_factory=dict)  # the first top-level one per name
    by_node: dict[Any, Symbol] = field(default_factory=dict)
    by_line: dict[int, list[Occurrence]] = field(default_factory=dict)
    by_start: dict[Pos, Occurrence] = field(default_factory=dict)
    _extents: dict[int, Pos] = field(default_factory=dict)  # id(node) -> where its text ends

    def at(self, pos: Pos) -> Occurrence | None:
        """The occurrence under (or just after) a cursor position."""
        for occ in self.by_line.get(pos[0], ()):
            if occ.start[1] <= pos[1] <= occ.start[1] + len(occ.name):
                return occ
        return None

    def visible(self, pos: Pos) -> list[Symbol]:
        """Local declarations in scope at `pos`, innermost first, then the globals."""
        local = [s for s in self.symbols if not s.top and s.scope[0] <= pos <= s.scope[1]
                 and (s.start <= pos or s.kind == FUNCTION)]
        local.sort(key=lambda s: s.scope[0], reverse=True)
        seen: set[str] = set()
        out: list[Symbol] = []
        for s in [*local, *self.top.values()]:
            if s.name not in seen:
                seen.add(s.name)
                out.append(s)
        return out

    def extent(self, node: Any) -> Pos:
        """Where a node's text ends, as far as its own and its descendants' spans tell
        (computed when first asked, without recursion: programs can nest thousands deep)."""
        known = self._extents.get(id(node))
        if known is not None:
            return known
        if isinstance(node, ast.Block | ast.Lambda) and node.span.end_line:
            return _span_end(node)  # the parser's span covers it whole
        stack: list[tuple[Any, bool]] = [(node, False)]
        while stack:
            current, done = stack.pop()
            if done:
                end = _span_end(current)
                for child in ast.iter_children(current):
                    end = max(end, self._extents[id(child)])
                self._extents[id(current)] = end
            elif id(current) not in self._extents:
                stack.append((current, True))
                stack.extend((child, False) for child in ast.iter_children(current))
        return self._extents[id(node)]

    def occurrences_of(self, symbol: Symbol) -> list[Occurrence]:
        return [o for o in self.occurrences if o.symbol is symbol]

    def offset(self, pos: Pos) -> int:
        return self.line_starts[pos[0] - 1] + pos[1] - 1

    def pos(self, offset: int) -> Pos:
        line = bisect.bisect_right(self.line_starts, offset)
        return (line, offset - self.line_starts[line - 1] + 1)


def line_starts(text: str) -> list[int]:
    """Offsets of the lines as the parser counts them (only '\\n' ends a line)."""
    return [0, *(m.end() for m in re.finditer("\n", text))]


def build(program: ast.Program, resolution: Resolution | None, text: str) -> Index:
    index = Index(text, line_starts(text))
    _Builder(index, resolution).program(program)
    for occ in index.occurrences:
        index.by_line.setdefault(occ.start[0], []).append(occ)
        index.by_start.setdefault(occ.start, occ)
    return index


def _span_end(node: Any) -> Pos:
    span = node.span
    if span.end_line:
        return (span.end_line, span.end_column)
    return (span.line, span.column + 1)


_USE = re.compile(r"use\s+(\w+)")
_WORD = re.compile(r"\w+")


class _Builder:
    """One walk over the program, knowing the region the current declarations live in."""

    def __init__(self, index: Index, resolution: Resolution | None) -> None:
        self.index = index
        self.res = resolution

    def extent(self, node: Any) -> Pos:
        return self.index.extent(node)

    # ---------------------------------------------------------------- recording
    def declare(self, name: str, kind: str, node: Any, start: Pos, scope: tuple[Pos, Pos],
                top: bool = False, **extra: Any) -> Symbol:
        symbol = Symbol(name, kind, node, start, top, scope, **extra)
        self.index.symbols.append(symbol)
        if kind not in (MODULE, IMPORT):
            self.index.by_node.setdefault(node, symbol)
        if top:
            self.index.top.setdefault(name, symbol)
        self.index.occurrences.append(Occurrence(start, name, DECLARATION, symbol, node=node))
        return symbol

    def occur(self, start: Pos, name: str, role: str, **extra: Any) -> None:
        self.index.occurrences.append(Occurrence(start, name, role, **extra))

    def find(self, pattern: re.Pattern[str], start: Pos | int, end: int | None = None
             ) -> tuple[str, Pos] | None:
        """The first group of `pattern` searched from `start`, and where it is."""
        index = self.index
        offset = start if isinstance(start, int) else index.offset(start)
        m = pattern.search(index.text, offset, len(index.text) if end is None else end)
        if m is None:
            return None
        return m.group(1), index.pos(m.start(1))

    # ---------------------------------------------------------------- declarations
    def program(self, program: ast.Program) -> None:
        whole = ((1, 1), END)
        for item in program.body:
            if isinstance(item, ast.Let):
                self.declare(item.name, CONST if item.const else LET, item, _start(item), whole,
                             top=True, value=item.value)
            elif isinstance(item, ast.FunctionDecl):
                self.declare(item.name, FUNCTION, item, _start(item), whole, top=True,
                             async_=item.is_async)
            elif isinstance(item, ast.Use):
                self.use(item, whole)
        # Declarations first (above), so that uses anywhere find the globals.
        for item in program.body:
            if isinstance(item, ast.FunctionDecl):
                self.function(item, item.params, item.body)
            elif isinstance(item, ast.Let):
                self.node(item.value, END)
            elif not isinstance(item, ast.Use):
                self.node(item, END)

    def use(self, node: ast.Use, whole: tuple[Pos, Pos]) -> None:
        found = self.find(_USE, _start(node))
        if found is None:
            return
        if node.names is None:
            self.declare(node.module, MODULE, node, found[1], whole, top=True, module=node.module)
            return
        # `use m::{f}` binds `f`, not `m`: the module's name is a symbol visible nowhere.
        self.declare(node.module, MODULE, node, found[1], ((0, 0), (0, 0)), module=node.module)
        offset = self.index.offset(found[1]) + len(found[0])
        end = self.index.offset(_span_end(node))
        words = {m.group(): m.start() for m in _WORD.finditer(self.index.text, offset, end)}
        for name in node.names:
            if name in words:
                self.declare(name, IMPORT, node, self.index.pos(words[name]), whole, top=True,
                             module=node.module)

    def function(self, node: Any, params: tuple[ast.Param, ...], body: ast.Node) -> None:
        if isinstance(body, ast.Block):
            end = _span_end(body)
        elif isinstance(node, ast.Lambda) and node.span.end_line:
            end = _span_end(node)
        else:
            end = self.extent(body)
        first = _start(params[0]) if params else _start(body)
        for p in params:
            self.declare(p.name, PARAM, p, _start(p), (first, end))
            if p.default is not None:
                self.node(p.default, end)
        if isinstance(body, ast.Block):
            self.statements(body.body, (_start(body), end))
        else:
            self.node(body, end)

    def statements(self, body: tuple[ast.Node, ...], region: tuple[Pos, Pos]) -> None:
        for item in body:
            if isinstance(item, ast.FunctionDecl):  # hoisted: visible in the whole block
                self.declare(item.name, FUNCTION, item, _start(item), region,
                             async_=item.is_async)
        for item in body:
            if isinstance(item, ast.FunctionDecl):
                self.function(item, item.params, item.body)
            elif isinstance(item, ast.Let):
                self.node(item.value, region[1])
                self.declare(item.name, CONST if item.const else LET, item, _start(item),
                             (_start(item), region[1]), value=item.value)
            else:
                self.node(item, region[1])

    # ---------------------------------------------------------------- expressions
    def node(self, node: Any, end: Pos) -> None:
        if node is None:
            return
        kind = type(node)
        if kind is ast.Var:
            self.var(node, READ)
        elif kind is ast.Assign:
            self.node(node.value, end)
            if isinstance(node.target, ast.Var):
                self.var(node.target, WRITE)
            else:
                self.node(node.target, end)
        elif kind is ast.Block:
            self.statements(node.body, (_start(node), _span_end(node)))
        elif kind is ast.Lambda:
            self.function(node, node.params, node.body)
        elif kind is ast.For:
            self.node(node.iterable, end)
            found = self.find(re.compile(r"for\s+(" + re.escape(node.var) + r")\b"), _start(node))
            body_end = _span_end(node.body)
            if found is not None:
                self.declare(node.var, FOR, node, found[1], (found[1], body_end))
            self.statements(node.body.body, (_start(node.body), body_end))
        elif kind is ast.Try:
            self.try_(node, end)
        elif kind is ast.Match:
            self.node(node.subject, end)
            # An arm's names are visible up to the next arm (the last: to the `}`).
            ends = [_start(arm) for arm in node.arms[1:]] + [_span_end(node)]
            for arm, arm_end in zip(node.arms, ends, strict=True):
                region = (_start(arm), arm_end)
                self.pattern(arm.pattern, region)
                self.node(arm.guard, region[1])
                self.node(arm.body, region[1])
        elif kind is ast.Handle:
            self.node(node.body, end)
            for clause in node.clauses:
                self.effect(clause, clause.effect, clause.op, r"(\w+)\s*\.\s*(\w+)")
                self.function(clause, clause.params, clause.body)
        elif kind is ast.Perform:
            self.effect(node, node.effect, node.op, r"perform\s+(\w+)\s*\.\s*(\w+)")
            for arg in node.args:
                self.node(arg, end)
        elif kind is ast.Field or kind is ast.MethodCall:
            self.member(node, end)
        elif kind is ast.FunctionDecl:  # not a statement: the resolver reports it
            self.function(node, node.params, node.body)
        else:
            for child in ast.iter_children(node):
                self.node(child, end)

    def var(self, node: ast.Var, role: str) -> None:
        symbol = None
        if self.res is not None and node in self.res.declarations:
            symbol = self.index.by_node.get(self.res.declarations[node])
        elif self.res is None or node in self.res.refs:
            symbol = self.index.top.get(node.name)
        self.occur(_start(node), node.name, role, symbol=symbol, node=node)

    def member(self, node: ast.Field | ast.MethodCall, end: Pos) -> None:
        target = node.target if isinstance(node, ast.Field) else node.receiver
        self.node(target, end)
        module = None
        if isinstance(target, ast.Var) and (self.res is None
                                            or target not in self.res.declarations):
            found = self.index.top.get(target.name)
            module = found if found is not None and found.kind == MODULE else None
        if module is not None:
            self.occur(_start(node), node.name, MEMBER, module=module, node=node)
        else:
            self.occur(_start(node), node.name, FIELD if isinstance(node, ast.Field) else METHOD,
                       node=node)
        if isinstance(node, ast.MethodCall):
            for arg in node.args:
                self.node(arg, end)

    def effect(self, node: Any, effect: str, op: str, pattern: str) -> None:
        found = re.compile(pattern).match(self.index.text, self.index.offset(_start(node)))
        if found is None:
            return
        self.occur(self.index.pos(found.start(1)), effect, EFFECT, node=node)
        self.occur(self.index.pos(found.start(2)), op, OPERATION, effect=effect, node=node)

    def try_(self, node: ast.Try, end: Pos) -> None:
        self.node(node.body, end)
        if node.handler is not None:
            region = (_start(node.handler), _span_end(node.handler))
            if node.catch_name is not None:
                found = self.find(re.compile(r"catch\s*\(?\s*(" + re.escape(node.catch_name)
                                             + r")\b"), _span_end(node.body))
                if found is not None:
                    self.declare(node.catch_name, CATCH, node, found[1], (found[1], region[1]))
            self.statements(node.handler.body, region)
        self.node(node.finally_, end)

    def pattern(self, p: Any, region: tuple[Pos, Pos]) -> None:
        if isinstance(p, ast.BindPat):
            earlier = self.res.declarations.get(p) if self.res is not None else None
            if earlier is not None and earlier in self.index.by_node:  # `[x] | [x, _]`
                self.occur(_start(p), p.name, DECLARATION, symbol=self.index.by_node[earlier],
                           node=p)
            else:
                self.declare(p.name, PATTERN, p, _start(p), region)
        elif isinstance(p, ast.ListPat):
            for item in p.items:
                self.pattern(item, region)
            if p.has_rest and p.rest not in (None, "_"):
                assert p.rest is not None
                found = self.find(re.compile(r"\.\.\.\s*(" + re.escape(p.rest) + r")\b"),
                                  _start(p), self.index.offset(_span_end(p)))
                if found is not None:
                    self.declare(p.rest, PATTERN, p, found[1], region)
        elif isinstance(p, ast.MapPat):
            for _, sub in p.pairs:
                self.pattern(sub, region)
        elif isinstance(p, ast.AltPat):
            for option in p.options:
                self.pattern(option, region)


def _start(node: Any) -> Pos:
    return (node.span.line, node.span.column)

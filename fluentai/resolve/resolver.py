"""The resolve pass: one walk over a parsed program that decides what every name means and
collects every static error, before any code is generated (Crafting Interpreters' Resolver,
starlark-go's `resolve`).

Scope rules (SPEC §2–§3):
- Top-level `let`, `const`, functions and `use` bind module globals; a name declared in no
  enclosing scope is a global too, looked up by name when reached (a NameError if absent —
  `fluentai check` reports the ones nothing defines).
- `let` declares in the current block, visible to the statements after it; functions
  declared in a block are visible in the whole block (hoisted).
- Inside functions and lambdas within a `let`'s own initializer, its name is the binding
  being defined (`let self = {"me": () => self}`, `let fact = n => … fact(n - 1)`); direct
  uses in the initializer see the outer binding (`let x = x + 1`).
- A name used inside a function or lambda that no enclosing scope declares and that is no
  global the program or the runtime defines is a later `let` of an enclosing block, when
  there is one (mutually recursive local lambdas). Such uses — and the ones inside an
  initializer — are *checked*: reading the binding before its `let` ran is a NameError.
- Parameters, `for` variables, `catch` names and pattern bindings are locals of their
  function, loop body, catch block or match arm.

Static errors are collected, not raised: `Resolution.errors` lists all of them with their
spans (`return` outside a function, `break`/`continue` outside a loop, duplicate or
ill-ordered parameters, a default value that waits).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from ..syntax import ast
from ..syntax.errors import FluentSyntaxError
from ..syntax.habits import MISPLACED_KEYWORDS, NEVER_NAMES
from ..syntax.source import Span
from .hints import Hints, undefined_errors
from .resolution import FunctionLayout, Global, Local, Resolution
from .scopes import BLOCK, FUNCTION, LOOP, MODULE, Decl, Scope, layout


def resolve(program: ast.Program, *, defined: Collection[str] = (),
            consts: Collection[str] = (), report_undefined: bool = False,
            effects: Collection[str] = ()) -> Resolution:
    """Resolve a program (or one REPL input). `defined`: the globals that exist outside the
    program (the builtins, `args`, a REPL session's earlier definitions); `consts`: which
    of them are constants. With `report_undefined`, global names that nothing defines are
    errors (`fluentai check`); otherwise they are NameErrors when reached. `effects` (the
    effect names there are) words the messages for undefined names (`hints`)."""
    resolver = Resolver(program, set(consts), set(defined))
    resolver.hints = Hints(program, defined, effects)
    resolver.program()
    res = resolver.res
    # One mistake, one error: a lone keyword is found both as a lone name and as a use.
    unique = {(e.span.line, e.span.column, e.message) if e.span else id(e): e
              for e in res.errors}
    res.errors[:] = unique.values()
    if report_undefined:
        defined = set(defined) | resolver.top_names
        res.errors.extend(undefined_errors(res.global_refs, res.name_hints, defined,
                                           res.errors))
        res.errors.sort(key=lambda e: (e.span.line, e.span.column) if e.span else (0, 0))
    return res


class Resolver:
    hints: Hints | None = None  # words the messages for undefined names (set by `resolve`)

    def __init__(self, program: ast.Program, consts: set[str], defined: set[str]) -> None:
        self.res = Resolution(program)
        self.consts = consts  # module constants, this input's and (REPL) earlier ones
        self.defined = defined  # globals from outside the program
        self.top_names: set[str] = set()  # every global the program itself defines
        self.scope = Scope(MODULE, None, program)
        self.loops = 0  # loops around the code being resolved, in the current function
        self.in_function = False
        # Uses to number once `layout` has given every declaration its slot, and pattern
        # bindings that store into another binding's slot.
        self.uses: list[tuple[Any, Decl, Scope, bool]] = []
        self.aliases: list[tuple[Any, Decl]] = []
        # Each block-level `let`'s statement list: a block whose bindings are used before
        # their `let` may run starts by marking those slots unset.
        self.let_lists: dict[Decl, tuple[ast.Node, ...]] = {}
        self.visit: dict[type, Callable[[Any], None]] = {
            ast.Literal: self.leaf, ast.Break: self.break_, ast.Continue: self.continue_,
            ast.Var: self.var, ast.Assign: self.assign, ast.Lambda: self.lambda_,
            ast.Block: self.block, ast.If: self.children, ast.Loop: self.loop,
            ast.While: self.while_, ast.For: self.for_, ast.Try: self.try_,
            ast.Handle: self.handle, ast.Match: self.match, ast.Return: self.return_,
            ast.FunctionDecl: self.function_expr, ast.Let: self.let,
            ast.LetPattern: self.let_pattern,
        }

    # ------------------------------------------------------------------ entry
    def program(self) -> None:
        program = self.res.program
        for item in program.body:
            if isinstance(item, ast.Let):
                self.top_names.add(item.name)
                if item.const:
                    self.consts.add(item.name)
                    self.res.consts.add(item.name)
            elif isinstance(item, ast.FunctionDecl):
                self.top_names.add(item.name)
            elif isinstance(item, ast.Use):
                self.top_names.update(item.names if item.names is not None else (item.module,))
            elif isinstance(item, ast.LetPattern):
                self.top_names.update(pattern_names(item.pattern))
        for item in program.body:
            if isinstance(item, ast.FunctionDecl | ast.Let) and item.public:
                self.res.public.append(item.name)
            elif isinstance(item, ast.LetPattern) and item.public:
                self.res.public.extend(pattern_names(item.pattern))
        self.statements(program.body, top=True)
        self.res.defines_main = "main" in self.top_names
        self.res.calls_main = any(
            isinstance(n, ast.Call) and isinstance(n.callee, ast.Var) and n.callee.name == "main"
            for item in program.body if not isinstance(item, ast.FunctionDecl)
            for n in ast.walk(item, enter=ast.same_function))
        layout(self.scope)
        unset: dict[tuple[ast.Node, ...], set[int]] = {}
        for node, decl, scope, checked in self.uses:
            assert scope.frame is not None and decl.frame is not None
            self.res.refs[node] = Local(scope.frame.depth_to(decl.frame), decl.slot, decl.const,
                                        decl.name, checked)
            self.res.declarations[node] = decl.key
            if checked:
                unset.setdefault(self.let_lists[decl], set()).add(decl.slot)
        self.res.unset_slots = {body: sorted(slots) for body, slots in unset.items()}
        self._record_slots(self.scope)
        for key, decl in self.aliases:
            self.res.slots[key] = decl.slot
            self.res.declarations[key] = decl.key
        assert self.scope.frame is not None
        self.res.module_size = self.scope.frame.size

    def _record_slots(self, scope: Scope) -> None:
        for decl in scope.order:
            self.res.slots[decl.key] = decl.slot
        if scope.kind == LOOP and scope.frame is not None and scope.parent is not None \
                and scope.frame is not scope.parent.frame:
            self.res.fresh_loops[scope.node] = scope.frame.size
        if scope.kind == FUNCTION and scope.frame is not None:
            self.res.functions[scope.node] = FunctionLayout(scope.frame.size)
        for child in scope.children:
            self._record_slots(child)

    # ------------------------------------------------------------------ helpers
    def error(self, message: str, span: Span) -> None:
        self.res.errors.append(FluentSyntaxError(message, span))

    @contextmanager
    def entered(self, kind: str, node: Any = None) -> Iterator[Scope]:
        """The code inside runs in a new scope of `kind`; a function also starts with no
        loops around it (`break` cannot leave a function)."""
        saved = (self.scope, self.loops, self.in_function)
        self.scope = Scope(kind, self.scope, node)
        if kind == FUNCTION:
            self.loops, self.in_function = 0, True
        elif kind == LOOP:
            self.loops += 1
        try:
            yield self.scope
        finally:
            self.scope, self.loops, self.in_function = saved

    def node(self, node: ast.Node | None) -> None:
        if node is None:
            return
        self.visit.get(type(node), self.children)(node)

    def children(self, node: ast.Node) -> None:
        for child in ast.iter_children(node):
            self.node(child)  # type: ignore[arg-type]

    def leaf(self, node: ast.Node) -> None:
        pass

    def use(self, node: Any, name: str) -> Global | None:
        """Tie a use of `name` to its declaration; a global use is returned."""
        decl, checked = self.lookup(name)
        if decl is not None:
            if decl.scope.function is not self.scope.function:
                decl.captured = True
            self.uses.append((node, decl, self.scope, checked))
            return None
        if name in NEVER_NAMES:  # `let f = function(x) { … }`: a keyword, never a value
            self.error(MISPLACED_KEYWORDS[name], node.span)
        ref = Global(name, name in self.consts)
        self.res.refs[node] = ref
        self.res.global_refs.append((name, node.span))
        if self.hints is not None and name not in self.top_names \
                and name not in self.hints.outside:
            self.res.name_hints[node] = self.hints.undefined(name, node, self.scope,
                                                             self.top_names)
        return ref

    def lookup(self, name: str) -> tuple[Decl | None, bool]:
        """The declaration `name` means here (None: a module global), and whether a use
        must check that its `let` has run (the module doc's rules, in order)."""
        here = self.scope.function
        for scope in self.scope.enclosing():
            nested = scope.function is not here
            if nested and name in scope.defining:
                return scope.defining[name], True
            decl = scope.decls.get(name)
            if decl is not None:
                return decl, False
        if name in self.top_names or name in self.defined:
            return None, False
        for scope in self.scope.enclosing():
            pending = scope.ahead.get(name)
            if pending and scope.function is not here:
                return pending[0], True
        return None, False

    # ------------------------------------------------------------------ statements
    def statements(self, nodes: tuple[ast.Node, ...], top: bool = False) -> None:
        """A sequence in the current scope; functions declared in it are hoisted."""
        if not top:
            for node in nodes:
                if isinstance(node, ast.FunctionDecl):
                    self.scope.declare(node.name, node)
                elif isinstance(node, ast.Let):
                    decl = Decl(node.name, node, self.scope, node.const)
                    self.scope.ahead.setdefault(node.name, []).append(decl)
                    self.let_lists[decl] = nodes
        for node in nodes:
            if isinstance(node, ast.FunctionDecl):
                self.function(node, node.params, node.body)
            elif isinstance(node, ast.Use):
                pass  # its names are globals (collected in `program`)
            elif isinstance(node, ast.Let | ast.LetPattern) and top:
                self.node(node.value)  # its names are globals
            else:
                self.node(node)

    def block(self, node: ast.Block) -> None:
        with self.entered(BLOCK):
            self.statements(node.body)

    def let(self, node: ast.Let) -> None:
        scope = self.scope
        decl = scope.ahead[node.name].pop(0)
        scope.defining[node.name] = decl
        try:
            self.node(node.value)
        finally:
            del scope.defining[node.name]
        scope.add(decl)

    def let_pattern(self, node: ast.LetPattern) -> None:
        self.node(node.value)
        self.pattern(node.pattern)

    def function_expr(self, node: ast.FunctionDecl) -> None:
        # Only statements declare functions; the grammar lets none reach an operand.
        self.error("a function declaration is not an expression", node.span)

    # ------------------------------------------------------------------ functions
    def function(self, node: Any, params: tuple[ast.Param, ...], body: ast.Node) -> None:
        with self.entered(FUNCTION, node):
            seen: set[str] = set()
            for p in params:
                if p.name in seen:
                    self.error(f"duplicate parameter '{p.name}'", p.span)
                seen.add(p.name)
                self.scope.declare(p.name, p)
            defaulted = False
            for p in params:
                if p.default is not None:
                    defaulted = True
                    if ast.waits(p.default):
                        self.error("a default value cannot use .await()", p.span)
                    self.node(p.default)
                elif defaulted:
                    self.error(f"parameter '{p.name}' needs a default value: it follows one "
                               f"that has", p.span)
            if isinstance(body, ast.Block):
                self.statements(body.body)
            else:
                self.node(body)

    def lambda_(self, node: ast.Lambda) -> None:
        self.function(node, node.params, node.body)

    def handle(self, node: ast.Handle) -> None:
        for clause in node.clauses:
            self.function(clause, clause.params, clause.body)
        self.node(node.body)

    def return_(self, node: ast.Return) -> None:
        if not self.in_function:
            self.error("'return' outside a function", node.span)
        self.node(node.value)

    # ------------------------------------------------------------------ names
    def var(self, node: ast.Var) -> None:
        self.use(node, node.name)

    def assign(self, node: ast.Assign) -> None:
        self.node(node.value)
        target = node.target
        if isinstance(target, ast.Var):
            self.use(target, target.name)
        else:
            self.children(target)

    # ------------------------------------------------------------------ loops
    def loop(self, node: ast.Loop) -> None:
        with self.entered(LOOP, node):
            self.statements(node.body.body)

    def while_(self, node: ast.While) -> None:
        self.node(node.cond)
        with self.entered(LOOP, node):
            self.statements(node.body.body)

    def for_(self, node: ast.For) -> None:
        self.node(node.iterable)
        with self.entered(LOOP, node) as scope:
            # The loop variable; with a pattern (`for [k, v] in …`), the item it takes apart.
            scope.declare(node.var or "<item>", node)
            if node.pattern is not None:
                self.pattern(node.pattern)
            self.statements(node.body.body)

    def break_(self, node: ast.Break) -> None:
        if not self.loops:
            self.error("'break' outside a loop", node.span)

    def continue_(self, node: ast.Continue) -> None:
        if not self.loops:
            self.error("'continue' outside a loop", node.span)

    # ------------------------------------------------------------------ try and match
    def try_(self, node: ast.Try) -> None:
        self.node(node.body)
        if node.handler is not None:
            with self.entered(BLOCK) as scope:
                if node.catch_name is not None:
                    scope.declare(node.catch_name, node)
                self.statements(node.handler.body)
        self.node(node.finally_)

    def match(self, node: ast.Match) -> None:
        self.node(node.subject)
        for arm in node.arms:
            with self.entered(BLOCK):
                self.pattern(arm.pattern)
                self.node(arm.guard)
                self.node(arm.body)

    def pattern(self, p: ast.Node) -> None:
        if isinstance(p, ast.BindPat):
            self.bind(p.name, p)
        elif isinstance(p, ast.ListPat):
            for item in p.items:
                self.pattern(item)
            if p.has_rest and p.rest not in (None, "_"):
                assert p.rest is not None
                self.bind(p.rest, p)
        elif isinstance(p, ast.MapPat):
            for _, sub in p.pairs:
                self.pattern(sub)
        elif isinstance(p, ast.AltPat):
            for option in p.options:
                self.pattern(option)

    def bind(self, name: str, key: Any) -> None:
        # Alternatives (`[x] | [x, _]`) bind the same name: they share the arm's slot.
        existing = self.scope.decls.get(name)
        if existing is not None:
            self.aliases.append((key, existing))
        else:
            self.scope.declare(name, key)


def pattern_names(pattern: ast.Node) -> list[str]:
    """The names a binding pattern (`let [a, [b, c], ...rest] = …`) binds, in order."""
    names: list[str] = []
    for node in ast.walk(pattern):
        if isinstance(node, ast.BindPat):
            names.append(node.name)
        elif isinstance(node, ast.ListPat) and node.rest not in (None, "_"):
            assert node.rest is not None
            names.append(node.rest)
    return names

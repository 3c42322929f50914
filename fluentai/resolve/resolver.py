"""The resolve pass: one walk over a parsed program that decides what every name means and
collects every static error, before any code is generated (Crafting Interpreters' Resolver,
starlark-go's `resolve`).

Scope rules (SPEC §2–§3):
- Top-level `let`, `const`, functions and `use` bind module globals; a name declared in no
  enclosing scope is a global too, looked up by name when reached (a NameError if absent —
  `fluentai check` reports the ones nothing defines).
- `let` declares in the current block, visible to the statements after it; functions
  declared in a block are visible in the whole block (hoisted).
- Parameters, `for` variables, `catch` names and pattern bindings are locals of their
  function, loop body, catch block or match arm.

Static errors are collected, not raised: `Resolution.errors` lists all of them with their
spans (`return` outside a function, `break`/`continue` outside a loop, duplicate or
ill-ordered parameters, a default value that waits, code after a lone name on its line).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from ..syntax import ast
from ..syntax.errors import FluentSyntaxError
from ..syntax.source import Span
from .resolution import FunctionLayout, Global, Local, Resolution
from .scopes import BLOCK, FUNCTION, LOOP, MODULE, Decl, Scope, layout


def resolve(program: ast.Program, *, known_globals: Collection[str] | None = None,
            consts: Collection[str] = ()) -> Resolution:
    """Resolve a program (or one REPL input, against the session's constants `consts`).
    With `known_globals` (the builtins, and anything else defined outside the program),
    global names that nothing defines are reported as errors (`fluentai check`)."""
    resolver = Resolver(program, set(consts))
    resolver.program()
    res = resolver.res
    if known_globals is not None:
        defined = set(known_globals) | resolver.top_names
        seen: set[tuple[str, int, int]] = set()
        for name, span in res.global_refs:
            key = (name, span.line, span.column)
            if name not in defined and key not in seen:
                seen.add(key)
                res.errors.append(FluentSyntaxError(f"'{name}' is not defined", span))
        res.errors.sort(key=lambda e: (e.span.line, e.span.column) if e.span else (0, 0))
    return res


class Resolver:
    def __init__(self, program: ast.Program, consts: set[str]) -> None:
        self.res = Resolution(program)
        self.consts = consts  # module constants, this input's and (REPL) earlier ones
        self.top_names: set[str] = set()  # every global the program itself defines
        self.scope = Scope(MODULE, None, program)
        self.loops = 0  # loops around the code being resolved, in the current function
        self.in_function = False
        # Uses to number once `layout` has given every declaration its slot, and pattern
        # bindings that store into another binding's slot.
        self.uses: list[tuple[Any, Decl, Scope]] = []
        self.aliases: list[tuple[Any, Decl]] = []
        self.visit: dict[type, Callable[[Any], None]] = {
            ast.Literal: self.leaf, ast.Break: self.break_, ast.Continue: self.continue_,
            ast.Var: self.var, ast.Assign: self.assign, ast.Lambda: self.lambda_,
            ast.Block: self.block, ast.If: self.children, ast.Loop: self.loop,
            ast.While: self.while_, ast.For: self.for_, ast.Try: self.try_,
            ast.Handle: self.handle, ast.Match: self.match, ast.Return: self.return_,
            ast.FunctionDecl: self.function_expr, ast.Let: self.let,
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
        for item in program.body:
            if isinstance(item, ast.FunctionDecl | ast.Let) and item.public:
                self.res.public.append(item.name)
        self.statements(program.body, top=True)
        self.res.defines_main = "main" in self.top_names
        self.res.calls_main = any(
            isinstance(n, ast.Call) and isinstance(n.callee, ast.Var) and n.callee.name == "main"
            for item in program.body if not isinstance(item, ast.FunctionDecl)
            for n in ast.walk(item, enter=ast.same_function))
        layout(self.scope)
        for node, decl, scope in self.uses:
            assert scope.frame is not None and decl.frame is not None
            self.res.refs[node] = Local(scope.frame.depth_to(decl.frame), decl.slot, decl.const,
                                        decl.name)
            self.res.declarations[node] = decl.key
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
        decl = self.scope.lookup(name)
        if decl is not None:
            self.uses.append((node, decl, self.scope))
            return None
        ref = Global(name, name in self.consts)
        self.res.refs[node] = ref
        self.res.global_refs.append((name, node.span))
        return ref

    # ------------------------------------------------------------------ statements
    def statements(self, nodes: tuple[ast.Node, ...], top: bool = False) -> None:
        """A sequence in the current scope; functions declared in it are hoisted."""
        if not top:
            for node in nodes:
                if isinstance(node, ast.FunctionDecl):
                    self.scope.declare(node.name, node)
        for i, node in enumerate(nodes):
            following = nodes[i + 1] if i + 1 < len(nodes) else None
            if (isinstance(node, ast.Var) and following is not None
                    and following.span.line == node.span.line):
                # A lone name has no effect; followed on its line by more code it is almost
                # always a misspelt keyword (`functoin f() {}`, `print x`).
                self.error(f"unexpected code after '{node.name}' on the same line: is "
                           f"'{node.name}' a misspelt keyword? (separate statements with ';' "
                           f"or a newline)", node.span)
            if isinstance(node, ast.FunctionDecl):
                self.function(node, node.params, node.body)
            elif isinstance(node, ast.Use):
                pass  # its names are globals (collected in `program`)
            elif isinstance(node, ast.Let) and top:
                self.node(node.value)
            else:
                self.node(node)

    def block(self, node: ast.Block) -> None:
        with self.entered(BLOCK):
            self.statements(node.body)

    def let(self, node: ast.Let) -> None:
        self.node(node.value)
        self.scope.declare(node.name, node, node.const)

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
            scope.declare(node.var, node)
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

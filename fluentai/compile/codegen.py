"""A resolved AST to Python closures, compiled once per program (the evaluator).

Every node becomes a closure `code(env) -> value`. Code that contains `.await()` becomes an
`async def` closure; everything else stays synchronous, so only code that can suspend pays
for coroutines. Where each name lives was decided by the resolver (`Resolution`): code
generation only reads it — a local is `env[slot]` so many frames up, a global is looked up
by name in the module's globals when reached.

Statement-context code (blocks, `if`, loops … used as statements) may return control
signals (see `runtime.functions`); expression code never does: there `return`, `break` and
`continue` raise. This module owns the walk itself — which module compiles each kind of
node, statement sequences and functions; the nodes are compiled in `names`, `expressions`,
`flow`, `calls`, `fastops` (operators), `loops`, `control` (`try`, `handle`) and `patterns`
(`match`).
"""

from __future__ import annotations

from collections.abc import Callable as PyCallable
from typing import Any

from ..resolve.resolution import Resolution
from ..runtime.functions import UNSET, Code, Function
from ..runtime.modules import Module
from ..runtime.tasks import Host
from ..syntax import ast
from ..syntax.source import Span
from . import expressions, flow, names
from .calls import compile_call, compile_method_call
from .control import compile_handle, compile_try
from .fastops import binary
from .loops import compile_for, compile_loop, compile_while
from .patterns import compile_match
from .support import Gen, as_async, const, is_async

Loader = PyCallable[[str, Span], tuple[Module, Code]]


def compile_program(res: Resolution, host: Host, module: Module,
                    loader: Loader | None = None) -> Code:
    """The code of a resolved program's top level (run it in a frame of
    `res.module_size` slots). Declares the program's public names and constants on
    `module`."""
    module.public.update(dict.fromkeys(res.public))
    module.consts |= res.consts
    return CodeGen(res, host, module, loader).statements(res.program.body, True, top=True)


class CodeGen:
    def __init__(self, res: Resolution, host: Host, module: Module,
                 loader: Loader | None) -> None:
        self.res = res
        self.host = host
        self.module = module
        self.module_globals = module.globals
        self.loader = loader
    # ------------------------------------------------------------------ dispatch
    def expr(self, node: ast.Node) -> Code:
        return _COMPILERS[type(node)](self, node, False)

    def code(self, node: ast.Node, stmt: bool) -> Code:
        return _COMPILERS[type(node)](self, node, stmt)

    # ------------------------------------------------------------------ statements and blocks
    def statements(self, nodes: tuple[ast.Node, ...], stmt: bool, top: bool = False) -> Code:
        """A sequence in the current frame; its value is the last statement's value.
        Functions declared in it are defined before its other statements run (hoisted);
        at the top level they, `let`s and `const`s are module globals."""
        unset = self.res.unset_slots.get(nodes)
        defines: list[Code] = [_mark_unset(unset)] if unset else []
        rest: list[ast.Node] = []
        for node in nodes:
            if isinstance(node, ast.FunctionDecl):
                make = self.function(node, node.name, node.params, node.body, node.is_async,
                                     node.span)
                defines.append(_define_global(self.module_globals, node.name, make) if top
                               else _define_local(self.res.slot(node), make))
            else:
                rest.append(node)
        first = rest[0] if rest else None
        if stmt and not defines and len(rest) == 2 and isinstance(first, ast.If) \
                and flow.is_guard(first):
            following = self.statement(rest[1], stmt, top)
            if not is_async(following):
                return flow.guarded(self, first, following)
            return _sequence([self.statement(rest[0], stmt, top), following], stmt)
        return _sequence(defines + [self.statement(n, stmt, top) for n in rest], stmt)

    def statement(self, node: ast.Node, stmt: bool, top: bool) -> Code:
        if top and isinstance(node, ast.Let):
            return names.let_global(self, node)
        if top and isinstance(node, ast.LetPattern):
            return names.let_pattern_global(self, node)
        return self.code(node, stmt)

    # ------------------------------------------------------------------ functions
    def function(self, node: Any, name: str, params: tuple[ast.Param, ...], body: ast.Node,
                 declared_async: bool, span: Span) -> Code:
        """Code that makes the Function value of `node`, closing over the env it runs in."""
        defaults = tuple((i, self.expr(p.default)) for i, p in enumerate(params)
                         if p.default is not None)
        if isinstance(body, ast.Block):
            code = self.statements(body.body, True)
        else:
            code = self.code(body, True)
        nslots = self.res.functions[node].size - 1
        names = tuple(p.name for p in params)
        checks = tuple((i, p.type) for i, p in enumerate(params) if p.type and p.type != "any")
        body_async = is_async(code)
        host = self.host

        def make(env: list[Any]) -> Function:
            return Function(name, names, checks, nslots, code, body_async, declared_async,
                            env, span, host, defaults)
        return make



def _mark_unset(slots: list[int]) -> Code:
    def mark(env: list[Any]) -> None:
        for slot in slots:
            env[slot] = UNSET
    return mark


def _define_global(g: dict[str, Any], name: str, make: Code) -> Code:
    def define(env: list[Any]) -> None:
        g[name] = make(env)
    return define


def _define_local(slot: int, make: Code) -> Code:
    def define(env: list[Any]) -> None:
        env[slot] = make(env)
    return define


def _sequence(codes: list[Code], stmt: bool) -> Code:
    """Run statements in order; in statement context, stop at the first control signal."""
    if not codes:
        return const(None)
    if any(is_async(c) for c in codes):
        acodes = [as_async(c) for c in codes]
        *init, last = acodes

        async def seq_async(env: list[Any]) -> Any:
            for c in init:
                v = await c(env)
                if type(v) is tuple:
                    return v
            return await last(env)
        return seq_async
    if len(codes) == 1:
        return codes[0]
    if len(codes) == 2:
        first, second = codes

        def seq2(env: list[Any]) -> Any:
            v = first(env)
            if type(v) is tuple:
                return v
            return second(env)
        return seq2
    *init_s, last_s = codes

    def seq(env: list[Any]) -> Any:
        for c in init_s:
            v = c(env)
            if type(v) is tuple:
                return v
        return last_s(env)
    return seq


Compiler = PyCallable[[Gen, Any, bool], Code]
# Which function compiles each kind of node: (generator, node, statement context) -> code.
_COMPILERS: dict[type, Compiler] = {
    # names
    ast.Var: names.var, ast.Assign: names.assign, ast.Let: names.let, ast.Use: names.use,
    ast.LetPattern: names.let_pattern,
    # expressions
    ast.Literal: expressions.literal, ast.FString: expressions.fstring,
    ast.Formatted: expressions.formatted,
    ast.ListLit: expressions.list_lit, ast.MapLit: expressions.map_lit,
    ast.Unary: expressions.unary, ast.Logical: expressions.logical,
    ast.Range: expressions.range_, ast.Pipe: expressions.pipe, ast.Await: expressions.await_,
    ast.Field: expressions.field, ast.Index: expressions.index,
    ast.Perform: expressions.perform,
    ast.Printable: lambda gen, n, s: gen.expr(n.value),  # `$(e)` is the value itself
    ast.Binary: lambda gen, n, s: binary(gen, n),
    ast.Call: lambda gen, n, s: compile_call(gen, n.callee, n.args, n.span),
    ast.MethodCall: lambda gen, n, s: compile_method_call(gen, n),
    ast.Lambda: lambda gen, n, s: gen.function(n, "<lambda>", n.params, n.body, False, n.span),
    # blocks and control flow
    ast.Block: lambda gen, n, s: gen.statements(n.body, s),
    ast.If: flow.if_, ast.Return: flow.return_, ast.Break: flow.break_,
    ast.Continue: flow.continue_, ast.Throw: flow.throw,
    ast.Loop: compile_loop, ast.While: compile_while, ast.For: compile_for,
    ast.Try: compile_try, ast.Handle: compile_handle, ast.Match: compile_match,
}

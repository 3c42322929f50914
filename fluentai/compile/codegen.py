"""A resolved AST to Python closures, compiled once per program (the evaluator).

Every node becomes a closure `code(env) -> value`. Code that contains `.await()` becomes an
`async def` closure; everything else stays synchronous, so only code that can suspend pays
for coroutines. Where each name lives was decided by the resolver (`Resolution`): code
generation only reads it — a local is `env[slot]` so many frames up, a global is looked up
by name in the module's globals when reached.

Statement-context code (blocks, `if`, loops … used as statements) may return control
signals (see `runtime.functions`); expression code never does: there `return`, `break` and
`continue` raise. This module compiles statements, names, literals, functions and simple
expressions; calls, operators, loops, `try`/`handle` and `match` have modules of their own.
"""

from __future__ import annotations

import operator
from collections.abc import Callable as PyCallable
from typing import Any

from ..resolve.resolution import Global, Local, Resolution
from ..runtime.functions import (
    BREAK,
    CONTINUE,
    BreakEx,
    Code,
    ContinueEx,
    Function,
    ReturnEx,
)
from ..runtime.modules import Module
from ..runtime.operators import (
    BINARY,
    get_field,
    get_index,
    make_range,
    negate,
    set_field,
    set_index,
)
from ..runtime.tasks import Host, wait_without_cycles
from ..runtime.values import Promise, Thrown, display, truthy
from ..syntax import ast
from ..syntax.errors import FluentError, FluentSyntaxError, NameErr, RuntimeFault, TypeErr
from ..syntax.source import Span
from .calls import compile_call, compile_method_call
from .control import compile_handle, compile_try
from .fastops import COMPARE_OPS, binary, slot_const
from .loops import compile_for, compile_loop, compile_while
from .patterns import compile_match
from .support import as_async, const, is_async, located

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
        self._compile: dict[type, PyCallable[[Any, bool], Code]] = {
            ast.Literal: self.literal, ast.FString: self.fstring, ast.Var: self.var,
            ast.ListLit: self.list_lit, ast.MapLit: self.map_lit, ast.Unary: self.unary,
            ast.Binary: lambda n, s: binary(self, n), ast.Logical: self.logical,
            ast.Range: self.range_, ast.Pipe: self.pipe,
            ast.Call: lambda n, s: compile_call(self, n.callee, n.args, n.span),
            ast.MethodCall: lambda n, s: compile_method_call(self, n),
            ast.Await: self.await_, ast.Field: self.field, ast.Index: self.index,
            ast.Assign: self.assign, ast.Lambda: self.lambda_, ast.Block: self.block,
            ast.If: self.if_, ast.Loop: lambda n, s: compile_loop(self, n, s),
            ast.While: lambda n, s: compile_while(self, n, s),
            ast.For: lambda n, s: compile_for(self, n, s),
            ast.Try: lambda n, s: compile_try(self, n, s), ast.Perform: self.perform,
            ast.Handle: lambda n, s: compile_handle(self, n, s),
            ast.Printable: lambda n, s: self.expr(n.value),  # `$(e)` is the value itself
            ast.Match: lambda n, s: compile_match(self, n, s), ast.Let: self.let,
            ast.Return: self.return_, ast.Break: self.break_, ast.Continue: self.continue_,
            ast.Throw: self.throw, ast.Use: self.use,
        }

    # ------------------------------------------------------------------ dispatch
    def expr(self, node: ast.Node) -> Code:
        return self._compile[type(node)](node, False)

    def code(self, node: ast.Node, stmt: bool) -> Code:
        return self._compile[type(node)](node, stmt)

    # ------------------------------------------------------------------ statements and blocks
    def statements(self, nodes: tuple[ast.Node, ...], stmt: bool, top: bool = False) -> Code:
        """A sequence in the current frame; its value is the last statement's value.
        Functions declared in it are defined before its other statements run (hoisted);
        at the top level they, `let`s and `const`s are module globals."""
        defines: list[Code] = []
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
                and _is_guard(first):
            following = self.statement(rest[1], stmt, top)
            if not is_async(following):
                return self.guarded(first, following)
            return _sequence([self.statement(rest[0], stmt, top), following], stmt)
        return _sequence(defines + [self.statement(n, stmt, top) for n in rest], stmt)

    def statement(self, node: ast.Node, stmt: bool, top: bool) -> Code:
        if top and isinstance(node, ast.Let):
            return self.let_global(node)
        return self.code(node, stmt)

    def block(self, node: ast.Block, stmt: bool) -> Code:
        return self.statements(node.body, stmt)

    def let(self, node: ast.Let, stmt: bool) -> Code:
        value = self.expr(node.value)
        slot = self.res.slot(node)
        if is_async(value):
            async def let_async(env: list[Any]) -> None:
                env[slot] = await value(env)
            return let_async

        def let_local(env: list[Any]) -> None:
            env[slot] = value(env)
        return let_local

    def let_global(self, node: ast.Let) -> Code:
        value = self.expr(node.value)
        g, name = self.module_globals, node.name
        if is_async(value):
            async def let_global_async(env: list[Any]) -> None:
                g[name] = await value(env)
            return let_global_async

        def let_global(env: list[Any]) -> None:
            g[name] = value(env)
        return let_global

    def use(self, node: ast.Use, stmt: bool) -> Code:
        if self.loader is None:
            raise FluentSyntaxError("'use' is not available here", node.span)
        module, code = self.loader(node.module, node.span)
        g, span, names = self.module_globals, node.span, node.names

        def bind() -> None:
            exports = module.exports()
            if names is None:
                g[node.module] = exports
                return
            for n in names:
                if n not in exports:
                    hint = " (it is private)" if n in module.globals else ""
                    raise NameErr(f"module '{node.module}' has no public '{n}'{hint}").at(span)
                g[n] = exports[n]

        if is_async(code):
            async def use_async(env: list[Any]) -> None:
                await code(env)
                bind()
            return use_async

        def use_sync(env: list[Any]) -> None:
            code(env)
            bind()
        return use_sync

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

    def lambda_(self, node: ast.Lambda, stmt: bool) -> Code:
        return self.function(node, "<lambda>", node.params, node.body, False, node.span)

    # ------------------------------------------------------------------ names
    def var(self, node: ast.Var, stmt: bool) -> Code:
        ref = self.res.ref(node)
        if type(ref) is Global:
            g, name, span = self.module_globals, ref.name, node.span

            def get_global(env: list[Any]) -> Any:
                try:
                    return g[name]
                except KeyError:
                    raise NameErr(f"'{name}' is not defined").at(span) from None
            return get_global
        assert type(ref) is Local
        slot, depth = ref.slot, ref.depth
        if depth == 0:
            return lambda env: env[slot]
        if depth == 1:
            return lambda env: env[0][slot]
        if depth == 2:
            return lambda env: env[0][0][slot]

        def get_deep(env: list[Any]) -> Any:
            for _ in range(depth):
                env = env[0]
            return env[slot]
        return get_deep

    def assign(self, node: ast.Assign, stmt: bool) -> Code:
        value = self.expr(node.value)
        op = None if node.op == "=" else BINARY[node.op[0]]
        span, target = node.span, node.target
        if isinstance(target, ast.Var):
            return self.assign_var(self.res.ref(target), op, value, span)
        obj = self.expr(target.target)  # type: ignore[attr-defined]
        if isinstance(target, ast.Field):
            key_code: Code | None = None
            fname = target.name
            getter: PyCallable[[Any, Any], Any] = lambda o, k: get_field(o, fname)  # noqa: E731
            setter: PyCallable[[Any, Any, Any], None] = lambda o, k, v: set_field(o, fname, v)  # noqa: E731
        else:
            assert isinstance(target, ast.Index)
            key_code = self.expr(target.index)
            getter, setter = get_index, set_index
        if any(is_async(c) for c in (value, obj, key_code) if c is not None):
            avalue, aobj = as_async(value), as_async(obj)
            akey = as_async(key_code) if key_code is not None else None

            async def assign_item_async(env: list[Any]) -> Any:
                o = await aobj(env)
                k = await akey(env) if akey is not None else None
                old = located(span, getter, o, k) if op is not None else None
                return _store(o, k, old, await avalue(env), op, setter, span)
            return assign_item_async
        if op is None and key_code is not None:
            index = key_code

            def assign_index(env: list[Any]) -> Any:
                o = obj(env)
                k = index(env)
                v = value(env)
                t = type(o)
                if (t is list and type(k) is int and 0 <= k < len(o)) or (
                        t is dict and type(k) is str):
                    o[k] = v
                    return v
                return _store(o, k, None, v, None, setter, span)
            return assign_index

        def assign_item(env: list[Any]) -> Any:
            o = obj(env)
            k = key_code(env) if key_code is not None else None
            old = located(span, getter, o, k) if op is not None else None
            return _store(o, k, old, value(env), op, setter, span)
        return assign_item

    def assign_var(self, ref: Local | Global, op: Any, value: Code, span: Span) -> Code:
        if ref.const:
            name = ref.name
            return _raiser(TypeErr(f"cannot assign to constant '{name}'"), span)
        if type(ref) is Global:
            return _assign_global(self.module_globals, ref.name, op, value, span)
        assert type(ref) is Local
        slot, depth = ref.slot, ref.depth
        if depth == 0 and not is_async(value):
            if op is None:
                def assign_local(env: list[Any]) -> Any:
                    v = env[slot] = value(env)
                    return v
                return assign_local
            fast_local = _FAST_COMPOUND.get(op)

            def assign_local_op(env: list[Any]) -> Any:
                old = env[slot]
                v = value(env)
                if fast_local is not None and type(old) is int and type(v) is int:
                    v = fast_local(old, v)
                else:
                    v = located(span, op, old, v)
                env[slot] = v
                return v
            return assign_local_op

        def home(env: list[Any]) -> list[Any]:
            for _ in range(depth):
                env = env[0]
            return env

        return _assign_through(lambda env: home(env)[slot], lambda env, v: home(env).__setitem__(slot, v),
                               op, value, span)

    # ------------------------------------------------------------------ literals
    def literal(self, node: ast.Literal, stmt: bool) -> Code:
        return const(node.value)

    def list_lit(self, node: ast.ListLit, stmt: bool) -> Code:
        items = [self.expr(i) for i in node.items]
        if any(is_async(c) for c in items):
            aitems = [as_async(c) for c in items]

            async def list_async(env: list[Any]) -> Any:
                return [await c(env) for c in aitems]
            return list_async
        return lambda env: [c(env) for c in items]

    def map_lit(self, node: ast.MapLit, stmt: bool) -> Code:
        pairs = [(k, self.expr(v)) for k, v in node.pairs]
        if any(is_async(c) for _, c in pairs):
            apairs = [(k, as_async(c)) for k, c in pairs]

            async def map_async(env: list[Any]) -> Any:
                return {k: await c(env) for k, c in apairs}
            return map_async
        return lambda env: {k: c(env) for k, c in pairs}

    def fstring(self, node: ast.FString, stmt: bool) -> Code:
        parts = [const(p) if isinstance(p, str) else _displayed(self.expr(p)) for p in node.parts]
        if any(is_async(c) for c in parts):
            aparts = [as_async(c) for c in parts]

            async def fstring_async(env: list[Any]) -> str:
                return "".join([await c(env) for c in aparts])
            return fstring_async
        return lambda env: "".join([c(env) for c in parts])

    # ------------------------------------------------------------------ operators
    def unary(self, node: ast.Unary, stmt: bool) -> Code:
        operand = self.expr(node.operand)
        span = node.span
        if node.op == "!":
            fn: PyCallable[[Any], Any] = lambda v: not truthy(v)  # noqa: E731
        else:
            fn = lambda v: -v if type(v) is int or type(v) is float else located(span, negate, v)  # noqa: E731
        if is_async(operand):
            async def unary_async(env: list[Any]) -> Any:
                return fn(await operand(env))
            return unary_async
        return lambda env: fn(operand(env))

    def logical(self, node: ast.Logical, stmt: bool) -> Code:
        left, right = self.expr(node.left), self.expr(node.right)
        is_and = node.op == "&&"
        if is_async(left) or is_async(right):
            aleft, aright = as_async(left), as_async(right)

            async def logical_async(env: list[Any]) -> Any:
                v = await aleft(env)
                if truthy(v) is not is_and:
                    return v
                return await aright(env)
            return logical_async
        if is_and:
            def and_(env: list[Any]) -> Any:
                v = left(env)
                return right(env) if truthy(v) else v
            return and_

        def or_(env: list[Any]) -> Any:
            v = left(env)
            return v if truthy(v) else right(env)
        return or_

    def range_(self, node: ast.Range, stmt: bool) -> Code:
        start, end = self.expr(node.start), self.expr(node.end)
        inclusive, span = node.inclusive, node.span
        if is_async(start) or is_async(end):
            astart, aend = as_async(start), as_async(end)

            async def range_async(env: list[Any]) -> Any:
                s, e = await astart(env), await aend(env)
                return list(located(span, make_range, s, e, inclusive))
            return range_async
        return lambda env: list(located(span, make_range, start(env), end(env), inclusive))

    def pipe(self, node: ast.Pipe, stmt: bool) -> Code:
        """`x |> f(a)` is `f(x, a)`; `x |> r.m(a)` calls the field `r.m`; `x |> g` is `g(x)`."""
        target = node.target
        if isinstance(target, ast.Call):
            return compile_call(self, target.callee, (node.value, *target.args), node.span)
        if isinstance(target, ast.MethodCall):
            field = ast.Field(target.span, target.receiver, target.name)
            return compile_call(self, field, (node.value, *target.args), node.span)
        return compile_call(self, target, (node.value,), node.span)

    # ------------------------------------------------------------------ postfix
    def await_(self, node: ast.Await, stmt: bool) -> Code:
        value = as_async(self.expr(node.value))
        span = node.span

        async def await_(env: list[Any]) -> Any:
            v = await value(env)
            if type(v) is Promise:
                try:
                    if v.done:
                        return v.settled_value()
                    return await wait_without_cycles(v)
                except FluentError as e:
                    raise e.at(span) from None
            return v
        return await_

    def field(self, node: ast.Field, stmt: bool) -> Code:
        target = self.expr(node.target)
        name, span = node.name, node.span
        if is_async(target):
            async def field_async(env: list[Any]) -> Any:
                o = await target(env)
                return o.get(name) if type(o) is dict else located(span, get_field, o, name)
            return field_async

        def field(env: list[Any]) -> Any:
            o = target(env)
            return o.get(name) if type(o) is dict else located(span, get_field, o, name)
        return field

    def index(self, node: ast.Index, stmt: bool) -> Code:
        target, index = self.expr(node.target), self.expr(node.index)
        span = node.span
        if is_async(target) or is_async(index):
            atarget, aindex = as_async(target), as_async(index)

            async def index_async(env: list[Any]) -> Any:
                o = await atarget(env)
                return located(span, get_index, o, await aindex(env))
            return index_async

        def index_(env: list[Any]) -> Any:
            o = target(env)
            i = index(env)
            if type(o) is list and type(i) is int and 0 <= i < len(o):
                return o[i]
            return located(span, get_index, o, i)
        return index_

    # ------------------------------------------------------------------ control flow
    def if_(self, node: ast.If, stmt: bool) -> Code:
        if stmt and _is_guard(node):
            # `if c { return v }`: the guard clause of most functions, one closure.
            ret = node.then.body[0]
            assert isinstance(ret, ast.Return)
            cond, value = self.expr(node.cond), self._return_value(ret)

            def if_return(env: list[Any]) -> Any:
                c = cond(env)
                if c is True or (c is not False and c is not None and truthy(c)):
                    return (value(env),)
                return None
            return if_return
        cond = self.expr(node.cond)
        then = self.code(node.then, stmt)
        orelse = self.code(node.orelse, stmt) if node.orelse is not None else None
        if any(is_async(c) for c in (cond, then, orelse) if c is not None):
            acond, athen = as_async(cond), as_async(then)
            aelse = as_async(orelse) if orelse is not None else None

            async def if_async(env: list[Any]) -> Any:
                if truthy(await acond(env)):
                    return await athen(env)
                return await aelse(env) if aelse is not None else None
            return if_async
        if orelse is None:
            def if_(env: list[Any]) -> Any:
                c = cond(env)
                if c is True or (c is not False and c is not None and truthy(c)):
                    return then(env)
                return None
            return if_

        def if_else(env: list[Any]) -> Any:
            c = cond(env)
            if c is True or (c is not False and c is not None and truthy(c)):
                return then(env)
            return orelse(env)
        return if_else

    def guarded(self, node: ast.If, rest: Code) -> Code:
        """`if c { return v }` followed by the rest of a body, fused into one closure."""
        ret = node.then.body[0]
        assert isinstance(ret, ast.Return)
        cond, value = self.expr(node.cond), self._return_value(ret)
        slot = self.res.local_slot(ret.value) if ret.value is not None else None
        compare = slot_const(self.res, node.cond, COMPARE_OPS)
        if compare is not None and slot is not None:
            test, cslot, c = compare
            ctype = type(c)
            if test is operator.lt:
                # `if n < K { return v }`, the commonest guard, with the comparison inline.
                def guarded_lt(env: list[Any]) -> Any:
                    a = env[cslot]
                    if type(a) is ctype:
                        if a < c:
                            return (env[slot],)
                        return rest(env)
                    if truthy(cond(env)):
                        return (env[slot],)
                    return rest(env)
                return guarded_lt

            def guarded_compare(env: list[Any]) -> Any:
                a = env[cslot]
                if type(a) is ctype:
                    if test(a, c):
                        return (env[slot],)
                    return rest(env)
                if truthy(cond(env)):  # other types: the full comparison and its errors
                    return (env[slot],)
                return rest(env)
            return guarded_compare

        def guarded(env: list[Any]) -> Any:
            c = cond(env)
            if c is True or (c is not False and c is not None and truthy(c)):
                return (env[slot] if slot is not None else value(env),)
            return rest(env)
        return guarded

    def _return_value(self, node: ast.Return) -> Code:
        return self.expr(node.value) if node.value is not None else const(None)

    def return_(self, node: ast.Return, stmt: bool) -> Code:
        value = self._return_value(node)
        if stmt:
            if is_async(value):
                async def return_signal_async(env: list[Any]) -> Any:
                    return (await value(env),)
                return return_signal_async
            read = self.res.local_slot(node.value) if node.value is not None else None
            if read is not None:
                return lambda env: (env[read],)
            return lambda env: (value(env),)
        if is_async(value):
            async def return_raise_async(env: list[Any]) -> Any:
                raise ReturnEx(await value(env))
            return return_raise_async

        def return_raise(env: list[Any]) -> Any:
            raise ReturnEx(value(env))
        return return_raise

    def break_(self, node: ast.Break, stmt: bool) -> Code:
        if stmt:
            return const(BREAK)
        return _raiser_of(BreakEx)

    def continue_(self, node: ast.Continue, stmt: bool) -> Code:
        if stmt:
            return const(CONTINUE)
        return _raiser_of(ContinueEx)

    def throw(self, node: ast.Throw, stmt: bool) -> Code:
        value = self.expr(node.value)
        span = node.span
        if is_async(value):
            async def throw_async(env: list[Any]) -> Any:
                raise Thrown(await value(env), span)
            return throw_async

        def throw(env: list[Any]) -> Any:
            raise Thrown(value(env), span)
        return throw

    # ------------------------------------------------------------------ effects
    def perform(self, node: ast.Perform, stmt: bool) -> Code:
        args = [self.expr(a) for a in node.args]
        effect, op, span = node.effect, node.op, node.span
        perform = self.host.perform
        if any(is_async(a) for a in args):
            aargs = [as_async(a) for a in args]

            async def perform_async(env: list[Any]) -> Any:
                values = [await a(env) for a in aargs]
                try:
                    return perform(effect, op, values, span)
                except FluentError as e:
                    raise e.at(span) from None
            return perform_async

        def perform_(env: list[Any]) -> Any:
            values = [a(env) for a in args]
            try:
                return perform(effect, op, values, span)
            except FluentError as e:
                raise e.at(span) from None
        return perform_


# ---------------------------------------------------------------------- helpers
# Compound assignment on two ints: no operator dispatch, no error possible.
_FAST_COMPOUND: dict[Any, Any] = {
    BINARY["+"]: lambda a, b: a + b,
    BINARY["-"]: lambda a, b: a - b,
    BINARY["*"]: lambda a, b: a * b,
}


def _is_guard(node: ast.Node) -> bool:
    """`if c { return v }` without `else`, with nothing that waits."""
    return (isinstance(node, ast.If) and node.orelse is None and len(node.then.body) == 1
            and isinstance(node.then.body[0], ast.Return) and not ast.waits(node))


def _displayed(code: Code) -> Code:
    if is_async(code):
        async def display_async(env: list[Any]) -> str:
            return display(await code(env))
        return display_async

    def display_(env: list[Any]) -> str:
        v = code(env)
        return v if type(v) is str else display(v)
    return display_


def _raiser(error: RuntimeFault, span: Span) -> Code:
    def raise_(env: list[Any]) -> Any:
        raise RuntimeFault(error.kind, error.message, span)
    return raise_


def _raiser_of(exc: type[Exception]) -> Code:
    def raise_(env: list[Any]) -> Any:
        raise exc()
    return raise_


def _store(o: Any, k: Any, old: Any, v: Any, op: Any, setter: Any, span: Span) -> Any:
    """Finish `o[k] = v` / `o.k op= v`; `old` is the target's value read before `v`."""
    try:
        if op is not None:
            v = op(old, v)
        setter(o, k, v)
    except FluentError as e:
        raise e.at(span) from None
    return v


def _assign_global(g: dict[str, Any], name: str, op: Any, value: Code, span: Span) -> Code:
    def get(env: list[Any]) -> Any:
        try:
            return g[name]
        except KeyError:
            raise NameErr(
                f"'{name}' is not defined (declare it with 'let {name} = ...')"
            ).at(span) from None

    def put(env: list[Any], v: Any) -> None:
        if name not in g:
            get(env)
        g[name] = v

    if op is not None and not is_async(value):
        fast_op = _FAST_COMPOUND.get(op)

        def assign_global_op(env: list[Any]) -> Any:
            old = g[name] if name in g else get(env)
            v = value(env)
            if fast_op is not None and type(old) is int and type(v) is int:
                v = fast_op(old, v)
            else:
                v = located(span, op, old, v)
            g[name] = v
            return v
        return assign_global_op
    return _assign_through(get, put, op, value, span)


def _assign_through(get: PyCallable[[list[Any]], Any],
                    put: PyCallable[[list[Any], Any], None],
                    op: Any, value: Code, span: Span) -> Code:
    """`x = v` / `x op= v` for a variable reached through `get` and `put`."""
    if is_async(value):
        async def assign_async(env: list[Any]) -> Any:
            if op is None:
                v = await value(env)
            else:
                old = get(env)
                v = located(span, op, old, await value(env))
            put(env, v)
            return v
        return assign_async
    if op is None:
        def assign(env: list[Any]) -> Any:
            v = value(env)
            put(env, v)
            return v
        return assign
    fast = _FAST_COMPOUND.get(op)

    def assign_op(env: list[Any]) -> Any:
        old = get(env)
        v = value(env)
        if fast is not None and type(old) is int and type(v) is int:
            v = fast(old, v)
        else:
            v = located(span, op, old, v)
        put(env, v)
        return v
    return assign_op


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

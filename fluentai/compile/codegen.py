"""AST to Python closures, compiled once per program (the evaluator).

Every node becomes a closure `code(env) -> value`. Code that contains `.await()` becomes an
`async def` closure; everything else stays synchronous, so only code that can suspend pays
for coroutines. Variables are resolved to (depth, slot) at compile time (see `scope`);
names found in no scope are module globals, looked up by name when reached.

`stmt` compilation (blocks, `if`, loops … used as statements) may return control signals
(see `runtime`); expression compilation never does: there `return`, `break` and
`continue` raise.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable as PyCallable
from typing import Any

from ..resolve.scopes import Block, Frame
from ..runtime.functions import BREAK, CONTINUE, BreakEx, Code, ContinueEx, Function, ReturnEx
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
from . import control, loops
from .calls import compile_call, compile_method_call
from .fastops import SLOT_CONST_COMPARISONS, binary
from .patterns import PatternCompiler
from .support import (
    as_async,
    is_async,
    local_reader,
    local_slot,
    located,
    mark_global_reader,
)


class Module:
    """A compiled module's run-time state: its globals and which of them are public."""

    def __init__(self, name: str, path: str | None, globals_: dict[str, Any]) -> None:
        self.name = name
        self.path = path
        self.globals = globals_
        self.public: dict[str, None] = {}  # an ordered set: exports keep source order
        self.consts: set[str] = set()


class FnContext:
    def __init__(self, name: str, is_async: bool) -> None:
        self.name = name
        self.is_async = is_async


Loader = PyCallable[[str, Span], tuple[Module, Code]]


class Compiler:
    def __init__(self, host: Host, module: Module, loader: Loader | None = None) -> None:
        self.host = host
        self.module = module
        self.loader = loader
        self.frame = Frame(None, module)
        self.block = Block(None, self.frame, is_module_top=True)
        self.fn: FnContext | None = None
        self.loops = 0
        self.patterns = PatternCompiler(self)
        # Names left to run-time global lookup, with where they are used (for `check`).
        self.global_refs: list[tuple[str, Span]] = []

    # ------------------------------------------------------------------ entry points
    def program(self, program: ast.Program) -> tuple[Code, int]:
        """Compile a whole program (or REPL input): returns the top-level code and the size
        of the module frame it needs."""
        for item in program.body:
            if isinstance(item, ast.Let) and item.const:
                self.module.consts.add(item.name)
        code = self.statements(list(program.body), stmt=True, top=True)
        return code, self.frame.size

    # ------------------------------------------------------------------ dispatch
    def expr(self, node: ast.Node) -> Code:
        return self.compile(node, False)

    def compile(self, node: ast.Node, stmt: bool) -> Code:
        method = getattr(self, "c_" + type(node).__name__)
        code: Code = method(node, stmt)
        return code

    # ------------------------------------------------------------------ statements and blocks
    def statements(self, nodes: list[ast.Node], stmt: bool, top: bool = False,
                   prelude: list[Code] | None = None) -> Code:
        """A sequence in the current block; its value is the last statement's value."""
        hoisted: list[tuple[int, Code]] = []
        decls = [n for n in nodes if isinstance(n, ast.FunctionDecl)]
        if top:
            for d in decls:
                if d.public:
                    self.module.public[d.name] = None
        else:
            bindings = {d.name: self.block.declare(d.name) for d in decls}
        codes: list[Code] = list(prelude or ())
        fn_codes: list[Code] = []
        for i, node in enumerate(nodes):
            following = nodes[i + 1] if i + 1 < len(nodes) else None
            if (isinstance(node, ast.Var) and following is not None
                    and following.span.line == node.span.line):
                # A lone name has no effect; followed on its line by more code it is almost
                # always a misspelt keyword (`functoin f() {}`, `print x`).
                raise FluentSyntaxError(
                    f"unexpected code after '{node.name}' on the same line: is '{node.name}' "
                    f"a misspelt keyword? (separate statements with ';' or a newline)",
                    node.span)
            if isinstance(node, ast.FunctionDecl):
                make = self.function(node.name, node.params, node.body, node.is_async, node.span)
                if top:
                    fn_codes.append(_define_global(self.module.globals, node.name, make))
                else:
                    hoisted.append((bindings[node.name].slot, make))
                continue
            codes.append(self.statement(node, stmt, top))
        if hoisted:
            fn_codes.extend(_define_local(slot, make) for slot, make in hoisted)
        return _sequence(fn_codes + codes, stmt)

    def statement(self, node: ast.Node, stmt: bool, top: bool) -> Code:
        if isinstance(node, ast.Let):
            return self.let(node, top)
        if isinstance(node, ast.Use):
            return self.use(node)
        return self.compile(node, stmt)

    def c_Block(self, node: ast.Block, stmt: bool) -> Code:  # noqa: N802
        saved = self.block
        self.block = Block(saved, self.frame)
        try:
            return self.statements(list(node.body), stmt)
        finally:
            self.block = saved

    def let(self, node: ast.Let, top: bool) -> Code:
        value = self.expr(node.value)
        if top and self.block.is_module_top:
            g = self.module.globals
            name = node.name
            if node.public:
                self.module.public[name] = None
            if is_async(value):
                async def let_global_async(env: list[Any]) -> None:
                    g[name] = await value(env)
                return let_global_async

            def let_global(env: list[Any]) -> None:
                g[name] = value(env)
            return let_global
        slot = self.block.declare(node.name, node.const).slot
        if is_async(value):
            async def let_async(env: list[Any]) -> None:
                env[slot] = await value(env)
            return let_async

        def let_local(env: list[Any]) -> None:
            env[slot] = value(env)
        return let_local

    def use(self, node: ast.Use) -> Code:
        if self.loader is None:
            raise FluentSyntaxError("'use' is not available here", node.span)
        module, code = self.loader(node.module, node.span)
        g = self.module.globals
        span = node.span
        names = node.names

        def bind() -> None:
            exports = {k: module.globals[k] for k in module.public if k in module.globals}
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
    def function(self, name: str, params: tuple[ast.Param, ...], body: ast.Node,
                 declared_async: bool, span: Span) -> Code:
        """Compile a function body; returns code that makes the Function value in an env."""
        saved = (self.block, self.frame, self.fn, self.loops)
        self.frame = Frame(self.frame, object())
        self.block = Block(saved[0], self.frame)
        self.fn = FnContext(name, declared_async)
        self.loops = 0
        try:
            seen: set[str] = set()
            for p in params:
                if p.name in seen:
                    raise FluentSyntaxError(f"duplicate parameter '{p.name}'", p.span)
                seen.add(p.name)
                self.block.declare(p.name)
            defaults: list[tuple[int, Code]] = []
            for i, p in enumerate(params):
                if p.default is not None:
                    default = self.expr(p.default)
                    if is_async(default):
                        raise FluentSyntaxError("a default value cannot use .await()", p.span)
                    defaults.append((i, default))
                elif defaults:
                    raise FluentSyntaxError(
                        f"parameter '{p.name}' needs a default value: it follows one that has",
                        p.span)
            if isinstance(body, ast.Block):
                code = self.statements(list(body.body), stmt=True)
            else:
                code = self.compile(body, True)
            nslots = self.frame.size - 1
        finally:
            self.block, self.frame, self.fn, self.loops = saved
        names = tuple(p.name for p in params)
        checks = tuple((i, p.type) for i, p in enumerate(params) if p.type and p.type != "any")
        body_async = is_async(code)
        host = self.host
        fixed_defaults = tuple(defaults)

        def make(env: list[Any]) -> Function:
            return Function(name, names, checks, nslots, code, body_async, declared_async,
                            env, span, host, fixed_defaults)
        return make

    def c_FunctionDecl(self, node: ast.FunctionDecl, stmt: bool) -> Code:  # noqa: N802
        # Reached only where a declaration is used as an expression operand.
        raise FluentSyntaxError("a function declaration is not an expression", node.span)

    def c_Lambda(self, node: ast.Lambda, stmt: bool) -> Code:  # noqa: N802
        return self.function("<lambda>", node.params, node.body, False, node.span)

    # ------------------------------------------------------------------ variables
    def c_Var(self, node: ast.Var, stmt: bool) -> Code:  # noqa: N802
        found = self.block.resolve(node.name, self.frame)
        name = node.name
        if found is None:
            g = self.module.globals
            span = node.span
            self.global_refs.append((name, span))

            def get_global(env: list[Any]) -> Any:
                try:
                    return g[name]
                except KeyError:
                    raise NameErr(f"'{name}' is not defined").at(span) from None
            return mark_global_reader(get_global, g, name)
        binding, depth = found
        slot = binding.slot
        if depth == 0:
            return local_reader(slot)
        if depth == 1:
            return lambda env: env[0][slot]
        if depth == 2:
            return lambda env: env[0][0][slot]

        def get_deep(env: list[Any]) -> Any:
            for _ in range(depth):
                env = env[0]
            return env[slot]
        return get_deep

    def c_Assign(self, node: ast.Assign, stmt: bool) -> Code:  # noqa: N802
        value = self.expr(node.value)
        op = None if node.op == "=" else BINARY[node.op[0]]
        span = node.span
        target = node.target
        if isinstance(target, ast.Var):
            return self.assign_var(target, op, value, span)
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

    def assign_var(self, target: ast.Var, op: Any, value: Code, span: Span) -> Code:
        name = target.name
        found = self.block.resolve(name, self.frame)
        if found is None:
            g = self.module.globals
            self.global_refs.append((name, span))
            if name in self.module.consts:
                return _raiser(TypeErr(f"cannot assign to constant '{name}'"), span)

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
        else:
            binding, depth = found
            if binding.const:
                return _raiser(TypeErr(f"cannot assign to constant '{name}'"), span)
            slot = binding.slot

            def home(env: list[Any]) -> list[Any]:
                for _ in range(depth):
                    env = env[0]
                return env

            def get(env: list[Any]) -> Any:
                return home(env)[slot]

            def put(env: list[Any], v: Any) -> None:
                home(env)[slot] = v

            if op is None and depth == 0 and not is_async(value):
                def assign_local(env: list[Any]) -> Any:
                    v = env[slot] = value(env)
                    return v
                return assign_local
            if op is not None and depth == 0 and not is_async(value):
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

    # ------------------------------------------------------------------ literals
    def c_Literal(self, node: ast.Literal, stmt: bool) -> Code:  # noqa: N802
        value = node.value
        return lambda env: value

    def c_ListLit(self, node: ast.ListLit, stmt: bool) -> Code:  # noqa: N802
        items = [self.expr(i) for i in node.items]
        if any(is_async(c) for c in items):
            aitems = [as_async(c) for c in items]

            async def list_async(env: list[Any]) -> Any:
                return [await c(env) for c in aitems]
            return list_async
        return lambda env: [c(env) for c in items]

    def c_MapLit(self, node: ast.MapLit, stmt: bool) -> Code:  # noqa: N802
        pairs = [(k, self.expr(v)) for k, v in node.pairs]
        if any(is_async(c) for _, c in pairs):
            apairs = [(k, as_async(c)) for k, c in pairs]

            async def map_async(env: list[Any]) -> Any:
                return {k: await c(env) for k, c in apairs}
            return map_async
        return lambda env: {k: c(env) for k, c in pairs}

    def c_FString(self, node: ast.FString, stmt: bool) -> Code:  # noqa: N802
        parts: list[Code] = []
        for p in node.parts:
            if isinstance(p, str):
                parts.append(_const(p))
            else:
                parts.append(_displayed(self.expr(p)))
        if any(is_async(c) for c in parts):
            aparts = [as_async(c) for c in parts]

            async def fstring_async(env: list[Any]) -> str:
                return "".join([await c(env) for c in aparts])
            return fstring_async
        return lambda env: "".join([c(env) for c in parts])

    def c_Printable(self, node: ast.Printable, stmt: bool) -> Code:  # noqa: N802
        # `$(e)` is the value itself: every value has .print() and .to_string().
        return self.expr(node.value)

    # ------------------------------------------------------------------ operators
    def c_Unary(self, node: ast.Unary, stmt: bool) -> Code:  # noqa: N802
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

    def c_Binary(self, node: ast.Binary, stmt: bool) -> Code:  # noqa: N802
        left, right = self.expr(node.left), self.expr(node.right)
        return binary(node.op, left, right, node.span, node.right)

    def c_Logical(self, node: ast.Logical, stmt: bool) -> Code:  # noqa: N802
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

    def c_Range(self, node: ast.Range, stmt: bool) -> Code:  # noqa: N802
        start, end = self.expr(node.start), self.expr(node.end)
        inclusive, span = node.inclusive, node.span
        if is_async(start) or is_async(end):
            astart, aend = as_async(start), as_async(end)

            async def range_async(env: list[Any]) -> Any:
                s, e = await astart(env), await aend(env)
                return list(located(span, make_range, s, e, inclusive))
            return range_async
        return lambda env: list(located(span, make_range, start(env), end(env), inclusive))

    # ------------------------------------------------------------------ calls
    def c_Call(self, node: ast.Call, stmt: bool) -> Code:  # noqa: N802
        callee = self.expr(node.callee)
        args = [self.expr(a) for a in node.args]
        return compile_call(callee, args, node.span, _callee_name(node.callee))

    def c_Pipe(self, node: ast.Pipe, stmt: bool) -> Code:  # noqa: N802
        target = node.target
        if isinstance(target, ast.Call):
            return self.c_Call(ast.Call(node.span, target.callee, (node.value, *target.args)), stmt)
        if isinstance(target, ast.MethodCall):
            call = ast.Call(node.span, ast.Field(target.span, target.receiver, target.name),
                            (node.value, *target.args))
            return self.c_Call(call, stmt)
        return self.c_Call(ast.Call(node.span, target, (node.value,)), stmt)

    def c_MethodCall(self, node: ast.MethodCall, stmt: bool) -> Code:  # noqa: N802
        receiver = self.expr(node.receiver)
        args = [self.expr(a) for a in node.args]
        return compile_method_call(receiver, node.name, args, node.span, self.module.globals)

    def c_Await(self, node: ast.Await, stmt: bool) -> Code:  # noqa: N802
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

    def c_Field(self, node: ast.Field, stmt: bool) -> Code:  # noqa: N802
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

    def c_Index(self, node: ast.Index, stmt: bool) -> Code:  # noqa: N802
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
    def c_If(self, node: ast.If, stmt: bool) -> Code:  # noqa: N802
        cond = self.expr(node.cond)
        then = self.compile(node.then, stmt)
        orelse = self.compile(node.orelse, stmt) if node.orelse is not None else None
        if any(is_async(c) for c in (cond, then, orelse) if c is not None):
            acond, athen = as_async(cond), as_async(then)
            aelse = as_async(orelse) if orelse is not None else None

            async def if_async(env: list[Any]) -> Any:
                if truthy(await acond(env)):
                    return await athen(env)
                return await aelse(env) if aelse is not None else None
            return if_async
        if orelse is None and stmt and _is_plain_return(node.then):
            ret = node.then.body[0]
            assert isinstance(ret, ast.Return)
            value = self.expr(ret.value) if ret.value is not None else _const(None)
            if not is_async(value):
                # `if c { return v }`: the guard clause of most functions, fused into one step.
                def if_return(env: list[Any]) -> Any:
                    c = cond(env)
                    if c is True or (c is not False and c is not None and truthy(c)):
                        return (value(env),)
                    return None
                _GUARDS[if_return] = (cond, value)
                return if_return
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

    def c_Return(self, node: ast.Return, stmt: bool) -> Code:  # noqa: N802
        if self.fn is None:
            raise FluentSyntaxError("'return' outside a function", node.span)
        value = self.expr(node.value) if node.value is not None else _const(None)
        if stmt:
            if is_async(value):
                async def return_signal_async(env: list[Any]) -> Any:
                    return (await value(env),)
                return return_signal_async
            read = local_slot(value)
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

    def c_Break(self, node: ast.Break, stmt: bool) -> Code:  # noqa: N802
        if not self.loops:
            raise FluentSyntaxError("'break' outside a loop", node.span)
        if stmt:
            return lambda env: BREAK
        return _raiser_of(BreakEx)

    def c_Continue(self, node: ast.Continue, stmt: bool) -> Code:  # noqa: N802
        if not self.loops:
            raise FluentSyntaxError("'continue' outside a loop", node.span)
        if stmt:
            return lambda env: CONTINUE
        return _raiser_of(ContinueEx)

    def c_Throw(self, node: ast.Throw, stmt: bool) -> Code:  # noqa: N802
        value = self.expr(node.value)
        span = node.span
        if is_async(value):
            async def throw_async(env: list[Any]) -> Any:
                raise Thrown(await value(env), span)
            return throw_async

        def throw(env: list[Any]) -> Any:
            raise Thrown(value(env), span)
        return throw

    def loop_body(self, body: ast.Block, var: str | None) -> tuple[Code, int | None, int | None]:
        """Compile a loop body: (code, slot of the loop variable, fresh frame size). When a
        closure captures a variable declared in the body, the body is compiled again to run in
        a frame of its own per iteration, so each closure keeps that iteration's values."""
        for fresh in (False, True):
            saved_block, saved_frame = self.block, self.frame
            if fresh:
                self.frame = Frame(saved_frame, saved_frame.function)
            self.block = Block(saved_block, self.frame)
            self.loops += 1
            try:
                slot = self.block.declare(var).slot if var is not None else None
                code = self.statements(list(body.body), stmt=True)
                captured = self.block.captured
                size = self.frame.size
            finally:
                self.loops -= 1
                self.block, self.frame = saved_block, saved_frame
            if fresh:
                return code, slot, size
            if not captured:
                return code, slot, None
        raise AssertionError("unreachable")

    def c_Loop(self, node: ast.Loop, stmt: bool) -> Code:  # noqa: N802
        body, _, fresh = self.loop_body(node.body, None)
        return loops.loop(_fresh_frame(body, fresh) if fresh else body, stmt)

    def c_While(self, node: ast.While, stmt: bool) -> Code:  # noqa: N802
        cond = self.expr(node.cond)
        body, _, fresh = self.loop_body(node.body, None)
        return loops.while_(cond, _fresh_frame(body, fresh) if fresh else body, stmt)

    def c_For(self, node: ast.For, stmt: bool) -> Code:  # noqa: N802
        it = node.iterable
        iterable = None if isinstance(it, ast.Range) else self.expr(it)
        rng = (self.expr(it.start), self.expr(it.end), it.inclusive) if isinstance(it, ast.Range) else None
        body, slot, fresh = self.loop_body(node.body, node.var)
        assert slot is not None
        return loops.for_(iterable, rng, slot, fresh, body, stmt, node.span)

    def c_Try(self, node: ast.Try, stmt: bool) -> Code:  # noqa: N802
        return control.compile_try(self, node, stmt)

    def c_Match(self, node: ast.Match, stmt: bool) -> Code:  # noqa: N802
        return self.patterns.match(node, stmt)

    # ------------------------------------------------------------------ effects
    def c_Perform(self, node: ast.Perform, stmt: bool) -> Code:  # noqa: N802
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

    def c_Handle(self, node: ast.Handle, stmt: bool) -> Code:  # noqa: N802
        return control.compile_handle(self, node, stmt)


# ---------------------------------------------------------------------- helpers
# Guard clauses (`if c { return v }` without else) by their code: (condition, value).
_GUARDS: weakref.WeakKeyDictionary[Code, tuple[Code, Code]] = weakref.WeakKeyDictionary()

# Compound assignment on two ints: no operator dispatch, no error possible.
_FAST_COMPOUND: dict[Any, Any] = {
    BINARY["+"]: lambda a, b: a + b,
    BINARY["-"]: lambda a, b: a - b,
    BINARY["*"]: lambda a, b: a * b,
}


def _is_plain_return(block: ast.Block) -> bool:
    return len(block.body) == 1 and isinstance(block.body[0], ast.Return)


def _const(value: Any) -> Code:
    return lambda env: value


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


def _callee_name(node: ast.Node) -> str:
    if isinstance(node, ast.Var):
        return node.name
    if isinstance(node, ast.Field):
        return node.name
    return "<expression>"


def _store(o: Any, k: Any, old: Any, v: Any, op: Any, setter: Any, span: Span) -> Any:
    """Finish `o[k] = v` / `o.k op= v`; `old` is the target's value read before `v`."""
    try:
        if op is not None:
            v = op(old, v)
        setter(o, k, v)
    except FluentError as e:
        raise e.at(span) from None
    return v


def _define_global(g: dict[str, Any], name: str, make: Code) -> Code:
    def define(env: list[Any]) -> None:
        g[name] = make(env)
    return define


def _define_local(slot: int, make: Code) -> Code:
    def define(env: list[Any]) -> None:
        env[slot] = make(env)
    return define


def _fresh_frame(code: Code, size: int) -> Code:
    pad = [None] * (size - 1)
    if is_async(code):
        async def fresh_async(env: list[Any]) -> Any:
            return await code([env, *pad])
        return fresh_async
    return lambda env: code([env, *pad])


def _sequence(codes: list[Code], stmt: bool) -> Code:
    """Run statements in order; in statement context, stop at the first control signal."""
    if not codes:
        return _const(None)
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
    if len(codes) == 2 and codes[0] in _GUARDS and not is_async(codes[1]):
        # `if c { return v }; rest`: test, return or go on, in one closure.
        cond, value = _GUARDS[codes[0]]
        rest = codes[1]
        slot = local_slot(value)
        compare = SLOT_CONST_COMPARISONS.get(cond)
        if compare is not None and slot is not None:
            test, cslot, const = compare
            ctype = type(const)
            if test is operator.lt:
                # `if n < K { return v }`, the commonest guard, with the comparison inline.
                def guarded_lt(env: list[Any]) -> Any:
                    a = env[cslot]
                    if type(a) is ctype:
                        if a < const:
                            return (env[slot],)
                        return rest(env)
                    if truthy(cond(env)):
                        return (env[slot],)
                    return rest(env)
                return guarded_lt

            def guarded_compare(env: list[Any]) -> Any:
                a = env[cslot]
                if type(a) is ctype:
                    if test(a, const):
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


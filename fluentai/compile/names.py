"""Variables: reading a name (a local `env[slot]` so many frames up, or a module global by
name), assignment to names, fields and indices (`x = v`, `m.k += v`, `xs[i] = v`), `let`
and `use`."""

from __future__ import annotations

from collections.abc import Callable as PyCallable
from typing import Any

from ..resolve.resolution import Global, Local
from ..runtime.functions import UNSET, Code
from ..runtime.operators import BINARY, get_field, get_index, set_field, set_index
from ..syntax import ast
from ..syntax.errors import FluentError, FluentSyntaxError, NameErr, RuntimeFault, TypeErr
from ..syntax.source import Span
from .patterns import compile_binding, destructure
from .support import Gen, as_async, is_async, located


def let(gen: Gen, node: ast.Let, stmt: bool) -> Code:
    value = gen.expr(node.value)
    slot = gen.res.slot(node)
    if is_async(value):
        async def let_async(env: list[Any]) -> None:
            env[slot] = await value(env)
        return let_async

    def let_local(env: list[Any]) -> None:
        env[slot] = value(env)
    return let_local

def let_pattern(gen: Gen, node: ast.LetPattern, stmt: bool) -> Code:
    """`let [a, b] = pair` in a block: each name into its slot."""
    value = gen.expr(node.value)
    bind = compile_binding(gen, node.pattern, "let")
    if is_async(value):
        async def let_pattern_async(env: list[Any]) -> None:
            bind(env, await value(env))
        return let_pattern_async

    def let_pattern_(env: list[Any]) -> None:
        bind(env, value(env))
    return let_pattern_


def let_pattern_global(gen: Gen, node: ast.LetPattern) -> Code:
    """`let [a, b] = pair` at the top level: the names are module globals."""
    value, pattern, span = gen.expr(node.value), node.pattern, node.span
    g = gen.module_globals

    def bind(v: Any) -> None:
        try:
            g.update(destructure("let", pattern, v))
        except FluentError as e:
            raise e.at(span) from None

    if is_async(value):
        async def let_pattern_global_async(env: list[Any]) -> None:
            bind(await value(env))
        return let_pattern_global_async
    return lambda env: bind(value(env))


def let_global(gen: Gen, node: ast.Let) -> Code:
    value = gen.expr(node.value)
    g, name = gen.module_globals, node.name
    if is_async(value):
        async def let_global_async(env: list[Any]) -> None:
            g[name] = await value(env)
        return let_global_async

    def let_global(env: list[Any]) -> None:
        g[name] = value(env)
    return let_global

def use(gen: Gen, node: ast.Use, stmt: bool) -> Code:
    if gen.loader is None:
        raise FluentSyntaxError("'use' is not available here", node.span)
    module, code = gen.loader(node.module, node.span)
    g, span, names = gen.module_globals, node.span, node.names

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

def var(gen: Gen, node: ast.Var, stmt: bool) -> Code:
    ref = gen.res.ref(node)
    if type(ref) is Global:
        g, name, span = gen.module_globals, ref.name, node.span
        # Worded by the resolver ("did you mean", another language's keyword): paid for
        # only if the error happens.
        missing = gen.res.name_hints.get(node) or f"'{name}' is not defined"

        def get_global(env: list[Any]) -> Any:
            try:
                return g[name]
            except KeyError:
                raise NameErr(missing).at(span) from None
        return get_global
    assert type(ref) is Local
    slot, depth = ref.slot, ref.depth
    if ref.checked:
        return _checked_read(ref, node.span)
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

def _checked_read(ref: Local, span: Span) -> Code:
    """A binding that may be read before its `let` ran (see `resolve.resolver`)."""
    slot, depth, name = ref.slot, ref.depth, ref.name

    def read_checked(env: list[Any]) -> Any:
        for _ in range(depth):
            env = env[0]
        v = env[slot]
        if v is UNSET:
            raise NameErr(f"'{name}' is used before its 'let' has run").at(span)
        return v
    return read_checked


def assign(gen: Gen, node: ast.Assign, stmt: bool) -> Code:
    value = gen.expr(node.value)
    op = None if node.op == "=" else BINARY[node.op[0]]
    span, target = node.span, node.target
    if isinstance(target, ast.Var):
        return assign_var(gen, gen.res.ref(target), op, value, span,
                          gen.res.name_hints.get(target, ""))
    obj = gen.expr(target.target)  # type: ignore[attr-defined]
    if isinstance(target, ast.Field):
        key_code: Code | None = None
        fname = target.name
        getter: PyCallable[[Any, Any], Any] = lambda o, k: get_field(o, fname)  # noqa: E731
        setter: PyCallable[[Any, Any, Any], None] = lambda o, k, v: set_field(o, fname, v)  # noqa: E731
    else:
        assert isinstance(target, ast.Index)
        key_code = gen.expr(target.index)
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

def assign_var(gen: Gen, ref: Local | Global, op: Any, value: Code, span: Span,
               missing: str = "") -> Code:
    if ref.const:
        name = ref.name
        return _raiser(TypeErr(f"cannot assign to constant '{name}'"), span)
    if type(ref) is Global:
        return _assign_global(gen.module_globals, ref.name, op, value, span, missing)
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


# Compound assignment on two ints: no operator dispatch, no error possible.
_FAST_COMPOUND: dict[Any, Any] = {
    BINARY["+"]: lambda a, b: a + b,
    BINARY["-"]: lambda a, b: a - b,
    BINARY["*"]: lambda a, b: a * b,
}


def _raiser(error: RuntimeFault, span: Span) -> Code:
    def raise_(env: list[Any]) -> Any:
        raise RuntimeFault(error.kind, error.message, span)
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


def _assign_global(g: dict[str, Any], name: str, op: Any, value: Code, span: Span,
                   missing: str = "") -> Code:
    message = (missing or f"'{name}' is not defined") + f" (declare it with 'let {name} = ...')"

    def get(env: list[Any]) -> Any:
        try:
            return g[name]
        except KeyError:
            raise NameErr(message).at(span) from None

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

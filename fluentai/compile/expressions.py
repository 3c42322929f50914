"""Expressions that are neither names, calls, operators with fast paths nor control flow:
literals and f-strings, `!`/unary minus, `&&`/`||`, ranges, `|>`, `.await()`, fields and
indexing, and `perform`."""

from __future__ import annotations

from collections.abc import Callable as PyCallable
from typing import Any

from ..runtime.functions import Code
from ..runtime.operators import get_field, get_index, make_range, negate
from ..runtime.tasks import wait_without_cycles
from ..runtime.values import Promise, display, format_value, truthy
from ..syntax import ast
from ..syntax.errors import FluentError
from .calls import compile_call
from .support import Gen, as_async, const, is_async, located


def literal(gen: Gen, node: ast.Literal, stmt: bool) -> Code:
    return const(node.value)

def list_lit(gen: Gen, node: ast.ListLit, stmt: bool) -> Code:
    items = [gen.expr(i) for i in node.items]
    if any(is_async(c) for c in items):
        aitems = [as_async(c) for c in items]

        async def list_async(env: list[Any]) -> Any:
            return [await c(env) for c in aitems]
        return list_async
    return lambda env: [c(env) for c in items]

def map_lit(gen: Gen, node: ast.MapLit, stmt: bool) -> Code:
    pairs = [(k, gen.expr(v)) for k, v in node.pairs]
    if any(is_async(c) for _, c in pairs):
        apairs = [(k, as_async(c)) for k, c in pairs]

        async def map_async(env: list[Any]) -> Any:
            return {k: await c(env) for k, c in apairs}
        return map_async
    return lambda env: {k: c(env) for k, c in pairs}

def fstring(gen: Gen, node: ast.FString, stmt: bool) -> Code:
    parts = [const(p) if isinstance(p, str) else _displayed(gen.expr(p)) for p in node.parts]
    if any(is_async(c) for c in parts):
        aparts = [as_async(c) for c in parts]

        async def fstring_async(env: list[Any]) -> str:
            return "".join([await c(env) for c in aparts])
        return fstring_async
    return lambda env: "".join([c(env) for c in parts])

def formatted(gen: Gen, node: ast.Formatted, stmt: bool) -> Code:
    """`{value:spec}` inside an f-string: the formatted text."""
    value, spec, span = gen.expr(node.value), node.spec, node.span
    if is_async(value):
        async def formatted_async(env: list[Any]) -> str:
            text: str = located(span, format_value, await value(env), spec)
            return text
        return formatted_async
    return lambda env: located(span, format_value, value(env), spec)


def unary(gen: Gen, node: ast.Unary, stmt: bool) -> Code:
    operand = gen.expr(node.operand)
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

def logical(gen: Gen, node: ast.Logical, stmt: bool) -> Code:
    left, right = gen.expr(node.left), gen.expr(node.right)
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

def range_(gen: Gen, node: ast.Range, stmt: bool) -> Code:
    start, end = gen.expr(node.start), gen.expr(node.end)
    inclusive, span = node.inclusive, node.span
    if is_async(start) or is_async(end):
        astart, aend = as_async(start), as_async(end)

        async def range_async(env: list[Any]) -> Any:
            s, e = await astart(env), await aend(env)
            return list(located(span, make_range, s, e, inclusive))
        return range_async
    return lambda env: list(located(span, make_range, start(env), end(env), inclusive))

def pipe(gen: Gen, node: ast.Pipe, stmt: bool) -> Code:
    """`x |> f(a)` is `f(x, a)`; `x |> r.m(a)` calls the field `r.m`; `x |> g` is `g(x)`."""
    target = node.target
    if isinstance(target, ast.Call):
        return compile_call(gen, target.callee, (node.value, *target.args), node.span)
    if isinstance(target, ast.MethodCall):
        field = ast.Field(target.span, target.receiver, target.name)
        return compile_call(gen, field, (node.value, *target.args), node.span)
    return compile_call(gen, target, (node.value,), node.span)

def await_(gen: Gen, node: ast.Await, stmt: bool) -> Code:
    value = as_async(gen.expr(node.value))
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

def field(gen: Gen, node: ast.Field, stmt: bool) -> Code:
    target = gen.expr(node.target)
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

def index(gen: Gen, node: ast.Index, stmt: bool) -> Code:
    target, index = gen.expr(node.target), gen.expr(node.index)
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

def perform(gen: Gen, node: ast.Perform, stmt: bool) -> Code:
    args = [gen.expr(a) for a in node.args]
    effect, op, span = node.effect, node.op, node.span
    perform = gen.host.perform
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


def _displayed(code: Code) -> Code:
    if is_async(code):
        async def display_async(env: list[Any]) -> str:
            return display(await code(env))
        return display_async

    def display_(env: list[Any]) -> str:
        v = code(env)
        return v if type(v) is str else display(v)
    return display_

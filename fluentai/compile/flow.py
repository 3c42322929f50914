"""Branching and leaving: `if` (with guard clauses `if c { return v }` fused into one
closure, alone or with the rest of their body), `return`, `break`, `continue`, `throw`.

In statement context `return`, `break` and `continue` give control signals; in expression
context they raise (see `runtime.functions`)."""

from __future__ import annotations

import operator
from typing import Any

from ..runtime.functions import BREAK, CONTINUE, BreakEx, Code, ContinueEx, ReturnEx
from ..runtime.values import Thrown, truthy
from ..syntax import ast
from .fastops import COMPARE_OPS, slot_const
from .support import Gen, as_async, const, is_async


def if_(gen: Gen, node: ast.If, stmt: bool) -> Code:
    if stmt and is_guard(node):
        # `if c { return v }`: the guard clause of most functions, one closure.
        ret = node.then.body[0]
        assert isinstance(ret, ast.Return)
        cond, value = gen.expr(node.cond), _return_value(gen, ret)

        def if_return(env: list[Any]) -> Any:
            c = cond(env)
            if c is True or (c is not False and c is not None and truthy(c)):
                return (value(env),)
            return None
        return if_return
    cond = gen.expr(node.cond)
    then = gen.code(node.then, stmt)
    orelse = gen.code(node.orelse, stmt) if node.orelse is not None else None
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

def guarded(gen: Gen, node: ast.If, rest: Code) -> Code:
    """`if c { return v }` followed by the rest of a body, fused into one closure."""
    ret = node.then.body[0]
    assert isinstance(ret, ast.Return)
    cond, value = gen.expr(node.cond), _return_value(gen, ret)
    slot = gen.res.local_slot(ret.value) if ret.value is not None else None
    compare = slot_const(gen.res, node.cond, COMPARE_OPS)
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

def _return_value(gen: Gen, node: ast.Return) -> Code:
    return gen.expr(node.value) if node.value is not None else const(None)

def return_(gen: Gen, node: ast.Return, stmt: bool) -> Code:
    value = _return_value(gen, node)
    if stmt:
        if is_async(value):
            async def return_signal_async(env: list[Any]) -> Any:
                return (await value(env),)
            return return_signal_async
        read = gen.res.local_slot(node.value) if node.value is not None else None
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

def break_(gen: Gen, node: ast.Break, stmt: bool) -> Code:
    if stmt:
        return const(BREAK)
    return _raiser_of(BreakEx)

def continue_(gen: Gen, node: ast.Continue, stmt: bool) -> Code:
    if stmt:
        return const(CONTINUE)
    return _raiser_of(ContinueEx)

def throw(gen: Gen, node: ast.Throw, stmt: bool) -> Code:
    value = gen.expr(node.value)
    span = node.span
    if is_async(value):
        async def throw_async(env: list[Any]) -> Any:
            raise Thrown(await value(env), span)
        return throw_async

    def throw(env: list[Any]) -> Any:
        raise Thrown(value(env), span)
    return throw


def is_guard(node: ast.Node) -> bool:
    """`if c { return v }` without `else`, with nothing that waits."""
    return (isinstance(node, ast.If) and node.orelse is None and len(node.then.body) == 1
            and isinstance(node.then.body[0], ast.Return) and not ast.waits(node))


def _raiser_of(exc: type[Exception]) -> Code:
    def raise_(env: list[Any]) -> Any:
        raise exc()
    return raise_

"""Compiled `loop`, `while` and `for`.

Bodies are statement-context code: they return BREAK, CONTINUE or a return signal; a
`break`/`continue` buried in an expression raises instead, and both are handled here. A loop
used as an expression turns a return signal into `ReturnEx` (expressions never yield
signals). A loop's value is nil. A body whose variables a closure captures runs in a fresh
frame per iteration (the resolver decided which: `Resolution.fresh_loops`).
"""

from __future__ import annotations

from typing import Any

from ..runtime.functions import BREAK, CONTINUE, BreakEx, Code, ContinueEx, ReturnEx
from ..runtime.operators import iterate, make_range
from ..runtime.values import truthy
from ..syntax import ast
from ..syntax.source import Span
from .patterns import compile_binding
from .support import Gen, as_async, is_async, located


def _exit(signal: tuple[Any, ...], stmt: bool) -> Any:
    if stmt:
        return signal
    raise ReturnEx(signal[0])


def compile_loop(gen: Gen, node: ast.Loop, stmt: bool) -> Code:
    return loop(_body(gen, node), stmt)


def compile_while(gen: Gen, node: ast.While, stmt: bool) -> Code:
    return while_(gen.expr(node.cond), _body(gen, node), stmt)


def compile_for(gen: Gen, node: ast.For, stmt: bool) -> Code:
    it = node.iterable
    if isinstance(it, ast.Range):  # never built as a list
        iterable = None
        rng: tuple[Code, Code, bool] | None = (gen.expr(it.start), gen.expr(it.end), it.inclusive)
    else:
        iterable, rng = gen.expr(it), None
    body = gen.statements(node.body.body, True)
    slot = gen.res.slot(node)
    if node.pattern is not None:  # `for [k, v] in …`: take each item apart first
        body = _taking_apart(compile_binding(gen, node.pattern, "for"), slot, body, node.span)
    return for_(iterable, rng, slot, gen.res.fresh_loops.get(node), body, stmt, node.span)


def _taking_apart(bind: Any, slot: int, body: Code, span: Span) -> Code:
    if is_async(body):
        async def each_async(env: list[Any]) -> Any:
            located(span, bind, env, env[slot])
            return await body(env)
        return each_async

    def each(env: list[Any]) -> Any:
        located(span, bind, env, env[slot])
        return body(env)
    return each


def _body(gen: Gen, node: ast.Loop | ast.While) -> Code:
    body = gen.statements(node.body.body, True)
    size = gen.res.fresh_loops.get(node)
    return _in_fresh_frame(body, size) if size is not None else body


def _in_fresh_frame(code: Code, size: int) -> Code:
    pad = [None] * (size - 1)
    if is_async(code):
        async def fresh_async(env: list[Any]) -> Any:
            return await code([env, *pad])
        return fresh_async
    return lambda env: code([env, *pad])


def loop(body: Code, stmt: bool) -> Code:
    if is_async(body):
        async def loop_async(env: list[Any]) -> Any:
            while True:
                try:
                    v = await body(env)
                except BreakEx:
                    return None
                except ContinueEx:
                    continue
                if type(v) is tuple:
                    if v is BREAK:
                        return None
                    if v is not CONTINUE:
                        return _exit(v, stmt)
        return loop_async

    def loop_(env: list[Any]) -> Any:
        while True:
            try:
                v = body(env)
            except BreakEx:
                return None
            except ContinueEx:
                continue
            if type(v) is tuple:
                if v is BREAK:
                    return None
                if v is not CONTINUE:
                    return _exit(v, stmt)
    return loop_


def while_(cond: Code, body: Code, stmt: bool) -> Code:
    if is_async(cond) or is_async(body):
        acond, abody = as_async(cond), as_async(body)

        async def while_async(env: list[Any]) -> Any:
            while truthy(await acond(env)):
                try:
                    v = await abody(env)
                except BreakEx:
                    return None
                except ContinueEx:
                    continue
                if type(v) is tuple:
                    if v is BREAK:
                        return None
                    if v is not CONTINUE:
                        return _exit(v, stmt)
            return None
        return while_async

    def while_sync(env: list[Any]) -> Any:
        while True:
            c = cond(env)
            if not (c is True or (c is not False and c is not None and truthy(c))):
                return None
            try:
                v = body(env)
            except BreakEx:
                return None
            except ContinueEx:
                continue
            if type(v) is tuple:
                if v is BREAK:
                    return None
                if v is not CONTINUE:
                    return _exit(v, stmt)
    return while_sync


def for_(iterable: Code | None, rng: tuple[Code, Code, bool] | None, slot: int,
         fresh_size: int | None, body: Code, stmt: bool, span: Span) -> Code:
    """`for x in iterable`; `rng` is (start, end, inclusive) when the iterable is a range
    literal, which is then never built as a list. With `fresh_size`, every iteration gets its
    own frame (a closure captured a variable of the body)."""
    parts = [c for c in (iterable, *(rng[:2] if rng else ())) if c is not None]

    pad = [None] * ((fresh_size or 1) - 1)
    if is_async(body) or any(is_async(p) for p in parts):
        abody = as_async(body)
        aiter = as_async(iterable) if iterable is not None else None
        arng = (as_async(rng[0]), as_async(rng[1]), rng[2]) if rng is not None else None

        async def for_async(env: list[Any]) -> Any:
            if arng is not None:
                it: Any = located(span, make_range, await arng[0](env), await arng[1](env), arng[2])
            else:
                assert aiter is not None
                it = located(span, iterate, await aiter(env))
            for x in it:
                frame = [env, *pad] if fresh_size else env
                frame[slot] = x
                try:
                    v = await abody(frame)
                except BreakEx:
                    return None
                except ContinueEx:
                    continue
                if type(v) is tuple:
                    if v is BREAK:
                        return None
                    if v is not CONTINUE:
                        return _exit(v, stmt)
            return None
        return for_async

    def for_sync(env: list[Any]) -> Any:
        if rng is not None:
            it: Any = located(span, make_range, rng[0](env), rng[1](env), rng[2])
        else:
            assert iterable is not None
            it = located(span, iterate, iterable(env))
        for x in it:
            if fresh_size:
                frame = [env, *pad]
                frame[slot] = x
            else:
                frame = env
                env[slot] = x
            try:
                v = body(frame)
            except BreakEx:
                return None
            except ContinueEx:
                continue
            if type(v) is tuple:
                if v is BREAK:
                    return None
                if v is not CONTINUE:
                    return _exit(v, stmt)
        return None
    return for_sync

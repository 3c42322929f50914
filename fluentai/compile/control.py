"""Compiled `try`/`catch`/`finally` and `handle … with { … }`.

`catch` sees runtime errors as {"kind", "message"} maps and thrown values as themselves.
`handle` pushes a frame of clauses onto the context-local handler stack for the dynamic
extent of its body (tasks started inside copy the context, so they see it too); `perform`
looks there before the runtime's handlers.
"""

from __future__ import annotations

from typing import Any

from ..runtime.functions import Code
from ..runtime.tasks import HANDLERS, HandlerFrame
from ..runtime.values import Thrown
from ..syntax import ast
from ..syntax.errors import RuntimeFault
from .support import Gen, as_async, is_async


def compile_try(gen: Gen, node: ast.Try, stmt: bool) -> Code:
    body = gen.code(node.body, stmt)
    handler: Code | None = None
    slot: int | None = None
    if node.handler is not None:
        if node.catch_name is not None:
            slot = gen.res.slot(node)
        handler = gen.statements(node.handler.body, stmt)
    final = gen.code(node.finally_, stmt) if node.finally_ is not None else None

    if any(is_async(x) for x in (body, handler, final) if x is not None):
        abody = as_async(body)
        ahandler = as_async(handler) if handler is not None else None
        afinal = as_async(final) if final is not None else None

        async def try_async(env: list[Any]) -> Any:
            try:
                if ahandler is None:
                    result = await abody(env)
                else:
                    try:
                        result = await abody(env)
                    except Thrown as e:
                        result = await _caught(ahandler, slot, env, e.payload)
                    except RuntimeFault as e:
                        result = await _caught(ahandler, slot, env, e.value())
            finally:
                if afinal is not None:
                    signal = await afinal(env)
                    if type(signal) is tuple:
                        return signal  # noqa: B012 - `return` in finally overrides, as in JS
            return result
        return try_async

    def try_(env: list[Any]) -> Any:
        try:
            if handler is None:
                result = body(env)
            else:
                try:
                    result = body(env)
                except Thrown as e:
                    if slot is not None:
                        env[slot] = e.payload
                    result = handler(env)
                except RuntimeFault as e:
                    if slot is not None:
                        env[slot] = e.value()
                    result = handler(env)
        finally:
            if final is not None:
                signal = final(env)
                if type(signal) is tuple:
                    return signal  # noqa: B012 - `return` in finally overrides, as in JS
        return result
    return try_


async def _caught(handler: Code, slot: int | None, env: list[Any], value: Any) -> Any:
    if slot is not None:
        env[slot] = value
    return await handler(env)


def compile_handle(gen: Gen, node: ast.Handle, stmt: bool) -> Code:
    clauses: list[tuple[tuple[str, str], Code]] = []
    for clause in node.clauses:
        make = gen.function(clause, f"{clause.effect}.{clause.op} handler", clause.params,
                            clause.body, False, clause.span)
        clauses.append(((clause.effect, clause.op), make))
    body = gen.code(node.body, stmt)

    def frame(env: list[Any]) -> HandlerFrame:
        return {key: make(env) for key, make in clauses}

    if is_async(body):
        async def handle_async(env: list[Any]) -> Any:
            token = HANDLERS.set((*HANDLERS.get(), frame(env)))
            try:
                return await body(env)
            finally:
                HANDLERS.reset(token)
        return handle_async

    def handle(env: list[Any]) -> Any:
        token = HANDLERS.set((*HANDLERS.get(), frame(env)))
        try:
            return body(env)
        finally:
            HANDLERS.reset(token)
    return handle

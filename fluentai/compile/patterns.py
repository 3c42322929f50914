"""Compiled `match`: each pattern becomes a matcher `m(value, env) -> bool` that binds the
names it introduces into the slots the resolver gave them."""

from __future__ import annotations

from collections.abc import Callable as PyCallable
from typing import Any

from ..runtime.functions import Code
from ..runtime.values import display, equals, truthy
from ..syntax import ast
from ..syntax.errors import RuntimeFault
from .support import Gen, as_async, is_async

Matcher = PyCallable[[Any, list[Any]], bool]


def compile_match(gen: Gen, node: ast.Match, stmt: bool) -> Code:
    subject = gen.expr(node.subject)
    arms: list[tuple[Matcher, Code | None, Code]] = []
    for arm in node.arms:
        matcher = _pattern(gen, arm.pattern)
        guard = gen.expr(arm.guard) if arm.guard is not None else None
        arms.append((matcher, guard, gen.code(arm.body, stmt)))
    span = node.span

    def no_match(v: Any) -> RuntimeFault:
        text = display(v) if type(v) is not str else repr(v)
        if len(text) > 60:
            text = text[:57] + "..."
        return RuntimeFault("ValueError", f"no match arm matches {text}", span)

    if is_async(subject) or any(is_async(g) or is_async(b) for _, g, b in arms):
        asubject = as_async(subject)
        aarms = [(m, as_async(g) if g is not None else None, as_async(b)) for m, g, b in arms]

        async def match_async(env: list[Any]) -> Any:
            v = await asubject(env)
            for m, g, b in aarms:
                if m(v, env) and (g is None or truthy(await g(env))):
                    return await b(env)
            raise no_match(v)
        return match_async

    def match_(env: list[Any]) -> Any:
        v = subject(env)
        for m, g, b in arms:
            if m(v, env) and (g is None or truthy(g(env))):
                return b(env)
        raise no_match(v)
    return match_


def _pattern(gen: Gen, p: ast.Node) -> Matcher:
    if isinstance(p, ast.WildcardPat):
        return lambda v, env: True
    if isinstance(p, ast.BindPat):
        slot = gen.res.slot(p)

        def bind(v: Any, env: list[Any]) -> bool:
            env[slot] = v
            return True
        return bind
    if isinstance(p, ast.LiteralPat):
        want = p.value
        return lambda v, env: equals(v, want)
    if isinstance(p, ast.AltPat):
        options = [_pattern(gen, o) for o in p.options]
        return lambda v, env: any(m(v, env) for m in options)
    if isinstance(p, ast.ListPat):
        return _list(gen, p)
    if isinstance(p, ast.MapPat):
        pairs = [(k, _pattern(gen, sub)) for k, sub in p.pairs]

        def map_(v: Any, env: list[Any]) -> bool:
            return type(v) is dict and all(k in v and m(v[k], env) for k, m in pairs)
        return map_
    raise AssertionError(f"unknown pattern {type(p).__name__}")


def _list(gen: Gen, p: ast.ListPat) -> Matcher:
    items = [_pattern(gen, i) for i in p.items]
    n = len(items)
    rest_slot = gen.res.slot(p) if p.has_rest and p.rest not in (None, "_") else None
    has_rest = p.has_rest

    def list_(v: Any, env: list[Any]) -> bool:
        if type(v) is not list:
            return False
        if len(v) < n or (not has_rest and len(v) != n):
            return False
        for m, x in zip(items, v, strict=False):
            if not m(x, env):
                return False
        if rest_slot is not None:
            env[rest_slot] = v[n:]
        return True
    return list_

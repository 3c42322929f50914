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


def compile_binding(gen: Gen, pattern: ast.Node, what: str
                    ) -> PyCallable[[list[Any], Any], None]:
    """Bind the names of a destructuring pattern (`let [a, b] = …`, `for [k, v] in …`)
    into their slots; a value of another shape is a ValueError naming `what`."""
    matcher = _pattern(gen, pattern)

    def bind(env: list[Any], value: Any) -> None:
        if not matcher(value, env):
            raise _shape_error(what, pattern, value)
    return bind


def destructure(what: str, pattern: ast.Node, value: Any) -> dict[str, Any]:
    """The names `pattern` binds to parts of `value` (at the top level, where they are
    module globals and have no slots); a value of another shape is a ValueError."""
    found: dict[str, Any] = {}

    def collect(p: ast.Node, v: Any) -> bool:
        if isinstance(p, ast.BindPat):
            found[p.name] = v
            return True
        if isinstance(p, ast.ListPat):
            n = len(p.items)
            if type(v) is not list or len(v) < n or (not p.has_rest and len(v) != n):
                return False
            if p.rest not in (None, "_"):
                assert p.rest is not None
                found[p.rest] = v[n:]
            return all(collect(item, x) for item, x in zip(p.items, v, strict=False))
        if isinstance(p, ast.MapPat):
            return type(v) is dict and all(k in v and collect(sub, v[k]) for k, sub in p.pairs)
        if isinstance(p, ast.AltPat):
            return any(collect(option, v) for option in p.options)
        if isinstance(p, ast.LiteralPat):
            return equals(v, p.value)
        if isinstance(p, ast.RangePat):
            return (type(v) is int or type(v) is float) and (
                p.start <= v <= p.end if p.inclusive else p.start <= v < p.end)
        return isinstance(p, ast.WildcardPat)

    if not collect(pattern, value):
        raise _shape_error(what, pattern, value)
    return found


def _shape_error(what: str, pattern: ast.Node, value: Any) -> RuntimeFault:
    shown = display(value) if type(value) is not str else repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    if isinstance(pattern, ast.ListPat):
        n = len(pattern.items)
        size = f"at least {n}" if pattern.has_rest else f"{n}"
        expected = f"a list of {size} item{'s' if n != 1 else ''}"
    else:
        expected = "a value of the pattern's shape"
    return RuntimeFault("ValueError", f"{what}: expected {expected}, got {shown}")


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
    if isinstance(p, ast.RangePat):
        low, high = p.start, p.end
        if p.inclusive:
            return lambda v, env: (type(v) is int or type(v) is float) and low <= v <= high
        return lambda v, env: (type(v) is int or type(v) is float) and low <= v < high
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

"""Binary operators compiled with inline fast paths.

The common case (int or float with the same type, str with str for `+` and comparisons) runs
inline in the closure; everything else goes through `runtime.operators`, which implements
the full semantics and raises span-less errors that we locate here. Which fast path fits is
read off the resolved AST: a numeric literal on the right (`n - 1`), a current-frame
variable on the left (`n < 2` reads `env[slot]` itself).
"""

from __future__ import annotations

import operator
from typing import Any

from ..resolve.resolution import Resolution
from ..runtime.functions import Code
from ..runtime.operators import BINARY
from ..runtime.values import equals
from ..syntax import ast
from ..syntax.source import Span
from .support import Gen, as_async, is_async, located, numeric_literal


def binary(gen: Gen, node: ast.Binary) -> Code:
    op, span = node.op, node.span
    left, right = gen.expr(node.left), gen.expr(node.right)
    slow = BINARY[op]
    if is_async(left) or is_async(right):
        aleft, aright = as_async(left), as_async(right)

        async def binary_async(env: list[Any]) -> Any:
            a = await aleft(env)
            return located(span, slow, a, await aright(env))
        return binary_async
    maker = _MAKERS.get(op)
    if maker is None:
        return lambda env: located(span, slow, left(env), right(env))
    c = numeric_literal(node.right)
    if c is not None:
        slot = gen.res.local_slot(node.left)
        if slot is not None and op in _SLOT_CONST_MAKERS:
            return _SLOT_CONST_MAKERS[op](slot, c, slow, span)
        const_maker = _CONST_MAKERS.get(op)
        if const_maker is not None:
            return const_maker(left, c, slow, span)
    return maker(left, right, slow, span)


def slot_const(res: Resolution, node: ast.Node, ops: dict[str, Any]
               ) -> tuple[Any, int, Any] | None:
    """(operator, slot, literal) when `node` is a current-frame variable against a numeric
    literal with one of `ops` (`n < 2`, `n - 1`): guards and call sites inline those."""
    if type(node) is not ast.Binary or node.op not in ops:
        return None
    c = numeric_literal(node.right)
    slot = res.local_slot(node.left)
    if c is None or slot is None:
        return None
    return ops[node.op], slot, c


# One maker per operator: Python cannot take an operator as a value without a call, and the
# fast path must be a single inline expression to be worth having.
def _add(left: Code, right: Code, slow: Any, span: Span) -> Code:
    def add(env: list[Any]) -> Any:
        a = left(env)
        b = right(env)
        t = type(a)
        if t is type(b) and (t is int or t is float or t is str):
            return a + b
        return located(span, slow, a, b)
    return add


def _sub(left: Code, right: Code, slow: Any, span: Span) -> Code:
    def sub(env: list[Any]) -> Any:
        a = left(env)
        b = right(env)
        t = type(a)
        if t is type(b) and (t is int or t is float):
            return a - b
        return located(span, slow, a, b)
    return sub


def _mul(left: Code, right: Code, slow: Any, span: Span) -> Code:
    def mul(env: list[Any]) -> Any:
        a = left(env)
        b = right(env)
        t = type(a)
        if t is type(b) and (t is int or t is float):
            return a * b
        return located(span, slow, a, b)
    return mul


def _lt(left: Code, right: Code, slow: Any, span: Span) -> Code:
    def lt(env: list[Any]) -> Any:
        a = left(env)
        b = right(env)
        t = type(a)
        if t is type(b) and (t is int or t is float or t is str):
            return a < b
        return located(span, slow, a, b)
    return lt


def _le(left: Code, right: Code, slow: Any, span: Span) -> Code:
    def le(env: list[Any]) -> Any:
        a = left(env)
        b = right(env)
        t = type(a)
        if t is type(b) and (t is int or t is float or t is str):
            return a <= b
        return located(span, slow, a, b)
    return le


def _gt(left: Code, right: Code, slow: Any, span: Span) -> Code:
    def gt(env: list[Any]) -> Any:
        a = left(env)
        b = right(env)
        t = type(a)
        if t is type(b) and (t is int or t is float or t is str):
            return a > b
        return located(span, slow, a, b)
    return gt


def _ge(left: Code, right: Code, slow: Any, span: Span) -> Code:
    def ge(env: list[Any]) -> Any:
        a = left(env)
        b = right(env)
        t = type(a)
        if t is type(b) and (t is int or t is float or t is str):
            return a >= b
        return located(span, slow, a, b)
    return ge


def _eq(left: Code, right: Code, slow: Any, span: Span) -> Code:
    def eq(env: list[Any]) -> Any:
        a = left(env)
        b = right(env)
        t = type(a)
        if t is type(b) and (t is int or t is str):
            return a == b
        return located(span, equals, a, b)
    return eq


def _ne(left: Code, right: Code, slow: Any, span: Span) -> Code:
    def ne(env: list[Any]) -> Any:
        a = left(env)
        b = right(env)
        t = type(a)
        if t is type(b) and (t is int or t is str):
            return a != b
        return not located(span, equals, a, b)
    return ne


def _mod(left: Code, right: Code, slow: Any, span: Span) -> Code:
    def mod(env: list[Any]) -> Any:
        a = left(env)
        b = right(env)
        if type(a) is int and type(b) is int and b:
            return a % b
        return located(span, slow, a, b)
    return mod


_MAKERS = {
    "+": _add, "-": _sub, "*": _mul, "<": _lt, "<=": _le, ">": _gt, ">=": _ge,
    "==": _eq, "!=": _ne, "%": _mod,
}


# With a numeric literal on the right (n - 1, n < 2, i % 3 == 0) the literal's type is known.
def _const_add(left: Code, c: Any, slow: Any, span: Span) -> Code:
    tc = type(c)

    def add_c(env: list[Any]) -> Any:
        a = left(env)
        if type(a) is tc:
            return a + c
        return located(span, slow, a, c)
    return add_c


def _const_sub(left: Code, c: Any, slow: Any, span: Span) -> Code:
    tc = type(c)

    def sub_c(env: list[Any]) -> Any:
        a = left(env)
        if type(a) is tc:
            return a - c
        return located(span, slow, a, c)
    return sub_c


def _const_lt(left: Code, c: Any, slow: Any, span: Span) -> Code:
    tc = type(c)

    def lt_c(env: list[Any]) -> Any:
        a = left(env)
        if type(a) is tc:
            return a < c
        return located(span, slow, a, c)
    return lt_c


def _const_le(left: Code, c: Any, slow: Any, span: Span) -> Code:
    tc = type(c)

    def le_c(env: list[Any]) -> Any:
        a = left(env)
        if type(a) is tc:
            return a <= c
        return located(span, slow, a, c)
    return le_c


def _const_gt(left: Code, c: Any, slow: Any, span: Span) -> Code:
    tc = type(c)

    def gt_c(env: list[Any]) -> Any:
        a = left(env)
        if type(a) is tc:
            return a > c
        return located(span, slow, a, c)
    return gt_c


def _const_eq(left: Code, c: Any, slow: Any, span: Span) -> Code:
    tc = type(c)

    def eq_c(env: list[Any]) -> Any:
        a = left(env)
        if type(a) is tc:
            return a == c
        return located(span, equals, a, c)
    return eq_c


def _const_mul(left: Code, c: Any, slow: Any, span: Span) -> Code:
    tc = type(c)

    def mul_c(env: list[Any]) -> Any:
        a = left(env)
        if type(a) is tc:
            return a * c
        return located(span, slow, a, c)
    return mul_c


def _const_mod(left: Code, c: Any, slow: Any, span: Span) -> Code:
    if type(c) is not int or c == 0:
        return _mod(left, lambda env: c, slow, span)

    def mod_c(env: list[Any]) -> Any:
        a = left(env)
        if type(a) is int:
            return a % c
        return located(span, slow, a, c)
    return mod_c


_CONST_MAKERS = {
    "+": _const_add, "-": _const_sub, "<": _const_lt, "<=": _const_le, ">": _const_gt,
    "==": _const_eq, "*": _const_mul, "%": _const_mod,
}


# A current-frame variable against a numeric literal (n - 1, i < 10): no closure call at all.
def _slot_const_add(slot: int, c: Any, slow: Any, span: Span) -> Code:
    tc = type(c)

    def add_sc(env: list[Any]) -> Any:
        a = env[slot]
        if type(a) is tc:
            return a + c
        return located(span, slow, a, c)
    return add_sc


def _slot_const_sub(slot: int, c: Any, slow: Any, span: Span) -> Code:
    tc = type(c)

    def sub_sc(env: list[Any]) -> Any:
        a = env[slot]
        if type(a) is tc:
            return a - c
        return located(span, slow, a, c)
    return sub_sc


def _slot_const_lt(slot: int, c: Any, slow: Any, span: Span) -> Code:
    tc = type(c)

    def lt_sc(env: list[Any]) -> Any:
        a = env[slot]
        if type(a) is tc:
            return a < c
        return located(span, slow, a, c)
    return lt_sc


def _slot_const_le(slot: int, c: Any, slow: Any, span: Span) -> Code:
    tc = type(c)

    def le_sc(env: list[Any]) -> Any:
        a = env[slot]
        if type(a) is tc:
            return a <= c
        return located(span, slow, a, c)
    return le_sc


def _slot_const_gt(slot: int, c: Any, slow: Any, span: Span) -> Code:
    tc = type(c)

    def gt_sc(env: list[Any]) -> Any:
        a = env[slot]
        if type(a) is tc:
            return a > c
        return located(span, slow, a, c)
    return gt_sc


def _slot_const_mul(slot: int, c: Any, slow: Any, span: Span) -> Code:
    tc = type(c)

    def mul_sc(env: list[Any]) -> Any:
        a = env[slot]
        if type(a) is tc:
            return a * c
        return located(span, slow, a, c)
    return mul_sc


def _slot_const_mod(slot: int, c: Any, slow: Any, span: Span) -> Code:
    if type(c) is not int or c == 0:
        return _mod(lambda env: env[slot], lambda env: c, slow, span)

    def mod_sc(env: list[Any]) -> Any:
        a = env[slot]
        if type(a) is int:
            return a % c
        return located(span, slow, a, c)
    return mod_sc


# The slot-vs-literal shapes other fast paths fuse: comparisons into guard clauses
# (`if n < 2 { return n }`), arithmetic into call arguments (`f(n - 1)`).
COMPARE_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt}
ARITH_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul}

_SLOT_CONST_MAKERS = {
    "+": _slot_const_add, "-": _slot_const_sub, "<": _slot_const_lt, "<=": _slot_const_le,
    ">": _slot_const_gt, "*": _slot_const_mul, "%": _slot_const_mod,
}

"""The semantics of FluentAI's operators, indexing, fields and iteration (SPEC §3–§4).

Compiled closures try an inline fast path for the common types (int with int, str with str)
and call these functions otherwise; the functions raise span-less `RuntimeFault`s that the
calling closure locates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..syntax.errors import IndexErr, RuntimeFault, TypeErr, ValueErr
from ..syntax.suggest import closest
from .methods import lookup_method
from .values import a_type, display, equals, type_of

_NUM = (int, float)


def _num(a: Any) -> bool:
    t = type(a)
    return t is int or t is float


def _operands(op: str, a: Any, b: Any) -> RuntimeFault:
    return TypeErr(f"unsupported operand types for {op}: {type_of(a)} and {type_of(b)}")


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is str:
        return a + (b if tb is str else display(b))
    if tb is str:
        return display(a) + b
    if _num(a) and _num(b):
        return a + b
    if ta is list and tb is list:
        return a + b
    if ta is bytes and tb is bytes:
        return a + b
    raise _operands("+", a, b)


def sub(a: Any, b: Any) -> Any:
    if _num(a) and _num(b):
        return a - b
    raise _operands("-", a, b)


def mul(a: Any, b: Any) -> Any:
    if _num(a) and _num(b):
        return a * b
    raise _operands("*", a, b)


def div(a: Any, b: Any) -> Any:
    if _num(a) and _num(b):
        if b == 0:
            raise RuntimeFault("ZeroDivisionError", "division by zero")
        try:
            return a / b
        except OverflowError:
            raise ValueErr("number too large to divide as a float") from None
    raise _operands("/", a, b)


def mod(a: Any, b: Any) -> Any:
    if _num(a) and _num(b):
        if b == 0:
            raise RuntimeFault("ZeroDivisionError", "modulo by zero")
        return a % b
    raise _operands("%", a, b)


_MAX_INT_POWER_BITS = 1_000_000


def power(a: Any, b: Any) -> Any:
    if _num(a) and _num(b):
        if (type(a) is int and type(b) is int and b > 0 and a not in (0, 1, -1)
                and b * max(a.bit_length(), 1) > _MAX_INT_POWER_BITS):
            raise ValueErr("result of ** is too large")
        try:
            result = a**b
        except ZeroDivisionError:
            raise RuntimeFault("ZeroDivisionError", "zero to a negative power") from None
        except OverflowError:
            raise ValueErr("result of ** is too large") from None
        if type(result) is complex:
            raise ValueErr("negative number to a fractional power")
        return result
    raise _operands("**", a, b)


def negate(a: Any) -> Any:
    if _num(a):
        return -a
    raise TypeErr(f"unary - expects a number, got {type_of(a)}")


def _comparable(op: str, a: Any, b: Any) -> None:
    ta, tb = type(a), type(b)
    if (_num(a) and _num(b)) or (ta is tb and ta in (str, bytes)):
        return
    raise TypeErr(f"cannot compare {type_of(a)} with {type_of(b)} using {op}")


def lt(a: Any, b: Any) -> bool:
    _comparable("<", a, b)
    return bool(a < b)


def le(a: Any, b: Any) -> bool:
    _comparable("<=", a, b)
    return bool(a <= b)


def gt(a: Any, b: Any) -> bool:
    _comparable(">", a, b)
    return bool(a > b)


def ge(a: Any, b: Any) -> bool:
    _comparable(">=", a, b)
    return bool(a >= b)


def eq(a: Any, b: Any) -> bool:
    return equals(a, b)


def ne(a: Any, b: Any) -> bool:
    return not equals(a, b)


BINARY = {
    "+": add,
    "-": sub,
    "*": mul,
    "/": div,
    "%": mod,
    "**": power,
    "<": lt,
    "<=": le,
    ">": gt,
    ">=": ge,
    "==": eq,
    "!=": ne,
}


def make_range(start: Any, end: Any, inclusive: bool) -> range:
    if type(start) is not int or type(end) is not int:
        op = "..=" if inclusive else ".."
        raise TypeErr(f"range {op} expects ints, got {type_of(start)} and {type_of(end)}")
    return range(start, end + 1 if inclusive else end)


def _list_index(xs: Any, i: Any) -> int:
    if type(i) is not int:
        raise TypeErr(f"{type_of(xs)} index must be an int, got {type_of(i)}")
    n = len(xs)
    j = i + n if i < 0 else i
    if not 0 <= j < n:
        raise IndexErr(f"index {i} out of range for {type_of(xs)} of length {n}")
    return j


def get_index(target: Any, i: Any) -> Any:
    t = type(target)
    if t is dict:
        if type(i) is not str:
            raise TypeErr(f"map keys are strings, got {type_of(i)}")
        return target.get(i)
    if t is list or t is str or t is bytes:
        return target[_list_index(target, i)]
    raise TypeErr(f"cannot index {a_type(target)}")


def set_index(target: Any, i: Any, value: Any) -> None:
    t = type(target)
    if t is dict:
        if type(i) is not str:
            raise TypeErr(f"map keys are strings, got {type_of(i)}")
        target[i] = value
    elif t is list:
        target[_list_index(target, i)] = value
    elif t is str:
        raise TypeErr("strings are immutable")
    else:
        raise TypeErr(f"cannot assign to an index of {a_type(target)}")


def get_field(target: Any, name: str) -> Any:
    if type(target) is dict:
        return target.get(name)
    raise TypeErr(f"{a_type(target)} has no field '{name}'" + _field_hint(target, name))


def _field_hint(target: Any, name: str) -> str:
    """Fields exist only on maps: `xs.length` and `f().await` meant a method or `.await()`."""
    if name == "await":
        return " (to wait for a promise, write .await())"
    if _has_method(target, name):
        return f" (to call the method, write .{name}())"
    from .methods import method_names

    found = closest(name, method_names(target))
    return f"; did you mean the method .{found}()?" if found is not None else ""


def _has_method(target: Any, name: str) -> bool:
    return lookup_method(target, name) is not None


def set_field(target: Any, name: str, value: Any) -> None:
    if type(target) is dict:
        target[name] = value
        return
    raise TypeErr(f"cannot set field '{name}' on {a_type(target)}")


def iterate(v: Any) -> Iterable[Any]:
    t = type(v)
    if t is list or t is range:
        return v
    if t is dict:
        return list(v)  # keys, snapshot: the body may change the map
    if t is str:
        return v
    if t is bytes:
        return list(v)
    raise TypeErr(f"cannot iterate over {a_type(v)}")


def to_int_exact(v: float) -> int:
    if math.isnan(v) or math.isinf(v):
        raise ValueErr(f"cannot convert {v} to an int")
    return int(v)

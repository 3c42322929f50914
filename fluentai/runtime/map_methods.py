"""Built-in methods of maps and bytes (SPEC §4)."""

from __future__ import annotations

from collections.abc import Callable as Fn
from typing import Any

from ..syntax.errors import TypeErr, ValueErr
from .args import INT, MAP, expect
from .values import type_of


def _key(what: str, k: Any) -> str:
    if type(k) is not str:
        raise TypeErr(f"{what} expects a string key, got {type_of(k)}")
    return str(k)


def _m_get(m: dict[str, Any], k: Any, default: Any = None) -> Any:
    return m.get(_key("map.get()", k), default)


def _m_set(m: dict[str, Any], k: Any, v: Any) -> dict[str, Any]:
    m[_key("map.set()", k)] = v
    return m


def _m_has_as(what: str) -> Fn[[dict[str, Any], Any], bool]:
    def has(m: dict[str, Any], k: Any) -> bool:
        return _key(what, k) in m

    return has


def _m_remove(m: dict[str, Any], k: Any) -> Any:
    return m.pop(_key("map.remove()", k), None)


def _m_merge(m: dict[str, Any], other: Any) -> dict[str, Any]:
    return {**m, **expect("map.merge()", other, MAP)}


MAP_METHODS: dict[str, tuple[Fn[..., Any], int, int]] = {
    "keys": (list, 0, 0),
    "values": (lambda m: list(m.values()), 0, 0),
    "entries": (lambda m: [[k, v] for k, v in m.items()], 0, 0),
    "get": (_m_get, 1, 2),
    "set": (_m_set, 2, 2),
    "has": (_m_has_as("map.has()"), 1, 1),
    "has_key": (_m_has_as("map.has_key()"), 1, 1),
    "contains_key": (_m_has_as("map.contains_key()"), 1, 1),
    "remove": (_m_remove, 1, 1),
    "length": (len, 0, 0),
    "size": (len, 0, 0),
    "is_empty": (lambda m: not m, 0, 0),
    "merge": (_m_merge, 1, 1),
}


def _b_to_string(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueErr(f"bytes.to_string(): invalid UTF-8 at byte {e.start}") from None


def _b_slice(b: bytes, start: Any, end: Any = None) -> bytes:
    expect("bytes.slice()", start, INT)
    if end is None:
        return b[start:]
    return b[start : expect("bytes.slice()", end, INT)]


BYTES_METHODS: dict[str, tuple[Fn[..., Any], int, int]] = {
    "length": (len, 0, 0),
    "to_string": (_b_to_string, 0, 0),
    "slice": (_b_slice, 1, 2),
}

"""Built-in methods of strings (SPEC §4), and parsing numbers from text (`to_int`,
`int("42")`)."""

from __future__ import annotations

import re
from collections.abc import Callable as Fn
from typing import Any
from urllib.parse import quote as url_quote
from urllib.parse import unquote

from ..syntax.errors import ValueErr
from .args import INT, STRING, expect
from .values import display, from_json


def quote(s: str, limit: int = 40) -> str:
    """A string as it appears inside an error message: quoted, shortened when long."""
    if len(s) > limit:
        s = s[: limit - 3] + "..."
    return display([s])[1:-1]



_INT_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*")
_FLOAT_TEXT = re.compile(
    r"\s*[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)\s*",
    re.IGNORECASE,
)


# Text to int is quadratic in the digits: programs parse untrusted text (requests, messages),
# so parsing is bounded like CPython's default, while ints the program computes are not.
MAX_PARSE_DIGITS = 4300


def parse_int(what: str, s: str) -> int:
    if _INT_TEXT.fullmatch(s):
        if sum(c.isdigit() for c in s) > MAX_PARSE_DIGITS:
            raise ValueErr(f"{what} cannot parse an int of more than {MAX_PARSE_DIGITS} digits")
        return int(s)
    raise ValueErr(f"{what} cannot parse {quote(s)} as an int")


def parse_float(what: str, s: str) -> float:
    if _FLOAT_TEXT.fullmatch(s):
        return float(s)
    raise ValueErr(f"{what} cannot parse {quote(s)} as a float")


def _s_substring(s: str, start: Any, end: Any = None) -> str:
    expect("string.substring()", start, INT)
    if end is None:
        return s[start:]
    return s[start : expect("string.substring()", end, INT)]


def _s_split(s: str, sep: Any = None) -> list[str]:
    if sep is None:
        return s.split()
    if expect("string.split()", sep, STRING) == "":
        return list(s)
    return s.split(sep)


def _s_contains(s: str, sub: Any) -> bool:
    return expect("string.contains()", sub, STRING) in s


def _s_starts_with(s: str, prefix: Any) -> bool:
    return s.startswith(expect("string.starts_with()", prefix, STRING))


def _s_ends_with(s: str, suffix: Any) -> bool:
    return s.endswith(expect("string.ends_with()", suffix, STRING))


def _s_replace(s: str, old: Any, new: Any) -> str:
    return s.replace(expect("string.replace()", old, STRING), expect("string.replace()", new, STRING))


def _s_index_of(s: str, sub: Any) -> int:
    return s.find(expect("string.index_of()", sub, STRING))


def _s_repeat(s: str, n: Any) -> str:
    if expect("string.repeat()", n, INT) < 0:
        raise ValueErr(f"string.repeat() count must not be negative, got {n}")
    return s * n


def _s_to_bytes(s: str) -> bytes:
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \u{D800} escape
        raise ValueErr("string.to_bytes(): the string is not valid Unicode") from None


def _s_url_decode(s: str) -> str:
    try:
        return unquote(s, errors="strict")
    except UnicodeDecodeError:
        raise ValueErr(f"string.url_decode(): {quote(s)} does not decode to UTF-8 text") from None


STRING_METHODS: dict[str, tuple[Fn[..., Any], int, int]] = {
    "length": (len, 0, 0),
    "substring": (_s_substring, 1, 2),
    "to_upper": (str.upper, 0, 0),
    "to_uppercase": (str.upper, 0, 0),
    "to_lower": (str.lower, 0, 0),
    "to_lowercase": (str.lower, 0, 0),
    "trim": (str.strip, 0, 0),
    "split": (_s_split, 0, 1),
    "contains": (_s_contains, 1, 1),
    "starts_with": (_s_starts_with, 1, 1),
    "ends_with": (_s_ends_with, 1, 1),
    "replace": (_s_replace, 2, 2),
    "index_of": (_s_index_of, 1, 1),
    "repeat": (_s_repeat, 1, 1),
    "chars": (list, 0, 0),
    "to_int": (lambda s: parse_int("string.to_int()", s), 0, 0),
    "to_float": (lambda s: parse_float("string.to_float()", s), 0, 0),
    "from_json": (from_json, 0, 0),
    "to_bytes": (_s_to_bytes, 0, 0),
    "to_list": (list, 0, 0),
    # Percent-encoding for URLs, as JavaScript's encodeURIComponent / decodeURIComponent.
    "url_encode": (lambda s: url_quote(s, safe="-_.!~*'()"), 0, 0),
    "url_decode": (_s_url_decode, 0, 0),
}

"""Completion, one engine for the REPL and the language server: what to offer at a cursor,
given the text before it and a `Context` that knows the names in scope.

The REPL's context (`repl_input.Completions`) knows live values: the session's globals, and
a map's keys because the map exists. The language server's (`lsp/complete.py`) knows the
resolved document: the declarations visible at the cursor, and a value's type when its
declaration gives it a literal (`let m = {"a": 1}` makes `m.` offer `a`, then map methods).
Both describe a value to the engine as a `Shape`.

Also here, because completion needs it and the REPL's input checks share it: `scan`, a
tolerant tokenizer that knows whether a text ends inside a string or a comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..runtime.methods import method_names
from ..runtime.values import Promise

KEYWORDS = (
    "async", "break", "catch", "const", "continue", "else", "false", "finally", "for",
    "function", "handle", "if", "in", "let", "loop", "match", "mut", "nil", "null",
    "perform", "private", "public", "return", "throw", "true", "try", "use", "when", "while",
    "with",
)
KEYWORD_SET = frozenset(KEYWORDS)
CONSTANTS = frozenset(("true", "false", "nil", "null"))


# ---------------------------------------------------------------------------- scanning
# A tolerant tokenizer for what the parser cannot help with: telling an unterminated string
# inside an f-string expression from a real error, and knowing whether the cursor is in a
# string or comment when completing.

_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CLOSERS = {")": "(", "]": "[", "}": "{"}


@dataclass
class Scan:
    # (kind, start, end): kind is comment, string, interp (an f-string's `{` or `}`),
    # number, keyword, constant, effect, type, name, punct or op.
    tokens: list[tuple[str, int, int]] = field(default_factory=list)
    open_brackets: list[tuple[str, int]] = field(default_factory=list)
    in_string: bool = False  # the text ends inside a string or the text of an f-string
    in_comment: bool = False  # ... inside a /* comment


def scan(text: str) -> Scan:
    out = Scan()
    tokens = out.tokens
    # "(" "[" "{" brackets; "f" the text of an f-string; "F" an f-string's `{expression}`.
    stack: list[tuple[str, int]] = []
    i, n = 0, len(text)
    after_perform = False
    while i < n:
        if stack and stack[-1][0] == "f":
            start = i
            closed = False
            while i < n:
                c = text[i]
                if c == "\\":
                    i += 2
                elif c == '"':
                    i += 1
                    closed = True
                    break
                elif c in "{}" and text.startswith(c * 2, i):
                    i += 2
                elif c == "{":
                    break
                else:
                    i += 1
            i = min(i, n)
            if i > start:
                tokens.append(("string", start, i))
            if closed:
                stack.pop()
            elif i < n:  # an interpolation opens
                tokens.append(("interp", i, i + 1))
                stack.append(("F", i))
                i += 1
            continue
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            tokens.append(("comment", i, j))
            i = j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                out.in_comment = True
                j = n
            else:
                j += 2
            tokens.append(("comment", i, j))
            i = j
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                out.in_string = True
                j = n
            else:
                j += 1
            tokens.append(("string", i, j))
            i = j
            after_perform = False
            continue
        if text.startswith('f"', i):
            tokens.append(("string", i, i + 2))
            stack.append(("f", i))
            i += 2
            after_perform = False
            continue
        m = _NUMBER.match(text, i)
        if m:
            tokens.append(("number", i, m.end()))
            i = m.end()
            continue
        m = _NAME.match(text, i)
        if m:
            word = m.group()
            if _after_dot(text, tokens, i):
                kind = "name"  # a field or method: keywords are fine there
            elif after_perform:
                kind = "effect"
            elif word in CONSTANTS:
                kind = "constant"
            elif word in KEYWORD_SET:
                kind = "keyword"
            elif word[0].isupper():
                kind = "type"
            else:
                kind = "name"
            after_perform = word == "perform" and kind == "keyword"
            tokens.append((kind, i, m.end()))
            i = m.end()
            continue
        after_perform = False
        if c in "([{":
            stack.append((c, i))
            tokens.append(("punct", i, i + 1))
        elif c in ")]}":
            if c == "}" and stack and stack[-1][0] == "F":
                stack.pop()
                tokens.append(("interp", i, i + 1))
            else:
                if stack and stack[-1][0] == _CLOSERS[c]:
                    stack.pop()
                tokens.append(("punct", i, i + 1))
        else:
            tokens.append(("op", i, i + 1))
        i += 1
    if stack and stack[-1][0] == "f":
        out.in_string = True
    out.open_brackets = [(k if k != "F" else "{", pos) for k, pos in stack if k != "f"]
    return out


def _after_dot(text: str, tokens: list[tuple[str, int, int]], i: int) -> bool:
    """Whether the name at `i` follows a single `.` (a field or method), with only white
    space between (a range's `..` and a rest's `...` do not count)."""
    if not tokens:
        return False
    kind, start, end = tokens[-1]
    if kind != "op" or text[start] != "." or text[end:i].strip():
        return False
    if len(tokens) > 1:
        kind, before, before_end = tokens[-2]
        if kind == "op" and before_end == start and text[before] == ".":
            return False
    return True


# ---------------------------------------------------------------------------- the engine
@dataclass(frozen=True)
class Shape:
    """What completion knows of a value: its type, as `type_of` names it ("map", "list", ...,
    or "module" for a name bound by `use`), and the members it has beyond its type's methods
    — a map's keys (meta "key"), a module's public names — as (name, meta) pairs."""

    type: str
    members: tuple[tuple[str, str], ...] = ()


class Context(Protocol):
    """What the engine asks of whoever knows the program at the cursor."""

    def names(self) -> Iterable[tuple[str, str]]:
        """Names in scope at the cursor, with their meta ("local", "function", ...), in the
        order they should be offered."""

    def effects(self) -> dict[str, list[str]]:
        """Effect name -> its operations' names."""

    def shape(self, chain: list[str]) -> Shape | None:
        """What `a.b.c` is for `chain` ["a", "b", "c"]; None when not known."""


_SAMPLES: dict[str, Any] = {
    "string": "", "list": [], "map": {}, "bytes": b"", "int": 0, "float": 0.0, "bool": True,
    "nil": None, "promise": Promise.resolved(None),
}


def methods_of(type_name: str) -> list[str]:
    """The built-in methods of a type (`.await` of a promise included); a module has none,
    a function or an unknown type the ones every value has."""
    if type_name == "module":
        return []
    names = method_names(_SAMPLES.get(type_name, object()))
    return sorted([*names, "await"]) if type_name == "promise" else names


def all_method_names() -> list[str]:
    return sorted({name for v in _SAMPLES.values() for name in method_names(v)} | {"await"})


_ALL_METHODS = all_method_names()
_PERFORM = re.compile(r"\bperform\s+(\w*)$")
_DOTTED = re.compile(r"(?<![\w.\])\"])((?:[A-Za-z_]\w*\.)+)(\w*)$")
_AFTER_DOT = re.compile(r"([\])\"\w])\.(\w*)$")
_WORD = re.compile(r"(?<![\w.])([A-Za-z_]\w*)?$")

Items = list[tuple[str, str]]


def complete(before: str, context: Context) -> tuple[int, Items]:
    """What to offer after `before` (the text before the cursor, from a point where no
    string, comment or bracket is open): (text, meta) pairs, and how many characters
    before the cursor they replace. Nothing inside a string or a comment; effect names
    after `perform `, an effect's operations after `Effect.`, members and methods after
    `name.`, every method after any other `.`, else names in scope, keywords and effects."""
    line = before.rsplit("\n", 1)[-1]
    s = scan(before)
    if s.in_string or s.in_comment:
        return 0, []
    if s.tokens and s.tokens[-1][0] == "comment" and s.tokens[-1][2] == len(before):
        return 0, []
    m = _PERFORM.search(line)
    if m:
        word = m.group(1)
        return len(word), [(e, "effect") for e in sorted(context.effects()) if e.startswith(word)]
    m = _DOTTED.search(line)
    if m:
        chain, word = m.group(1)[:-1].split("."), m.group(2)
        return len(word), [c for c in _members(context, chain) if c[0].startswith(word)]
    m = _AFTER_DOT.search(line)
    if m:
        word = m.group(2)
        if m.group(1) == '"':
            names = [*method_names(""), "await"]
        elif m.group(1).isdigit():
            return 0, []
        else:
            names = _ALL_METHODS
        return len(word), [(n, "method") for n in sorted(names) if n.startswith(word)]
    m = _WORD.search(line)
    if m is None:
        return 0, []
    word = m.group(1) or ""
    return len(word), _words(context, word)


def _members(context: Context, chain: list[str]) -> Items:
    shape = context.shape(chain)
    if shape is None:
        effects = context.effects()
        if len(chain) == 1 and chain[0] in effects:
            return [(op, f"{chain[0]} operation") for op in effects[chain[0]]]
        return [(n, "method") for n in _ALL_METHODS]
    out = list(shape.members)
    own = {name for name, _ in out}
    out.extend((n, "method") for n in methods_of(shape.type) if n not in own)
    return out


def _words(context: Context, word: str) -> Items:
    seen: set[str] = set()
    out: Items = []

    def add(items: Iterable[tuple[str, str]]) -> None:
        for name, meta in items:
            if name.startswith(word) and name not in seen:
                seen.add(name)
                out.append((name, meta))

    add(context.names())
    add((k, "keyword") for k in KEYWORDS)
    add((e, "effect") for e in sorted(context.effects()))
    return out

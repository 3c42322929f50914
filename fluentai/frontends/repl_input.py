"""What the REPL knows about the text being typed, kept free of the terminal: scanning an
input for open brackets, strings and comments (is it complete?) and what Tab completes at
the cursor. Its colours come from the Pygments lexer (repl_style.py)."""

from __future__ import annotations

import re
from collections.abc import Callable as Fn
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..runtime.methods import method_names
from ..runtime.values import Promise
from ..syntax.errors import FluentSyntaxError
from ..syntax.parser import parse
from ..syntax.source import Source

KEYWORDS = (
    "async", "break", "catch", "const", "continue", "else", "false", "finally", "for",
    "function", "handle", "if", "in", "let", "loop", "match", "mut", "nil", "null",
    "perform", "private", "public", "return", "throw", "true", "try", "use", "when", "while",
    "with",
)
KEYWORD_SET = frozenset(KEYWORDS)
CONSTANTS = frozenset(("true", "false", "nil", "null"))

COMMANDS = {
    ":help": ("", "this help"),
    ":load": (" FILE", "run FILE in this session: its definitions become globals"),
    ":reload": ("", "read the loaded files again: new functions, same state and servers"),
    ":effects": ("", "effects and their operations (* = async: .await() the result)"),
    ":reset": ("", "stop servers and start a fresh session"),
    ":quit": ("", "stop servers and leave (also :q, :exit, Ctrl-D)"),
}
QUIT_COMMANDS = (":quit", ":q", ":exit")


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
            prev = text[:i].rstrip()
            if prev.endswith(".") and not prev.endswith(".."):
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


def incomplete(text: str) -> bool:
    """Whether `text` is an input that must go on: it does not parse because something is
    left open (a bracket, string, f-string, comment) or because it ends where more must
    follow (`let x =`, `1 +`) and its last line is not blank."""
    if text.lstrip().startswith(":"):
        return False  # a command
    try:
        parse(Source("<repl>", text))
    except FluentSyntaxError as e:
        if e.message.startswith(("unclosed", "unterminated")):
            return True
        if "end of input" in e.message:
            last = text[:-1] if text.endswith("\n") else text  # a piped line's own newline
            return bool(last.rsplit("\n", 1)[-1].strip())
        s = scan(text)
        return s.in_string or s.in_comment
    except RecursionError:
        return False
    return False



def _all_method_names() -> list[str]:
    samples: list[Any] = ["", [], {}, b"", 0, 0.0, True, None, Promise.resolved(None)]
    return sorted({name for v in samples for name in method_names(v)} | {"await"})


_DECLARED = re.compile(r"\b(?:let|const|function)\s+([A-Za-z_]\w*)|\bfor\s+([A-Za-z_]\w*)\s+in\b"
                       r"|\bcatch\s*\(\s*([A-Za-z_]\w*)")
_PERFORM = re.compile(r"\bperform\s+(\w*)$")
_DOTTED = re.compile(r"(?<![\w.\])\"])((?:[A-Za-z_]\w*\.)+)(\w*)$")
_AFTER_DOT = re.compile(r"([\])\"\w])\.(\w*)$")
_WORD = re.compile(r"(?<![\w.])([A-Za-z_]\w*)?$")


class Scope(Protocol):
    """What completion needs of a session: its globals and the effects it can perform."""

    @property
    def globals(self) -> dict[str, Any]: ...

    def effects(self) -> dict[str, list[str]]: ...


class Completions:
    """What Tab offers at a cursor position: (text, meta) pairs and how many characters
    before the cursor they replace. Kept free of prompt_toolkit for testing. `scope` gives
    the session (the REPL replaces its session on `:reset`, so it is asked each time)."""

    def __init__(self, scope: Fn[[], Scope]) -> None:
        self.scope = scope
        self._all_methods = _all_method_names()

    def effects(self) -> dict[str, list[str]]:
        return self.scope().effects()

    def at(self, before: str) -> tuple[int, list[tuple[str, str]]]:
        line = before.rsplit("\n", 1)[-1]
        if before.lstrip().startswith(":"):
            if " " in before.strip() or before.endswith(" "):
                return 0, []
            word = before.strip()
            return len(word), [(c, "command") for c in (*COMMANDS, ":q", ":exit")
                               if c.startswith(word)]
        s = scan(before)
        if s.in_string or s.in_comment:
            return 0, []
        if s.tokens and s.tokens[-1][0] == "comment" and s.tokens[-1][2] == len(before):
            return 0, []
        m = _PERFORM.search(line)
        if m:
            word = m.group(1)
            return len(word), [(e, "effect") for e in self.effects() if e.startswith(word)]
        m = _DOTTED.search(line)
        if m:
            chain, word = m.group(1)[:-1].split("."), m.group(2)
            return len(word), [c for c in self._members(chain) if c[0].startswith(word)]
        m = _AFTER_DOT.search(line)
        if m:
            word = m.group(2)
            if m.group(1) == '"':
                names = [*method_names(""), "await"]
            elif m.group(1).isdigit():
                return 0, []
            else:
                names = self._all_methods
            return len(word), [(n, "method") for n in sorted(names) if n.startswith(word)]
        m = _WORD.search(line)
        if m is None:
            return 0, []
        word = m.group(1) or ""
        return len(word), self._words(word, before)

    def _members(self, chain: list[str]) -> list[tuple[str, str]]:
        globals_ = self.scope().globals
        head = chain[0]
        if head not in globals_:
            effects = self.effects()
            if len(chain) == 1 and head in effects:
                return [(op, f"{head} operation") for op in effects[head]]
            return [(n, "method") for n in self._all_methods]
        value: Any = globals_[head]
        for key in chain[1:]:
            if type(value) is dict and key in value:
                value = value[key]
            else:
                return [(n, "method") for n in self._all_methods]
        out: list[tuple[str, str]] = []
        if type(value) is dict:
            out.extend((k, "key") for k in value if isinstance(k, str) and _NAME.fullmatch(k))
        names = method_names(value)
        if type(value) is Promise:
            names = [*names, "await"]
        out.extend((n, "method") for n in sorted(names) if (n, "key") not in out)
        return out

    def _words(self, word: str, before: str) -> list[tuple[str, str]]:
        seen: set[str] = set()
        out: list[tuple[str, str]] = []

        def add(names: Iterable[str], meta: Fn[[str], str]) -> None:
            for name in sorted(names):
                if name.startswith(word) and name not in seen:
                    seen.add(name)
                    out.append((name, meta(name)))

        globals_ = self.scope().globals
        local = {g for groups in _DECLARED.findall(before) for g in groups if g}
        add(local, lambda _: "local")
        add(globals_, lambda n: _describe(globals_[n]))
        add(KEYWORDS, lambda _: "keyword")
        add(self.effects(), lambda _: "effect")
        return out


def _describe(value: Any) -> str:
    from ..runtime.values import type_of

    try:
        return type_of(value)
    except Exception:
        return ""



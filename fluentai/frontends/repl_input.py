"""What the REPL knows about the text being typed, kept free of the terminal: whether an
input is complete (open brackets, strings and comments) and what Tab completes at the cursor
— the shared engine of `completion.py`, given the session's live values. Its colours come
from the Pygments lexer (repl_style.py)."""

from __future__ import annotations

import re
from collections.abc import Callable as Fn
from collections.abc import Iterator
from typing import Any, Protocol

from ..runtime.values import type_of
from ..syntax.errors import FluentSyntaxError
from ..syntax.parser import parse
from ..syntax.source import Source
from .completion import CONSTANTS, KEYWORD_SET, KEYWORDS, Scan, Shape, complete, scan

__all__ = ["COMMANDS", "CONSTANTS", "KEYWORDS", "KEYWORD_SET", "QUIT_COMMANDS", "Completions",
           "Scan", "incomplete", "scan"]

COMMANDS = {
    ":help": ("", "this help"),
    ":load": (" FILE", "run FILE in this session: its definitions become globals"),
    ":reload": ("", "read the loaded files again: new functions, same state and servers"),
    ":effects": ("", "effects and their operations (* = async: .await() the result)"),
    ":reset": ("", "stop servers and start a fresh session"),
    ":quit": ("", "stop servers and leave (also :q, :exit, Ctrl-D)"),
}
QUIT_COMMANDS = (":quit", ":q", ":exit")


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


_DECLARED = re.compile(r"\b(?:let|const|function)\s+([A-Za-z_]\w*)|\bfor\s+([A-Za-z_]\w*)\s+in\b"
                       r"|\bcatch\s*\(\s*([A-Za-z_]\w*)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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

    def effects(self) -> dict[str, list[str]]:
        return self.scope().effects()

    def at(self, before: str) -> tuple[int, list[tuple[str, str]]]:
        if before.lstrip().startswith(":"):
            if " " in before.strip() or before.endswith(" "):
                return 0, []
            word = before.strip()
            return len(word), [(c, "command") for c in (*COMMANDS, ":q", ":exit")
                               if c.startswith(word)]
        return complete(before, _Live(self.scope(), before))


class _Live:
    """The engine's `Context` for a session: names declared in the input so far ("local"),
    then the session's globals described by their values' types; shapes from live values."""

    def __init__(self, scope: Scope, before: str) -> None:
        self.scope = scope
        self.before = before

    def names(self) -> Iterator[tuple[str, str]]:
        local = {g for groups in _DECLARED.findall(self.before) for g in groups if g}
        yield from ((name, "local") for name in sorted(local))
        globals_ = self.scope.globals
        yield from ((name, _describe(globals_[name])) for name in sorted(globals_))

    def effects(self) -> dict[str, list[str]]:
        return self.scope.effects()

    def shape(self, chain: list[str]) -> Shape | None:
        globals_ = self.scope.globals
        if chain[0] not in globals_:
            return None
        value: Any = globals_[chain[0]]
        for key in chain[1:]:
            if type(value) is dict and key in value:
                value = value[key]
            else:
                return None
        keys: tuple[tuple[str, str], ...] = ()
        if type(value) is dict:
            keys = tuple((k, "key") for k in value if isinstance(k, str) and _NAME.fullmatch(k))
        return Shape(_describe(value), keys)


def _describe(value: Any) -> str:
    try:
        return type_of(value)
    except Exception:  # a value of a plugin's own class: describe it by nothing
        return ""

"""Warnings the language server adds to `check`'s errors: things that are legal but almost
always a mistake. Each is found from the AST and the symbol index alone.

- a local `let`/`const` that is never read (names starting with `_` are exempt);
- a WebSocket server (`perform HttpServer.listen(port, true ...)`) in a file that defines
  no message handler — no `handle_websocket_message`, `handle_message` or single
  `handle_<x>_message` function and no `on(..., "message", ...)` — so every message would
  be dropped;
- `perform E.op` where no built-in or installed effect `E` has `op` and no `handle` clause
  of the file handles it.

They are found in one walk over the AST with the resolver's answers, without the symbol
index: diagnostics are published after every keystroke, and this keeps them cheap.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from ...resolve.resolution import Resolution
from ...syntax import ast
from ..effect_catalog import Catalog
from .symbols import Pos, line_starts


@dataclass(frozen=True)
class Finding:
    message: str
    start: Pos
    end: Pos
    unnecessary: bool = False  # an editor may fade the code out


@dataclass
class _Seen:
    """What one walk over the program collects for the checks."""

    local_lets: list[ast.Let] = field(default_factory=list)
    read: set[int] = field(default_factory=set)  # ids of declarations read somewhere
    written: set[int] = field(default_factory=set)
    listens: list[ast.Perform] = field(default_factory=list)
    message_handler: bool = False
    handler_functions: int = 0  # `handle_<x>_message` functions
    performs: list[ast.Perform] = field(default_factory=list)
    handled: set[tuple[str, str]] = field(default_factory=set)  # (effect, op) of clauses


_HANDLER_NAME = re.compile(r"handle_\w+_message")
_PERFORM = re.compile(r"perform\s+(\w+)\s*\.\s*(\w+)")


def findings(program: ast.Program, resolution: Resolution, text: str,
             catalog: Catalog) -> list[Finding]:
    seen = _walk(program, resolution)
    where = _Where(text)
    out = [*_unused(seen), *_server_without_handler(seen, where),
           *_unknown_operations(seen, where, catalog)]
    out.sort(key=lambda f: f.start)
    return out


def _walk(program: ast.Program, res: Resolution) -> _Seen:
    seen = _Seen()
    targets: set[int] = set()  # assignment targets: written, not read
    for node in ast.walk(program):
        if isinstance(node, ast.Var):
            key = res.declarations.get(node)
            if key is not None:
                (seen.written if id(node) in targets else seen.read).add(id(key))
        elif isinstance(node, ast.Assign):
            targets.add(id(node.target))
        elif isinstance(node, ast.Let):
            if node in res.slots:  # a local: top-level ones are globals
                seen.local_lets.append(node)
            _handler_name(seen, node.name)
        elif isinstance(node, ast.FunctionDecl):
            _handler_name(seen, node.name)
        elif isinstance(node, ast.Perform):
            seen.performs.append(node)
            if node.effect == "HttpServer" and node.op == "listen" and len(node.args) > 1 \
                    and isinstance(node.args[1], ast.Literal) and node.args[1].value is True:
                seen.listens.append(node)
            elif node.op == "on" and _message_event(node.args):
                seen.message_handler = True
        elif isinstance(node, ast.Call | ast.MethodCall):
            if isinstance(node, ast.MethodCall):
                name: str | None = node.name
            else:
                name = node.callee.name if isinstance(node.callee, ast.Var) else None
            if name == "on" and _message_event(node.args):
                seen.message_handler = True
        elif isinstance(node, ast.HandlerClause):
            seen.handled.add((node.effect, node.op))
    return seen


def _handler_name(seen: _Seen, name: str) -> None:
    if name in ("handle_websocket_message", "handle_message"):
        seen.message_handler = True
    elif _HANDLER_NAME.fullmatch(name):
        seen.handler_functions += 1


def _message_event(args: tuple[ast.Node, ...]) -> bool:
    return any(isinstance(a, ast.Literal) and a.value == "message" for a in args)


class _Where:
    """Positions in the text, computed only when there is something to report."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None

    def perform(self, node: ast.Perform) -> tuple[Pos, Pos] | None:
        """Where the effect's and the operation's names of a `perform` start."""
        if self._starts is None:
            self._starts = line_starts(self.text)
        line, col = node.span.line, node.span.column
        m = _PERFORM.match(self.text, self._starts[line - 1] + col - 1)
        if m is None:
            return None
        return self._pos(m.start(1)), self._pos(m.start(2))

    def _pos(self, offset: int) -> Pos:
        assert self._starts is not None
        line = bisect.bisect_right(self._starts, offset)
        return (line, offset - self._starts[line - 1] + 1)


def _unused(seen: _Seen) -> list[Finding]:
    out = []
    for let in seen.local_lets:
        if let.name.startswith("_") or id(let) in seen.read:
            continue
        what = "assigned but never read" if id(let) in seen.written else "never used"
        start = (let.span.line, let.span.column)
        out.append(Finding(f"'{let.name}' is {what} (start its name with '_' if that is "
                           f"intended)", start, (start[0], start[1] + len(let.name)),
                           unnecessary=True))
    return out


def _server_without_handler(seen: _Seen, where: _Where) -> list[Finding]:
    if seen.message_handler or seen.handler_functions == 1:
        return []
    out = []
    for node in seen.listens:
        found = where.perform(node)
        start = found[1] if found is not None else (node.span.line, node.span.column)
        out.append(Finding(
            "this WebSocket server has no message handler, so it drops every message: define "
            "function handle_websocket_message(conn_id, message), or register one with "
            "perform HttpServer.on(server.id, \"message\", handler)",
            start, (start[0], start[1] + len("listen"))))
    return out


def _unknown_operations(seen: _Seen, where: _Where, catalog: Catalog) -> list[Finding]:
    handled_effects = {effect for effect, _ in seen.handled}
    out: list[Finding] = []
    for node in seen.performs:
        effect, op = node.effect, node.op
        if (effect, op) in seen.handled:
            continue
        ops: Any = catalog.effects.get(effect)
        if ops is None and effect not in handled_effects:
            message, name, which = (f"unknown effect '{effect}': no built-in or installed "
                                    f"effect has that name, and no handle clause in this "
                                    f"file handles it"), effect, 0
        elif ops is not None and op not in ops:
            message, name, which = (f"effect '{effect}' has no operation '{op}' (it has: "
                                    f"{', '.join(ops)})"), op, 1
        else:
            continue
        found = where.perform(node)
        start = found[which] if found is not None else (node.span.line, node.span.column)
        out.append(Finding(message, start, (start[0], start[1] + len(name))))
    return out

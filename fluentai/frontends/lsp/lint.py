"""Warnings the language server adds to `check`'s errors: things that are legal but almost
always a mistake. Each is found from the AST and the symbol index alone.

- a local `let`/`const` that is never read (names starting with `_` are exempt);
- a WebSocket server (`perform HttpServer.listen(port, true ...)`) in a file that defines
  no message handler — no `handle_websocket_message`, `handle_message` or single
  `handle_<x>_message` function and no `on(..., "message", ...)` — so every message would
  be dropped;
- `perform E.op` where no built-in or installed effect `E` has `op` and no `handle` clause
  of the file handles it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...syntax import ast
from ..effect_catalog import Catalog
from . import symbols as sym
from .symbols import Index, Pos


@dataclass(frozen=True)
class Finding:
    message: str
    start: Pos
    end: Pos
    unnecessary: bool = False  # an editor may fade the code out


def findings(program: ast.Program, index: Index, catalog: Catalog) -> list[Finding]:
    out = [*_unused(index), *_server_without_handler(program, index),
           *_unknown_operations(index, catalog)]
    out.sort(key=lambda f: f.start)
    return out


def _unused(index: Index) -> list[Finding]:
    read: set[int] = set()
    written: set[int] = set()
    for occ in index.occurrences:
        if occ.symbol is not None:
            if occ.role == sym.READ:
                read.add(id(occ.symbol))
            elif occ.role == sym.WRITE:
                written.add(id(occ.symbol))
    out = []
    for s in index.symbols:
        if s.top or s.kind not in (sym.LET, sym.CONST) or s.name.startswith("_") \
                or id(s) in read:
            continue
        what = "assigned but never read" if id(s) in written else "never used"
        end = (s.start[0], s.start[1] + len(s.name))
        out.append(Finding(f"'{s.name}' is {what} (start its name with '_' if that is "
                           f"intended)", s.start, end, unnecessary=True))
    return out


_HANDLER_NAME = re.compile(r"handle_\w+_message")


def _server_without_handler(program: ast.Program, index: Index) -> list[Finding]:
    listens: list[ast.Perform] = []
    handlers = 0
    for node in ast.walk(program):
        if isinstance(node, ast.Perform):
            if node.effect == "HttpServer" and node.op == "listen" and len(node.args) > 1 \
                    and _is(node.args[1], True):
                listens.append(node)
            elif node.op == "on" and _message_event(node.args):
                return []
        elif isinstance(node, ast.Call | ast.MethodCall):
            callee = node.callee if isinstance(node, ast.Call) else None
            name = callee.name if isinstance(callee, ast.Var) else getattr(node, "name", None)
            if name == "on" and _message_event(node.args):
                return []
        elif isinstance(node, ast.FunctionDecl | ast.Let):
            if node.name in ("handle_websocket_message", "handle_message"):
                return []
            if _HANDLER_NAME.fullmatch(node.name):
                handlers += 1
    if handlers == 1 or not listens:
        return []
    out = []
    for node in listens:
        occ = next((o for o in index.by_line.get(node.span.line, ())
                    if o.node is node and o.role == sym.OPERATION), None)
        start = occ.start if occ is not None else (node.span.line, node.span.column)
        out.append(Finding(
            "this WebSocket server has no message handler, so it drops every message: define "
            "function handle_websocket_message(conn_id, message), or register one with "
            "perform HttpServer.on(server.id, \"message\", handler)",
            start, (start[0], start[1] + len("listen"))))
    return out


def _is(node: ast.Node, value: object) -> bool:
    return isinstance(node, ast.Literal) and node.value is value


def _message_event(args: tuple[ast.Node, ...]) -> bool:
    return any(isinstance(a, ast.Literal) and a.value == "message" for a in args)


def _unknown_operations(index: Index, catalog: Catalog) -> list[Finding]:
    handled: set[tuple[str, str]] = set()
    handled_effects: set[str] = set()
    for occ in index.occurrences:
        if occ.role == sym.OPERATION and isinstance(occ.node, ast.HandlerClause):
            handled.add((occ.node.effect, occ.node.op))
            handled_effects.add(occ.node.effect)
    out = []
    for occ in index.occurrences:
        if occ.role not in (sym.EFFECT, sym.OPERATION) or not isinstance(occ.node, ast.Perform):
            continue
        effect, op = occ.node.effect, occ.node.op
        if (effect, op) in handled:
            continue
        ops = catalog.effects.get(effect)
        if occ.role == sym.EFFECT and ops is None and effect not in handled_effects:
            message = (f"unknown effect '{effect}': no built-in or installed effect has that "
                       f"name, and no handle clause in this file handles it")
        elif occ.role == sym.OPERATION and ops is not None and op not in ops:
            message = (f"effect '{effect}' has no operation '{op}' (it has: "
                       f"{', '.join(ops)})")
        else:
            continue
        out.append(Finding(message, occ.start, occ.end))
    return out

"""What the language server knows of a value's type without running anything: the type of a
literal, and the keys of a map literal (with their values' types, so `config.server.` can
offer what `config = {"server": {"port": 80}}` holds). A name declared by `let x = y`
takes what is known of `y`. (Structs, when the language has them, will join here.)
"""

from __future__ import annotations

import re
from collections.abc import Callable as Fn

from ...syntax import ast
from ..completion import Shape

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_DEPTH = 8  # names followed through `let a = b`


def _literal_type(value: object) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    return {int: "int", float: "float", str: "string"}.get(type(value), "any")


def value_of(node: ast.Node | None, keys: list[str],
             lookup: Fn[[ast.Var], ast.Node | None] | None = None, depth: int = 0
             ) -> ast.Node | None:
    """The expression found by following map keys `keys` into `node` (through names when
    `lookup` gives what a name was declared with)."""
    while node is not None and depth < MAX_DEPTH:
        if isinstance(node, ast.Var) and lookup is not None:
            node, depth = lookup(node), depth + 1
            continue
        if not keys:
            return node
        if not isinstance(node, ast.MapLit):
            return None
        found = [v for k, v in node.pairs if k == keys[0]]
        node, keys = (found[-1] if found else None), keys[1:]
    return None


def shape_of(node: ast.Node | None,
             lookup: Fn[[ast.Var], ast.Node | None] | None = None) -> Shape | None:
    node = value_of(node, [], lookup)
    if isinstance(node, ast.Literal):
        return Shape(_literal_type(node.value))
    if isinstance(node, ast.FString):
        return Shape("string")
    if isinstance(node, ast.ListLit):
        return Shape("list")
    if isinstance(node, ast.MapLit):
        keys = dict.fromkeys(k for k, _ in node.pairs if _IDENTIFIER.fullmatch(k))
        return Shape("map", tuple((k, "key") for k in keys))
    if isinstance(node, ast.Lambda):
        return Shape("function")
    return None

"""Where one statement ends and the next begins (SPEC §1): a newline or a `;` separates two
statements; on one line they need a `;`, unless the first ends with a block's `}`
(`function f() { … } print(f())`, `if c { … } x += 1`, as in Rust).

The grammar itself needs no separators (FluentAI programs leave `;` out at line ends), so
without this check `let s = "a" "b"` would quietly be two statements and `s` would be "a".
It runs on Lark's parse tree, where every statement still knows its exact extent in the
text, before the tree becomes an AST.
"""

from __future__ import annotations

from itertools import pairwise

from lark import Token, Tree

from .errors import FluentSyntaxError
from .habits import MISPLACED_KEYWORDS, NEVER_NAMES, habit, lone_name
from .source import Source, Span

# Trees whose children are statements.
_STATEMENT_LISTS = frozenset({"start", "body", "block"})
# A statement ending with one of these ends with a `}` that is not a block's.
_NOT_BLOCKS = frozenset({"map_lit", "map_pattern"})
_VALUE_ENDS = frozenset({"string_lit", "triple_string_lit", "fstring", "int_lit", "float_lit", "true_lit",
                         "false_lit", "nil_lit", "var", "list_lit", "map_lit", "call",
                         "method_call", "index", "field"})
_STRINGS = frozenset({"string_lit", "triple_string_lit", "fstring"})


def check_separators(tree: Tree[Token], source: Source) -> None:
    """Raise a syntax error at the first statement that shares a line with the one before
    it without a `;` between them."""
    stack = [tree]
    while stack:
        node = stack.pop()
        children = [c for c in node.children if isinstance(c, Tree)]
        stack.extend(children)
        if node.data not in _STATEMENT_LISTS:
            continue
        for first, second in pairwise(children):
            if (first.meta.end_line == second.meta.line
                    and ";" not in source.text[first.meta.end_pos:second.meta.start_pos]
                    and not _ends_with_block(first, source)):
                raise _error(first, second, source)


def _ends_with_block(node: Tree[Token], source: Source) -> bool:
    end = node.meta.end_pos
    if source.text[end - 1:end] != "}":
        return False
    owner = node
    while True:  # the innermost tree that ends at the same place owns the `}`
        inner = [c for c in owner.children if isinstance(c, Tree) and c.meta.end_pos == end]
        if not inner:
            return owner.data not in _NOT_BLOCKS
        owner = inner[-1]


def _ends_as(node: Tree[Token], kinds: frozenset[str]) -> bool:
    """Whether the rightmost piece of `node` (down its last children) is one of `kinds`."""
    current: Tree[Token] | Token | None = node
    while isinstance(current, Tree):
        if current.data in kinds:
            return True
        trees = [c for c in current.children if isinstance(c, Tree)]
        current = trees[-1] if trees and trees[-1].meta.end_pos == node.meta.end_pos else None
    return False


def _rightmost(node: Tree[Token]) -> Tree[Token]:
    """The innermost tree that ends where `node` does."""
    while True:
        inner = [c for c in node.children
                 if isinstance(c, Tree) and c.meta.end_pos == node.meta.end_pos]
        if not inner:
            return node
        node = inner[-1]


def _error(first: Tree[Token], second: Tree[Token], source: Source) -> FluentSyntaxError:
    span = Span(source, second.meta.line, second.meta.column)
    if first.data == "var" and isinstance(first.children[0], Token):
        # A lone name has no effect; followed on its line by more code it is almost always
        # a misspelt keyword (`functoin f() {}`, `print x`) or another language's word.
        return FluentSyntaxError(lone_name(str(first.children[0])),
                                 Span(source, first.meta.line, first.meta.column))
    for word in first.find_data("var"):
        name = str(word.children[0])
        if name in NEVER_NAMES:  # `let f = function(x) { … }`: a keyword, never a value
            return FluentSyntaxError(MISPLACED_KEYWORDS[name],
                                     Span(source, word.meta.line, word.meta.column))
    last = _rightmost(first)
    if last.data == "var" and isinstance(last.children[0], Token):
        # `let v = await f()`, `x = new Thing()`: another language's word ends the statement.
        message = habit(str(last.children[0]))
        if message is not None:
            return FluentSyntaxError(message, Span(source, last.meta.line, last.meta.column))
    message = "expected ';' or a new line before this"
    if _ends_as(first, _STRINGS) and second.data in _STRINGS:
        message += " (to join strings, use +: \"a\" + \"b\")"
    elif _ends_as(first, _VALUE_ENDS) and second.data in _VALUE_ENDS | {"printable"}:
        message += " (is an operator or a comma missing between the two values?)"
    return FluentSyntaxError(message, span)

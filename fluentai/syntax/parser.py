"""Text to AST: runs the Lark LALR parser over `grammar/fluentai.lark`, turns the parse tree
into `ast` nodes, and rephrases Lark's errors in the user's terms.

The Lark parser object itself lives in `grammar`.
"""

from __future__ import annotations

import re
from typing import Any

from lark import Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, VisitError

from . import ast
from .errors import FluentSyntaxError
from .grammar import lark_parser
from .parse_errors import syntax_error
from .separators import check_separators
from .source import Source, Span


def parse(source: Source) -> ast.Program:
    """Parse a whole program; raises FluentSyntaxError with a span on any error."""
    return to_ast(source, parse_tree(source))


def parse_tree(source: Source) -> Tree[Token]:
    """The first step of `parse`: Lark's parse tree, or the syntax error of the first token
    that does not fit. (The language server parses a statement at a time and needs to tell
    this step's errors from `to_ast`'s.)"""
    try:
        tree = lark_parser().parse(source.text)
    except UnexpectedInput as e:
        raise syntax_error(source, e) from None
    except RecursionError:
        raise FluentSyntaxError(
            "program is nested too deeply", Span(source, 1, 1)
        ) from None
    check_separators(tree, source)
    if "'" in source.text:
        _check_quotes(tree, source)
    return tree


def to_ast(source: Source, tree: Tree[Token]) -> ast.Program:
    """The second step of `parse`: the AST of a parse tree; the errors only a whole token
    shows (an unknown escape in a string, a misplaced `...` in a pattern)."""
    try:
        program = _ToAst(source).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, FluentSyntaxError):
            raise e.orig_exc from None
        if isinstance(e.orig_exc, RecursionError):
            raise FluentSyntaxError("program is nested too deeply", Span(source, 1, 1)) from None
        raise
    except RecursionError:
        raise FluentSyntaxError("program is nested too deeply", Span(source, 1, 1)) from None
    assert isinstance(program, ast.Program)
    return program


def _check_quotes(tree: Tree[Token], source: Source) -> None:
    """`'…'` strings are for f-string expressions (`f"{m['k']}"`); elsewhere strings are
    written in double quotes, as SPEC §1 says."""
    stack: list[tuple[Tree[Token], bool]] = [(tree, False)]
    while stack:
        node, in_fstring = stack.pop()
        inside = in_fstring or node.data == "fstring_expr"
        for child in node.children:
            if isinstance(child, Tree):
                stack.append((child, inside))
            elif isinstance(child, Token) and child.type == "SQ_STRING" and not inside:
                raise FluentSyntaxError(
                    "unexpected character \"'\" (strings are written in double quotes: "
                    "\"...\"; single quotes only inside an f-string's {…})",
                    Span(source, child.line or 1, child.column or 1))


# ----------------------------------------------------------------------------- tree → AST
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}
_ESCAPE_RE = re.compile(r"\\(u\{([0-9A-Fa-f]{1,6})\}|.|\n)", re.S)


def _unescape(text: str, source: Source, line: int, column: int) -> str:
    def replace(m: re.Match[str]) -> str:
        if m.group(2) is not None:
            code = int(m.group(2), 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise FluentSyntaxError(
                    f"invalid unicode escape '\\u{{{m.group(2)}}}'", _offset(source, text, m.start(), line, column)
                )
            return chr(code)
        ch = m.group(1)
        if ch in _ESCAPES:
            return _ESCAPES[ch]
        if ch == "u":
            raise FluentSyntaxError(
                "a unicode escape is written with braces, e.g. '\\u{41}' or '\\u{1F600}'",
                _offset(source, text, m.start(), line, column))
        shown = "\\n" if ch == "\n" else ch
        raise FluentSyntaxError(
            f"unknown escape sequence '\\{shown}'", _offset(source, text, m.start(), line, column)
        )

    return _ESCAPE_RE.sub(replace, text)


def _offset(source: Source, text: str, index: int, line: int, column: int) -> Span:
    """Span of `text[index]`, where `text` starts at (line, column)."""
    before = text[:index]
    newlines = before.count("\n")
    if newlines:
        return Span(source, line + newlines, index - before.rfind("\n"))
    return Span(source, line, column + index)


BUILTIN_TYPES = frozenset(
    {"string", "int", "float", "number", "bool", "list", "map", "any", "bytes"}
)


@v_args(meta=True)
class _ToAst(Transformer[Token, Any]):
    """One method per grammar rule; each builds the node for it and nothing else."""

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source

    def _span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.source, 1, 1)
        return Span(self.source, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok(self, tok: Token) -> Span:
        return Span(self.source, tok.line or 1, tok.column or 1)

    # -- program and declarations
    def start(self, meta: Any, c: list[Any]) -> ast.Program:
        return ast.Program(Span(self.source, 1, 1), tuple(c))

    def use_decl(self, meta: Any, c: list[Any]) -> ast.Use:
        names = None if len(c) == 1 else tuple(str(n) for n in c[1:] if n is not None)
        return ast.Use(self._span(meta), str(c[0]), names)

    def visibility(self, meta: Any, c: list[Token]) -> str:
        return str(c[0])

    def function_decl(self, meta: Any, c: list[Any]) -> ast.FunctionDecl:
        vis, is_async, name, params, _ret, body = c
        return ast.FunctionDecl(
            self._tok(name), str(name), tuple(params or ()), body, is_async is not None, vis == "public"
        )

    def params(self, meta: Any, c: list[ast.Param]) -> list[ast.Param]:
        return c

    lambda_params = params

    def param(self, meta: Any, c: list[Any]) -> ast.Param:
        name, typ, default = c
        checked = typ if typ in BUILTIN_TYPES else None
        return ast.Param(str(name), checked, self._tok(name), default)

    def type(self, meta: Any, c: list[Any]) -> str:
        # Only a bare built-in name is checked at calls (SPEC §2); anything else is accepted.
        if len(c) == 2 and c[1] is None and isinstance(c[0], Token):
            return str(c[0])
        return "?"

    # -- statements
    def let_stmt(self, meta: Any, c: list[Any]) -> ast.Let:
        vis, _mut, name, _typ, value = c
        return ast.Let(self._tok(name), str(name), value, False, vis == "public")

    def let_destructure(self, meta: Any, c: list[Any]) -> ast.LetPattern:
        vis, _mut, pattern, value = c
        return ast.LetPattern(pattern.span, pattern, value, vis == "public")

    def binding_pattern(self, meta: Any, c: list[Any]) -> ast.ListPat:
        return self.list_pattern(meta, c)

    def const_stmt(self, meta: Any, c: list[Any]) -> ast.Let:
        vis, name, _typ, value = c
        return ast.Let(self._tok(name), str(name), value, True, vis == "public")

    def return_stmt(self, meta: Any, c: list[Any]) -> ast.Return:
        return ast.Return(self._span(meta), c[0])

    def break_stmt(self, meta: Any, c: list[Any]) -> ast.Break:
        return ast.Break(self._span(meta))

    def continue_stmt(self, meta: Any, c: list[Any]) -> ast.Continue:
        return ast.Continue(self._span(meta))

    def throw_stmt(self, meta: Any, c: list[Any]) -> ast.Throw:
        return ast.Throw(self._span(meta), c[0])

    def body(self, meta: Any, c: list[Any]) -> ast.Block:
        return ast.Block(self._span(meta), tuple(x for x in c if not isinstance(x, Token)))

    block = body

    # -- expressions
    def lambda1(self, meta: Any, c: list[Any]) -> ast.Lambda:
        name, body = c
        return ast.Lambda(self._span(meta), (ast.Param(str(name), None, self._tok(name)),), body)

    def lambdan(self, meta: Any, c: list[Any]) -> ast.Lambda:
        _lpar, params, body = c
        return ast.Lambda(self._span(meta), tuple(params or ()), body)

    def assign(self, meta: Any, c: list[Any]) -> ast.Assign:
        target, op, value = c
        if not isinstance(target, ast.Var | ast.Field | ast.Index):
            raise FluentSyntaxError(
                f"cannot assign to this expression (left of '{op}')", target.span
            )
        return ast.Assign(self._tok(op), target, str(op), value)

    def pipe(self, meta: Any, c: list[Any]) -> ast.Pipe:
        return ast.Pipe(self._span(meta), c[0], c[1])

    def or_op(self, meta: Any, c: list[Any]) -> ast.Logical:
        return ast.Logical(self._span(meta), "||", c[0], c[1])

    def and_op(self, meta: Any, c: list[Any]) -> ast.Logical:
        return ast.Logical(self._span(meta), "&&", c[0], c[1])

    def binary(self, meta: Any, c: list[Any]) -> ast.Binary:
        left, op, right = c
        return ast.Binary(self._tok(op), str(op), left, right)

    def range(self, meta: Any, c: list[Any]) -> ast.Range:
        start, op, end = c
        return ast.Range(self._tok(op), start, end, str(op) == "..=")

    def unary(self, meta: Any, c: list[Any]) -> ast.Node:
        op, operand = c
        return ast.Unary(self._tok(op), str(op), operand)

    def power(self, meta: Any, c: list[Any]) -> ast.Binary:
        return ast.Binary(self._tok(c[1]), "**", c[0], c[2])

    def method_call(self, meta: Any, c: list[Any]) -> ast.Node:
        receiver, name, args = c
        if name == "await" and not args:
            return ast.Await(self._tok(name), receiver)
        return ast.MethodCall(self._tok(name), receiver, str(name), tuple(args or ()))

    def field(self, meta: Any, c: list[Any]) -> ast.Field:
        return ast.Field(self._tok(c[1]), c[0], str(c[1]))

    def call(self, meta: Any, c: list[Any]) -> ast.Call:
        return ast.Call(self._span(meta), c[0], tuple(c[1] or ()))

    def index(self, meta: Any, c: list[Any]) -> ast.Index:
        return ast.Index(self._span(meta), c[0], c[1])

    def args(self, meta: Any, c: list[Any]) -> list[Any]:
        return c

    def var(self, meta: Any, c: list[Token]) -> ast.Var:
        return ast.Var(self._tok(c[0]), str(c[0]))

    def printable(self, meta: Any, c: list[Any]) -> ast.Printable:
        return ast.Printable(self._span(meta), c[0])

    # -- literals
    def int_lit(self, meta: Any, c: list[Token]) -> ast.Literal:
        return ast.Literal(self._tok(c[0]), int(c[0]))

    def float_lit(self, meta: Any, c: list[Token]) -> ast.Literal:
        return ast.Literal(self._tok(c[0]), float(c[0]))

    def string_lit(self, meta: Any, c: list[Token]) -> ast.Literal:
        tok = c[0]
        text = _unescape(tok[1:-1], self.source, tok.line or 1, (tok.column or 1) + 1)
        return ast.Literal(self._tok(tok), text)

    def triple_string_lit(self, meta: Any, c: list[Token]) -> ast.Literal:
        """A triple-quoted string: as a string, but multi-line by design: a newline right
        after the opening quotes is not part of it."""
        tok = c[0]
        body, line, column = tok[3:-3], tok.line or 1, (tok.column or 1) + 3
        for newline in ("\r\n", "\n"):
            if body.startswith(newline):
                body, line, column = body[len(newline):], line + 1, 1
                break
        return ast.Literal(self._tok(tok), _unescape(body, self.source, line, column))

    def sq_string_lit(self, meta: Any, c: list[Token]) -> ast.Literal:
        # Only reached inside f-string expressions (`_check_quotes` rejects the others).
        return self.string_lit(meta, c)

    def true_lit(self, meta: Any, c: list[Token]) -> ast.Literal:
        return ast.Literal(self._tok(c[0]), True)

    def false_lit(self, meta: Any, c: list[Token]) -> ast.Literal:
        return ast.Literal(self._tok(c[0]), False)

    def nil_lit(self, meta: Any, c: list[Token]) -> ast.Literal:
        return ast.Literal(self._tok(c[0]), None)

    def list_lit(self, meta: Any, c: list[Any]) -> ast.ListLit:
        return ast.ListLit(self._span(meta), tuple(c[0] or ()))

    def map_lit(self, meta: Any, c: list[Any]) -> ast.MapLit:
        return ast.MapLit(self._span(meta), tuple(p for p in c[1:] if p is not None))

    def pair(self, meta: Any, c: list[Any]) -> tuple[str, ast.Node]:
        key = self.string_lit(meta, [c[0]]).value
        return (key, c[1])

    def fstring(self, meta: Any, c: list[Any]) -> ast.FString:
        parts: list[str | ast.Node] = []
        for piece in c[1:-1]:
            if isinstance(piece, Token):
                text = _unescape(piece, self.source, piece.line or 1, piece.column or 1)
                parts.append(text.replace("{{", "{").replace("}}", "}"))
            else:
                parts.append(piece)
        return ast.FString(self._span(meta), tuple(parts))

    def fstring_expr(self, meta: Any, c: list[Any]) -> ast.Node:
        node: ast.Node = c[0]
        spec = c[1]
        if spec is None:
            return node
        return ast.Formatted(self._tok(spec), node, str(spec)[1:])

    # -- compound expressions
    def if_expr(self, meta: Any, c: list[Any]) -> ast.If:
        return ast.If(self._span(meta), c[0], c[1], c[2] if len(c) > 2 else None)

    def loop_expr(self, meta: Any, c: list[Any]) -> ast.Loop:
        return ast.Loop(self._span(meta), c[0])

    def while_expr(self, meta: Any, c: list[Any]) -> ast.While:
        return ast.While(self._span(meta), c[0], c[1])

    def for_expr(self, meta: Any, c: list[Any]) -> ast.For:
        target, iterable, body = c
        if isinstance(target, ast.ListPat):  # for [k, v] in m.entries()
            return ast.For(self._span(meta), "", iterable, body, target)
        return ast.For(self._span(meta), str(target), iterable, body)

    def try_expr(self, meta: Any, c: list[Any]) -> ast.Try:
        body, catch, final = c
        name, handler = catch if catch is not None else (None, None)
        return ast.Try(self._span(meta), body, name, handler, final)

    def catch_clause(self, meta: Any, c: list[Any]) -> tuple[str | None, ast.Block]:
        if len(c) == 2:
            return (str(c[0]), c[1])
        return (None, c[0])

    def perform_expr(self, meta: Any, c: list[Any]) -> ast.Perform:
        effect, op, args = c
        return ast.Perform(self._span(meta), str(effect), str(op), tuple(args or ()))

    def handle_expr(self, meta: Any, c: list[Any]) -> ast.Handle:
        return ast.Handle(self._span(meta), c[0], tuple(x for x in c[1:] if x is not None))

    def handler_clause(self, meta: Any, c: list[Any]) -> ast.HandlerClause:
        effect, op, *names, body = c
        params = tuple(ast.Param(str(n), None, self._tok(n)) for n in names if n is not None)
        return ast.HandlerClause(self._tok(effect), str(effect), str(op), params, body)

    # -- match and patterns
    def match_expr(self, meta: Any, c: list[Any]) -> ast.Match:
        arms = tuple(x for x in c[1:] if not isinstance(x, Token))
        return ast.Match(self._span(meta), c[0], arms)

    def match_arm(self, meta: Any, c: list[Any]) -> ast.MatchArm:
        return ast.MatchArm(c[0].span, c[0], c[1], c[2])

    def alt_pattern(self, meta: Any, c: list[Any]) -> ast.AltPat:
        return ast.AltPat(self._span(meta), tuple(c))

    def wildcard(self, meta: Any, c: list[Any]) -> ast.WildcardPat:
        return ast.WildcardPat(self._span(meta))

    def bind_pattern(self, meta: Any, c: list[Token]) -> ast.BindPat:
        return ast.BindPat(self._tok(c[0]), str(c[0]))

    def literal_pattern(self, meta: Any, c: list[ast.Literal]) -> ast.LiteralPat:
        return ast.LiteralPat(c[0].span, c[0].value)

    def negative_pattern(self, meta: Any, c: list[Token]) -> ast.LiteralPat:
        num = c[1]
        value = -(float(num) if num.type == "FLOAT" else int(num))
        return ast.LiteralPat(self._tok(c[0]), value)

    def range_pattern(self, meta: Any, c: list[Any]) -> ast.RangePat:
        start, op, end = c
        return ast.RangePat(self._span(meta), start, end, str(op) == "..=")

    def pattern_number(self, meta: Any, c: list[Any]) -> int | float:
        sign, num = c
        value = float(num) if num.type == "FLOAT" else int(num)
        return -value if sign is not None else value

    def list_pattern(self, meta: Any, c: list[Any]) -> ast.ListPat:
        items: list[ast.Node] = []
        rest: str | None = None
        has_rest = False
        for item in c[0] or ():
            if isinstance(item, tuple):
                if has_rest:
                    raise FluentSyntaxError("a list pattern can have only one '...'", self._span(meta))
                has_rest, rest = True, item[0]
            elif has_rest:
                raise FluentSyntaxError("'...' must be the last item of a list pattern", item.span)
            else:
                items.append(item)
        return ast.ListPat(self._span(meta), tuple(items), rest, has_rest)

    def pattern_items(self, meta: Any, c: list[Any]) -> list[Any]:
        return c

    def rest_pattern(self, meta: Any, c: list[Any]) -> tuple[str]:
        return (str(c[0]) if c else "_",)

    def map_pattern(self, meta: Any, c: list[Any]) -> ast.MapPat:
        return ast.MapPat(self._span(meta), tuple(p for p in c[1:] if p is not None))

    def pattern_pair(self, meta: Any, c: list[Any]) -> tuple[str, ast.Node]:
        key = self.string_lit(meta, [c[0]]).value
        return (key, c[1])

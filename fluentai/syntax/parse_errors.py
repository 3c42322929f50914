"""Lark's parse errors rephrased in the user's terms: "expected an expression after '='",
"unclosed '{' opened at 3:5", habits from other languages (`===`, `i++`), stray characters.

`syntax_error` turns a Lark `UnexpectedInput` into a `FluentSyntaxError` with a span. It
reads the parser's value stack (which brackets are open) and replays candidate tokens on a
copy of the parser to list only what could really come next.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .errors import FluentSyntaxError
from .grammar import lark_parser
from .source import Source, Span

# Lark reports what it could not parse in its own terms (terminal names such as RBRACE or
# __ANON_2, and the set of terminals its tables expected). Everything below turns that into
# one short message in the user's terms, at the line and column of the offending token.

_OPENERS = {"LBRACE": "{", "MAP_LBRACE": "{", "LPAR": "(", "LAMBDA_LPAR": "(", "LSQB": "[",
            "FSTRING_START": 'f"'}
_CLOSERS = {"RBRACE": "{", "RPAR": "(", "RSQB": "[", "FSTRING_END": 'f"'}
_CLOSER_OF = {"{": "}", "(": ")", "[": "]", 'f"': '"'}
_CLOSER_TYPE = {"{": "RBRACE", "(": "RPAR", "[": "RSQB", 'f"': "FSTRING_END"}

_TERMINAL_NAMES = {
    "NAME": "a name",
    "INT": "a number",
    "FLOAT": "a number",
    "STRING": "a string",
    "FSTRING_TEXT": "f-string text",
    "FSTRING_START": "an f-string",
    "FSTRING_END": "'\"'",
    "MAP_LBRACE": "'{'",
    "LAMBDA_LPAR": "'('",
    "ASSIGN_OP": "'='",
    "EQ_OP": "'=='",
    "CMP_OP": "a comparison",
    "RANGE_OP": "'..'",
    "MUL_OP": "'*'",
    "COMMENT": "a comment",
    "BLOCK_COMMENT": "a comment",
    "WS": "white space",
    "$END": "end of input",
}

# The first token the user actually wrote where the error-reporting lexer matched its
# catch-all FSTRING_TEXT pattern.
_WORD_RE = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?|==|!=|<=|>=|=>|::|\|\||&&|\|>|\.\.\.|\.\.=?"
    r"|[-+*/%=!<>.,:;(){}\[\]$?|&]"
)
# Tokens that continue or end an expression: a state expecting none of them (closers aside:
# a trailing comma or an empty list may end there) needs an operand.
_CONTINUATIONS = {"PLUS", "MUL_OP", "$END", "SEMICOLON", "DOT", "EQ_OP", "FSTRING_TEXT",
                  "COMMA"}
# Keywords that only ever start a statement: seen where a closing bracket is expected, the
# bracket was left open.
_STATEMENT_KEYWORDS = {"LET", "CONST", "FUNCTION", "RETURN", "USE", "BREAK", "CONTINUE",
                       "THROW", "PUBLIC", "PRIVATE", "ASYNC"}
_WORD_TYPES = {")": "RPAR", "]": "RSQB", "}": "RBRACE"}
# Other languages' spellings that reach the parser as names.
_WORD_OPERATORS = {"and": "&&", "or": "||", "not": "!"}


def syntax_error(source: Source, e: UnexpectedInput) -> FluentSyntaxError:
    comment = _unterminated_comment(source.text)
    if comment is not None:
        return FluentSyntaxError("unterminated comment: '/*' is never closed by '*/'",
                                 Span(source, *comment))
    if isinstance(e, UnexpectedCharacters):
        pos = e.pos_in_stream or 0
        ch = source.text[pos] if pos < len(source.text) else ""
        span = Span(source, e.line, e.column)
        if ch == '"':
            return _unterminated_string(source, pos, span)
        if ch == "\\":
            return FluentSyntaxError("unexpected '\\' (escapes belong inside strings)", span)
        return FluentSyntaxError(_unexpected_character(ch), span)
    if isinstance(e, UnexpectedToken):
        return _unexpected_token(source, e)
    if isinstance(e, UnexpectedEOF):
        return FluentSyntaxError("unexpected end of input", _end_span(source))
    return FluentSyntaxError("invalid syntax", Span(source, 1, 1))


def _unexpected_token(source: Source, e: UnexpectedToken) -> FluentSyntaxError:
    tok: Token = e.token
    stack = _value_stack(e)
    expected = _accepts(e)
    opener = _unclosed(stack)
    prev = _last_token(stack)
    if tok.type == "$END":
        if opener is not None:
            if opener.type == "FSTRING_START":
                return FluentSyntaxError("unterminated f-string", _tok_span(source, opener))
            if opener.type == "LBRACE":
                guess = missing_brace(source)
                if guess is not None:
                    return guess
            return FluentSyntaxError(
                f"unclosed '{_OPENERS[opener.type]}' opened at {_at(opener)}", _end_span(source)
            )
        span = _end_span(source)
    else:
        span = _tok_span(source, tok)

    if tok.type == "FSTRING_TEXT" and tok.type not in expected:
        # Outside an f-string only the error-reporting lexer offers this catch-all pattern:
        # find the token the user actually wrote there.
        text = str(tok)
        word = _WORD_RE.match(text)
        if word is None:
            if text[0] == '\\':
                return FluentSyntaxError("unexpected '\\' (escapes belong inside strings)", span)
            return FluentSyntaxError(_unexpected_character(text[0]), span)
        kind = _WORD_TYPES.get(word.group(0), "INT" if word.group(0)[0].isdigit() else "WORD")
        tok = Token(kind, word.group(0), start_pos=tok.start_pos, line=tok.line,
                    column=tok.column, end_pos=(tok.start_pos or 0) + len(word.group(0)))
    if tok.type == "FSTRING_END" and tok.type not in expected:
        if opener is not None and opener.type == "LBRACE" and _inside_fstring(stack):
            return FluentSyntaxError("expected '}' to end the f-string expression", span)
        return _unterminated_string(source, tok.start_pos or 0, span)

    special = _special_case(source, tok, prev, stack, expected, opener)
    if special is not None:
        return special

    found = _describe_token(tok)
    if "UNDERSCORE" in expected and "INT" in expected:
        after = f" after '{prev}'" if prev is not None else ""
        return FluentSyntaxError(f"expected a pattern{after}, found {found}", span)
    if "INT" in expected and not expected & _CONTINUATIONS:
        after = f" after '{prev}'" if prev is not None else ""
        return FluentSyntaxError(f"expected an expression{after}, found {found}", span)

    if tok.type in _CLOSERS:
        open_all = _open_brackets(stack)
        if not open_all:
            return FluentSyntaxError(f"unmatched {found}", span)
        inner = open_all[-1]
        kind = _OPENERS[inner.type]
        if inner.type == "FSTRING_START" and tok.type == "RBRACE":
            return FluentSyntaxError(
                "single '}' in an f-string: write '}}' for a literal brace", span
            )
        if _CLOSERS[tok.type] != kind:
            what = "f-string" if kind == 'f"' else f"'{kind}'"
            return FluentSyntaxError(
                f"expected '{_CLOSER_OF[kind]}' to close the {what} opened at {_at(inner)}, "
                f"found {found}",
                span,
            )

    if opener is not None:
        # LALR merges lookaheads of shared rules (call and list arguments): keep only the
        # closer that matches the innermost open bracket.
        mine = _CLOSER_TYPE[_OPENERS[opener.type]]
        expected = {t for t in expected if t not in _CLOSERS or t == mine}
        if (mine in expected and tok.type in _STATEMENT_KEYWORDS
                and (tok.line or 0) > (opener.line or 0)):
            kind = _OPENERS[opener.type]
            return FluentSyntaxError(
                f"expected '{_CLOSER_OF[kind]}' to close the '{kind}' opened at {_at(opener)}, "
                f"found {found}",
                span,
            )

    hint = _runaway_string_hint(source, tok)
    if len(expected) > 4 and "RANGE_OP" in expected:
        # After a number a range could follow (`1..10` in a pattern); rarely what is missing.
        expected = expected - {"RANGE_OP"}
    shown = sorted({_describe_terminal(t) for t in expected})
    if 0 < len(shown) <= 4:
        options = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
        message = f"expected {options}, found {found}"
        if hint:
            return FluentSyntaxError(f"{message} {hint}", span)
        if (opener is not None and _CLOSER_TYPE[_OPENERS[opener.type]] in expected
                and _first_on_line(source, tok) and (tok.line or 0) > (opener.line or 0)):
            kind = _OPENERS[opener.type]
            message += (f"; is a '{_CLOSER_OF[kind]}' missing for the '{kind}' opened at "
                        f"{_at(opener)}?")
        return FluentSyntaxError(message, span)
    if hint:
        return FluentSyntaxError(f"unexpected {found} {hint}", span)
    if (opener is not None and opener.type != "FSTRING_START" and _first_on_line(source, tok)
            and (tok.line or 0) > (opener.line or 0)):
        kind = _OPENERS[opener.type]
        return FluentSyntaxError(
            f"unexpected {found}; is a '{_CLOSER_OF[kind]}' missing for the '{kind}' opened at "
            f"{_at(opener)}?",
            span,
        )
    return FluentSyntaxError(f"unexpected {found}", span)


def _special_case(source: Source, tok: Token, prev: Token | None, stack: list[Any],
                  expected: set[str], opener: Token | None) -> FluentSyntaxError | None:
    """Mistakes common enough to deserve their own message (mostly other languages' habits)."""
    text = str(tok)
    span = _tok_span(source, tok)
    leaf = _previous_leaf(stack)
    prev_text = str(prev) if prev is not None else None
    prev_span = _tok_span(source, prev) if prev is not None else span
    adjacent = prev is not None and prev.end_pos is not None and prev.end_pos == tok.start_pos
    if text == "=" and prev_text in ("==", "!=") and adjacent:
        return FluentSyntaxError(f"'{prev_text}=' is not an operator; use '{prev_text}'", prev_span)
    if text in ("+", "-") and prev_text == text and adjacent:
        return FluentSyntaxError(f"'{text * 2}' is not an operator; use '{text}= 1'", prev_span)
    if (prev is not None and prev_text == "-" and len(stack) >= 2 and isinstance(stack[-2], Token)
            and str(stack[-2]) == "-" and stack[-2].end_pos == prev.start_pos
            and "INT" in expected):
        # `i--` reads as `i - -…` and fails at whatever follows.
        return FluentSyntaxError("'--' is not an operator; use '-= 1'", _tok_span(source, stack[-2]))
    if text == "+" and source.text.startswith("++", tok.start_pos or 0):
        return FluentSyntaxError("'++' is not an operator; use '+= 1'", span)
    if text == "*" and source.text.startswith("*/", tok.start_pos or 0):
        return FluentSyntaxError("unexpected '*/' (block comments do not nest)", span)
    if text == "/" and prev_text == "*" and adjacent:
        return FluentSyntaxError("unexpected '*/' (block comments do not nest)", prev_span)
    if tok.type in expected:
        return None
    if text in ("&", "|") and not adjacent:
        return FluentSyntaxError(f"unexpected '{text}'; did you mean '{text * 2}'?", span)
    if text == "?":
        return FluentSyntaxError(
            "unexpected '?': there is no '? :' operator; write 'if c { a } else { b }'", span
        )
    if text == "=>" and leaf is not None and leaf.type == "STRING":
        return FluentSyntaxError("unexpected '=>'; map entries are written \"key\": value",
                                 span)
    if (text.strip() == ":" and prev is not None and prev.type == "NAME" and opener is not None
            and opener.type == "LBRACE"):
        return FluentSyntaxError(
            f"unexpected ':'; map keys are strings: write \"{prev}\": value", span
        )
    if (text.strip() == ":" and opener is not None and opener.type == "LBRACE"
            and opener.line == tok.line and opener.end_pos is not None):
        # `{1: "a"}`, `{true: 1}`, `{k + 1: v}`: a `{` followed by a key that is not a
        # string literal opens a block, and the `:` is where that shows.
        key = source.text[opener.end_pos:tok.start_pos].strip()
        if _LITERAL_KEY.fullmatch(key):
            return FluentSyntaxError(
                f"unexpected ':'; map keys are strings: write \"{key}\": value", span)
        return FluentSyntaxError(
            "unexpected ':'; map keys are string literals (\"key\": value): for a computed "
            "key, start from a map and set m[key] = value", span)
    if (opener is not None and opener.type == "MAP_LBRACE" and "STRING" in expected
            and tok.type in ("NAME", "INT", "FLOAT", "WORD", "TRUE", "FALSE")
            and source.text[tok.end_pos or 0:].lstrip().startswith(":")):
        # `{"a": 1, b: 2}`: a later key that is not a string.
        return FluentSyntaxError(
            f"expected a string key, found {_describe_token(tok)}; map keys are strings: "
            f"write \"{text}\": value", span)
    if text == ":" and "LBRACE" in expected and not expected & {"SEMICOLON", "$END"}:
        return FluentSyntaxError("expected '{', found ':' (blocks are written in braces)", span)
    if tok.type in ("NAME", "WORD") and text in _WORD_OPERATORS:
        return FluentSyntaxError(
            f"unexpected '{text}'; use '{_WORD_OPERATORS[text]}' for '{text}'", span
        )
    if leaf is not None and leaf.type == "NAME" and str(leaf) in _WORD_OPERATORS:
        word = str(leaf)
        return FluentSyntaxError(
            f"unexpected '{word}'; use '{_WORD_OPERATORS[word]}' for '{word}'",
            _tok_span(source, leaf),
        )
    if prev is not None and prev.type == "FOR" and text == "(":
        return FluentSyntaxError(
            "expected a name after 'for', found '('; loops are written 'for x in xs { … }'",
            span,
        )
    if (text == "(" and prev is not None and prev.type == "NAME" and len(stack) >= 2
            and isinstance(stack[-2], Token) and stack[-2].type == "PERFORM"):
        return FluentSyntaxError(
            "expected '.', found '('; an effect is performed as 'perform Effect.op(args)'",
            span,
        )
    return None


_LITERAL_KEY = re.compile(r"-?[0-9][0-9_]*(\.[0-9]+)?|true|false|nil|null|[A-Za-z_][A-Za-z0-9_]*")
TAB_WIDTH = 4


def missing_brace(source: Source) -> FluentSyntaxError | None:
    """Where a '}' is probably missing, going by the indentation, when the parser only
    knows that a '{' is still open at the end of the file (it matched every later '}' one
    level out). A block opener ending its line whose body is indented deeper is expected
    to close on the first later line back at its own indentation; the first opener for
    which that line is not a '}' at that indentation lacks its '}'. The error points at
    that line, with a note at the '{'. None when the indentation tells nothing."""
    text = source.text
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    for pos in _openers(text):
        line_no = text.count("\n", 0, pos) + 1
        rest = lines[line_no - 1][pos - starts[line_no - 1] + 1:]
        if rest.strip() and not rest.strip().startswith("//"):
            continue  # `{ … }` on one line, or code after the '{': not a block layout
        own = _indent(lines[line_no - 1])
        body = _next_code_line(lines, line_no)
        if body is None or _indent(lines[body - 1]) <= own:
            continue  # an empty or unindented body says nothing
        back = next((n for n in range(body + 1, len(lines) + 1)
                     if _is_code(lines[n - 1]) and _indent(lines[n - 1]) <= own), None)
        if back is None:
            continue  # still indented at the end of the file
        closing = lines[back - 1].strip().startswith("}") and _indent(lines[back - 1]) == own
        if closing:
            continue
        opened = Span(source, line_no, pos - starts[line_no - 1] + 1)
        where = Span(source, back, len(lines[back - 1]) - len(lines[back - 1].lstrip()) + 1)
        error = FluentSyntaxError(
            f"unclosed '{{' opened at {opened.line}:{opened.column}: going by the "
            f"indentation, its '}}' is missing before line {back}", where)
        error.notes.append(("the unclosed '{' is here", opened))
        return error
    return None


def _openers(text: str) -> list[int]:
    """Offsets of every '{' outside strings, f-strings and comments (f-string braces are
    expressions, not blocks)."""
    return [i for kind, i, _ in _pieces(text, len(text)) if kind == "{"]


def _indent(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += TAB_WIDTH - width % TAB_WIDTH
        else:
            break
    return width


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(("//", "/*", "*"))


def _next_code_line(lines: list[str], after: int) -> int | None:
    return next((n for n in range(after + 1, len(lines) + 1) if _is_code(lines[n - 1])), None)


def _accepts(e: UnexpectedToken) -> set[str]:
    """The terminals the parser could really have taken where the error is. Lark's own
    `e.expected` is the lookahead set of an LALR state, which can include tokens that a
    later reduction rejects (and miss keywords the contextual lexer did not try)."""
    ip = getattr(e, "interactive_parser", None)
    fallback = set(e.expected or ())
    if ip is None:
        return fallback
    accepted: set[str] = set()
    try:
        for name in ip.choices():
            if not name.isupper() and name != "$END":
                continue
            trial = ip.copy(deepcopy_values=False)
            try:
                trial.feed_token(Token(name, ""))
            except UnexpectedInput:
                continue
            accepted.add(name)
    except Exception:  # the error path must never fail: fall back to Lark's set
        return fallback
    return (accepted or fallback) - _NEVER_SUGGESTED


# Optional words that are never what is missing (`let mut x`: a name is what `let` lacks).
_NEVER_SUGGESTED = frozenset({"MUT"})


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[name]
    try:
        pattern = lark_parser().get_terminal(name).pattern
    except KeyError:
        return "a token"
    if pattern.type == "str":
        return f"'{pattern.value}'"
    return "a token"


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of input"
    text = str(tok)
    if tok.type == "STRING":
        return "a string"
    if tok.type == "FSTRING_START":
        return "an f-string"
    if tok.type in ("INT", "FLOAT"):
        return f"number {text}"
    if len(text) > 20:
        text = text[:17] + "..."
    return f"'{text}'"


def _unexpected_character(ch: str) -> str:
    import unicodedata

    if not ch:
        return "unexpected end of input"
    code = f"U+{ord(ch):04X}"
    if ch == "#":
        return "unexpected character '#' (comments start with '//')"
    if ch in "'`":
        return f"unexpected character {ch!r} (strings are written in double quotes: \"...\")"
    if ch in "\u201c\u201d\u2018\u2019\u00ab\u00bb":
        return f"unexpected character '{ch}' (strings are written in plain double quotes: \"...\")"
    category = unicodedata.category(ch)
    if category.startswith("C") or category.startswith("Z"):
        name = unicodedata.name(ch, "").lower()
        described = f"{code} ({name})" if name else code
        kind = "control character" if category == "Cc" else "invisible character"
        return f"unexpected {kind} {described}"
    if category.startswith("L") or category.startswith("N") or ch == "_":
        return (f"unexpected character '{ch}' ({code}): names may use only ASCII letters, "
                f"digits and '_'")
    return f"unexpected character '{ch}'"


TRIPLE = '"' * 3


def _unterminated_string(source: Source, pos: int, span: Span) -> FluentSyntaxError:
    if source.text[max(pos - 2, 0):pos + 1] == '"' * 3:
        # The lexer read `""` as an empty string, then failed on the third quote.
        opener = Span(source, span.line, span.column - 2)
        return FluentSyntaxError(f"unterminated triple-quoted string: its '{TRIPLE}' is never "
                                 f"closed by another '{TRIPLE}'", opener)
    probe = Token("STRING", '"', start_pos=pos, line=span.line, column=span.column)
    hint = _runaway_string_hint(source, probe)
    return FluentSyntaxError("unterminated string" + (f" {hint}" if hint else ""), span)


def _runaway_string_hint(source: Source, tok: Token) -> str | None:
    """When the error sits on the line where a multi-line string literal ends, that string
    probably lacks its closing quote and swallowed the code up to the next '"'."""
    pos = tok.start_pos
    if pos is None or tok.type == "$END":
        return None
    literals = _string_literals(source.text, pos)
    for start, end in reversed(literals):
        if end is None or end > pos:
            continue
        body = source.text[start:end]
        if "\n" not in body:
            return None
        end_line = source.text.count("\n", 0, end) + 1
        if end_line != tok.line:
            return None
        line = source.text.count("\n", 0, start) + 1
        col = start - (source.text.rfind("\n", 0, start) + 1) + 1
        what = "f-string" if body.startswith("f") else "string"
        return f"(is the closing '\"' of the {what} opened at {line}:{col} missing?)"
    return None


def _string_literals(text: str, stop: int) -> list[tuple[int, int | None]]:
    """(start, end) of every string and f-string literal that starts before `stop`, outside
    comments; `end` is None for one that never ends."""
    return [(i, end) for kind, i, end in _pieces(text, stop) if kind == "string"]


def _pieces(text: str, stop: int) -> Iterator[tuple[str, int, int | None]]:
    """A light scan of `text` up to `stop` that knows comments and (f-)strings: each string
    or f-string as ("string", start, end or None when it never ends), and each '{' of code
    as ("{", offset, offset + 1)."""
    i, n = 0, len(text)
    while i < min(stop, n):
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif text.startswith('f"', i) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            after = _skip_fstring(text, i + 2)
            yield "string", i, after
            i = n if after is None else after
        elif text[i] == '"':
            after = _skip_string(text, i + 1)
            yield "string", i, after
            i = n if after is None else after
        else:
            if text[i] == "{":
                yield "{", i, i + 1
            i += 1


def _skip_string(text: str, i: int) -> int | None:
    n = len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        else:
            i += 1
    return None


def _skip_fstring(text: str, i: int) -> int | None:
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" or text.startswith("{{", i) or text.startswith("}}", i):
            i += 2
        elif ch == "{":
            after = _skip_code(text, i + 1)
            if after is None:
                return None
            i = after
        elif ch == '"':
            return i + 1
        else:
            i += 1
    return None


def _skip_code(text: str, i: int) -> int | None:
    """Past the '}' that ends an f-string expression starting at `i`."""
    n, depth = len(text), 0
    while i < n:
        ch = text[i]
        if ch == '"':
            fstring = i > 0 and text[i - 1] == "f"
            after = _skip_fstring(text, i + 1) if fstring else _skip_string(text, i + 1)
            if after is None:
                return None
            i = after
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i + 1
            depth -= 1
        i += 1
    return None


def _value_stack(e: UnexpectedToken) -> list[Any]:
    ip = getattr(e, "interactive_parser", None)
    if ip is None:
        return []
    return list(ip.parser_state.value_stack)


def _inside_fstring(stack: list[Any]) -> bool:
    return any(isinstance(t, Token) and t.type == "FSTRING_START" for t in stack)


def _open_brackets(stack: list[Any]) -> list[Token]:
    """The brackets still open on the parser's stack, outermost first."""
    open_: list[Token] = []
    for tok in stack:
        if not isinstance(tok, Token):
            continue
        if tok.type in _OPENERS:
            open_.append(tok)
        elif tok.type in _CLOSERS and open_:
            open_.pop()
    return open_


def _unclosed(stack: list[Any]) -> Token | None:
    open_ = _open_brackets(stack)
    return open_[-1] if open_ else None


def _last_token(stack: list[Any]) -> Token | None:
    if stack and isinstance(stack[-1], Token):
        return stack[-1]
    return None


def _previous_leaf(stack: list[Any]) -> Token | None:
    """The last token the parser kept before the error, also inside a reduced subtree (for
    example the string of `"a" =>`, already reduced to a literal)."""
    node: Any = stack[-1] if stack else None
    while not isinstance(node, Token) and hasattr(node, "children"):
        children = [c for c in node.children if c is not None]
        node = children[-1] if children else None
    return node if isinstance(node, Token) else None


def _at(tok: Token) -> str:
    return f"{tok.line or 1}:{tok.column or 1}"


def _tok_span(source: Source, tok: Token) -> Span:
    return Span(source, tok.line or 1, tok.column or 1)


def _first_on_line(source: Source, tok: Token) -> bool:
    pos = tok.start_pos or 0
    start = source.text.rfind("\n", 0, pos) + 1
    return not source.text[start:pos].strip()


def _end_span(source: Source) -> Span:
    text = source.text.rstrip()
    if not text:
        return Span(source, 1, 1)
    line = text.count("\n") + 1
    col = len(text) - (text.rfind("\n") + 1) + 1
    return Span(source, line, col)


def _unterminated_comment(text: str) -> tuple[int, int] | None:
    """Where a `/*` opens that no `*/` closes (outside strings and line comments), if any:
    the lexer alone would see a `/` and a `*` there."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                line = text.count("\n", 0, i) + 1
                return line, i - (text.rfind("\n", 0, i) + 1) + 1
            i = end + 2
        else:
            i += 1
    return None

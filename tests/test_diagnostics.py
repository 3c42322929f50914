"""Diagnostics: what a user sees for a broken program (SPEC §1, §8).

Syntax errors must point at the offending token (1-based line and column) and be phrased in
the user's terms, never in the parser's (no terminal names such as RBRACE, __ANON_2, LPAR or
$END). Also `render_diagnostic`: the source line, the caret under the column, and the folded
traceback of FluentAI calls.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fluentai.interpreter import Interpreter
from fluentai.interpreter.host import new_module
from fluentai.syntax.errors import (
    MAX_LINE_SHOWN,
    MAX_TRACE_SHOWN,
    FluentError,
    FluentSyntaxError,
    render_diagnostic,
)
from fluentai.syntax.parser import parse
from fluentai.syntax.source import Source, Span


def syntax_error(text: str) -> FluentSyntaxError:
    """The error `parse` raises for `text` (the test fails if it parses)."""
    with pytest.raises(FluentSyntaxError) as info:
        parse(Source("prog.flc", text))
    return info.value


def compile_error(text: str) -> FluentError:
    """The error raised before running: by the parser or by the compiler."""
    with pytest.raises(FluentError) as info:
        Interpreter().compile(Source("prog.flc", text), new_module("__main__", None), None)
    return info.value


def where(error: FluentError) -> tuple[int, int]:
    assert error.span is not None, f"no position for {error.message!r}"
    return (error.span.line, error.span.column)


# (description, program, line, column, exact message)
SYNTAX_CASES: list[tuple[str, str, int, int, str]] = [
    # ---- brackets left open at the end of the file
    ("missing } at end of file",
     "function f() {\n  let x = 1\n", 2, 12, "unclosed '{' opened at 1:14"),
    ("missing ) at end of file",
     "print(1 + 2\n", 1, 12, "unclosed '(' opened at 1:6"),
    ("missing ] at end of file",
     "let xs = [1, 2, 3\n", 1, 18, "unclosed '[' opened at 1:10"),
    ("missing } of an inner block at end of file",
     "function f() {\n  if x {\n    1\n  \n}\n", 5, 1,
     "unclosed '{' opened at 2:8: going by the indentation, its '}' is missing before line 5"),
    ("missing ] of an index at end of file",
     "xs[1", 1, 5, "unclosed '[' opened at 1:3"),
    ("unclosed f-string expression at end of file",
     'print(f"{x")', 1, 11, "expected '}' to end the f-string expression"),
    # ---- brackets left open in the middle of the file
    ("missing ] before the next statement",
     "let xs = [1, 2, 3\nlet y = 2\n", 2, 1,
     "expected ']' to close the '[' opened at 1:10, found 'let'"),
    ("missing ) before the next statement",
     "let a = f(1, 2\nlet b = 3\n", 2, 1,
     "expected ')' to close the '(' opened at 1:10, found 'let'"),
    ("missing ) before an expression statement",
     "print((1 + 2)\nprint(3)\n", 2, 1,
     "expected ')' or ',', found 'print'; is a ')' missing for the '(' opened at 1:6?"),
    ("missing } of a function swallows the next one",
     "function f() {\n  let x = 1\n\nfunction g() {\n}\n", 4, 1,
     "unclosed '{' opened at 1:14: going by the indentation, its '}' is missing before line 4"),
    ("missing } with nothing indented to tell", "function f() {\nlet x = 1\n\nfunction g() {\n}\n",
     5, 2, "unclosed '{' opened at 1:14"),
    ("map with a number as key", 'let m = {1: "a"}\n', 1, 11,
     "unexpected ':'; map keys are strings: write \"1\": value"),
    ("map with a computed key", 'let m = {k + 1: "a"}\n', 1, 15,
     "unexpected ':'; map keys are string literals (\"key\": value): for a computed key, "
     "start from a map and set m[key] = value"),
    ("map with a name as a later key", 'let m = {"a": 1, b: 2}\n', 1, 18,
     "expected a string key, found 'b'; map keys are strings: write \"b\": value"),
    ("wrong closer for (",
     "print(1]\n", 1, 8, "expected ')' to close the '(' opened at 1:6, found ']'"),
    ("wrong closer for [",
     "let xs = [1, 2)\n", 1, 15, "expected ']' to close the '[' opened at 1:10, found ')'"),
    ("wrong closer for {",
     "function f() {\n  1 )\n", 2, 5, "expected '}' to close the '{' opened at 1:14, found ')'"),
    # ---- stray closers
    ("stray )", "let x = 1)\n", 1, 10, "unmatched ')'"),
    ("stray }", "let x = 1\n}\n", 2, 1, "unmatched '}'"),
    ("stray } after a function", "function f() {\n  1\n}\n}\n", 4, 1, "unmatched '}'"),
    ("stray ) at the start", ")\n", 1, 1, "unmatched ')'"),
    # ---- missing operands
    ("nothing after = at the end of a block", "function f() {\n  let x =\n}\n", 3, 1,
     "expected an expression after '=', found '}'"),
    ("nothing after = at end of file", "let x =", 1, 8,
     "expected an expression after '=', found end of input"),
    ("; after =", "let total = ;\n", 1, 13, "expected an expression after '=', found ';'"),
    ("nothing after += ", "count += ;\n", 1, 10, "expected an expression after '+=', found ';'"),
    ("nothing after + at end of line in a block",
     "function f() {\n\tlet x = 1 +\n}\n", 3, 1, "expected an expression after '+', found '}'"),
    ("nothing after unary !", "let x = !;\n", 1, 10, "expected an expression after '!', found ';'"),
    ("nothing after =>", "let f = x =>\n", 1, 13,
     "expected an expression after '=>', found end of input"),
    ("two operators", "let x = 1 + * 2\n", 1, 13, "expected an expression after '+', found '*'"),
    ("empty parentheses", "let x = ()\n", 1, 10, "expected an expression after '(', found ')'"),
    ("empty index", "xs[]\n", 1, 4, "expected an expression after '[', found ']'"),
    ("double comma", "f(1,,2)\n", 1, 5, "expected an expression after ',', found ','"),
    ("leading comma", "f(,1)\n", 1, 3, "expected an expression after '(', found ','"),
    ("empty f-string expression", 'let a = f"abc {}"\n', 1, 16,
     "expected an expression after '{', found '}'"),
    ("missing operand inside an f-string", 'let s = f"abc {x +}"\n', 1, 19,
     "expected an expression after '+', found '}'"),
    ("missing map value", 'let m = {"a": }\n', 1, 15,
     "expected an expression after ':', found '}'"),
    # ---- declarations
    ("let without a name", "let = 5;\n", 1, 5, "expected '[' or a name, found '='"),
    ("let with a number as name", "let 5 = 5;\n", 1, 5,
     "expected '[' or a name, found number 5"),
    ("let without a value", "let x;\n", 1, 6, "expected ':' or '=', found ';'"),
    ("function without a name", "function (a) { a }\n", 1, 10, "expected a name, found '('"),
    ("function without parameter list", "function f { 1 }\n", 1, 12,
     "expected '(', found '{'"),
    ("function body without {", "function f()\n  return 1\n}\n", 2, 3,
     "expected '->' or '{', found 'return'"),
    ("number as parameter", "function f(1) { 1 }\n", 1, 12,
     "expected ')' or a name, found number 1"),
    ("missing ) of a parameter list", "function f(a, b { }\n", 1, 17,
     "expected ')', ',', ':' or '=', found '{'"),
    ("async without function", "async let x = 1\n", 1, 7, "expected 'function', found 'let'"),
    # ---- strings and comments
    ("unterminated string", 'let s = "abc\n', 1, 9, "unterminated string"),
    ("unterminated string before a call's )", 'print("abc)\n', 1, 7, "unterminated string"),
    ("unterminated f-string", 'let s = f"abc {x}\n', 1, 9, "unterminated f-string"),
    ("string missing its closing quote swallows the next line",
     'print("abc)\nprint("x")\n', 2, 8,
     "expected ')' or ',', found 'x' (is the closing '\"' of the string opened at 1:7 missing?)"),
    ("string missing its closing quote ends at a later quote",
     'let a = "abc\nlet b = "def"\nprint(b)\n', 2, 13,
     "unterminated string (is the closing '\"' of the string opened at 1:9 missing?)"),
    ("f-string missing its closing quote",
     'let a = f"abc {x}\nlet b = "def"\n', 2, 13,
     "unterminated string (is the closing '\"' of the f-string opened at 1:9 missing?)"),
    ("single } in an f-string", 'let a = f"abc }"\n', 1, 15,
     "single '}' in an f-string: write '}}' for a literal brace"),
    ("unterminated block comment", "let x = 1\n/* note\nlet y = 2\n", 2, 1,
     "unterminated comment: '/*' is never closed by '*/'"),
    ("nested block comment", "/* a /* b */ c */\nlet x = 1\n", 1, 16,
     "unexpected '*/' (block comments do not nest)"),
    ("bad escape", 'let s = "a\\qb"\n', 1, 11, "unknown escape sequence '\\q'"),
    ("bad escape on the second line of a string", 'let s = "a\n  \\qb"\n', 2, 3,
     "unknown escape sequence '\\q'"),
    ("bad escape in an f-string", 'let s = f"a\\qb"\n', 1, 12, "unknown escape sequence '\\q'"),
    ("unicode escape out of range", 'let s = "a\\u{110000}"\n', 1, 11,
     "invalid unicode escape '\\u{110000}'"),
    ("single-quoted string", "let s = 'abc'\n", 1, 9,
     "unexpected character \"'\" (strings are written in double quotes: \"...\"; single "
     "quotes only inside an f-string's {…})"),
    ("backquoted string", "let s = `abc`\n", 1, 9,
     "unexpected character '`' (strings are written in double quotes: \"...\")"),
    ("typographic quotes", "let s = \u201chello\u201d\n", 1, 9,
     "unexpected character '\u201c' (strings are written in plain double quotes: \"...\")"),
    ("backslash outside a string", "let s = \\n\n", 1, 9,
     "unexpected '\\' (escapes belong inside strings)"),
    # ---- unknown characters
    ("@", "let x = 1\nlet y = x @ 2\n", 2, 11, "unexpected character '@'"),
    ("# comment", "# a comment\nlet x = 1\n", 1, 1,
     "unexpected character '#' (comments start with '//')"),
    ("non-ASCII identifier", "let x = 1\nlet caf\u00e9 = 2\n", 2, 8,
     "unexpected character '\u00e9' (U+00E9): names may use only ASCII letters, digits and '_'"),
    ("Greek identifier", "let \u03c0 = 3.14\n", 1, 5,
     "unexpected character '\u03c0' (U+03C0): names may use only ASCII letters, digits and '_'"),
    ("NUL byte", "let a = 1\x00\n", 1, 10, "unexpected control character U+0000"),
    ("zero-width space", "let a\u200b = 1\n", 1, 6,
     "unexpected invisible character U+200B (zero width space)"),
    ("no-break space", "let a =\u00a01\n", 1, 8,
     "unexpected invisible character U+00A0 (no-break space)"),
    ("unknown character after CRLF lines", "let a = 1\r\nlet b = @\r\n", 2, 9,
     "unexpected character '@'"),
    # ---- commas, arrows and other languages' habits
    ("two arguments without a comma", "print(1 2)\n", 1, 9, "expected ')' or ',', found number 2"),
    ("two names without a comma", "f(a b)\n", 1, 5, "expected ')' or ',', found 'b'"),
    ("list items without a comma", "let xs = [1 2]\n", 1, 13,
     "expected ',' or ']', found number 2"),
    ("map entries without a comma", 'let m = {"a": 1 "b": 2}\n', 1, 17,
     "expected ',' or '}', found a string"),
    ("=> without parameters", "let f = => 1\n", 1, 9,
     "expected an expression after '=', found '=>'"),
    ("=> with a number as parameter", "let f = (a, 1) => a\n", 1, 13,
     "expected ')' or a name, found number 1"),
    ("=> in a map literal", 'let m = {"a" => 1}\n', 1, 14,
     "unexpected '=>'; map entries are written \"key\": value"),
    ("=> twice", "let f = x => => 2\n", 1, 14,
     "expected an expression after '=>', found '=>'"),
    ("destructuring let without its ]", "let [a, b = [1, 2]\n", 1, 11,
     "expected ',' or ']', found '='"),
    ("for destructuring without a comma", "for [k v] in m { }\n", 1, 8,
     "expected ',' or ']', found 'v'"),
    ("an expression in a destructuring let", "let [a, 1 + 2] = x\n", 1, 11,
     "expected ',', '..' or ']', found '+'"),
    ("range pattern without its end", "match 5 { 1.. => 1 }\n", 1, 15,
     "expected an expression after '..', found '=>'"),
    ("if guard without a condition", "match 5 { n if => 1 }\n", 1, 16,
     "expected an expression after 'if', found '=>'"),
    ("format spec without its closing brace", 'let s = f"{x:.2f"\n', 1, 17,
     "expected '}' to end the f-string expression"),
    ("match arm without =>", "match x { 1 2 }\n", 1, 13,
     "expected '=>', 'if', 'when' or '|', found number 2"),
    ("match arm without a pattern", "match x {\n  1 => \"one\",\n  => \"other\"\n}\n", 3, 3,
     "expected a pattern after ',', found '=>'"),
    ("alternative without a pattern", "match x { 1 | => 2 }\n", 1, 15,
     "expected a pattern after '|', found '=>'"),
    ("name as map key", "let m = {a: 1}\n", 1, 11,
     "unexpected ':'; map keys are strings: write \"a\": value"),
    ("===", "if a === b { 1 }\n", 1, 6, "'===' is not an operator; use '=='"),
    ("!==", "if a !== b { 1 }\n", 1, 6, "'!==' is not an operator; use '!='"),
    ("i++", "i++\n", 1, 2, "'++' is not an operator; use '+= 1'"),
    ("++i", "++i\n", 1, 1, "'++' is not an operator; use '+= 1'"),
    ("i--", "let i = 3\ni--\n", 2, 2, "'--' is not an operator; use '-= 1'"),
    ("single &", "if a & b { 1 }\n", 1, 6, "unexpected '&'; did you mean '&&'?"),
    ("single |", "let x = a | b\n", 1, 11, "unexpected '|'; did you mean '||'?"),
    ("ternary", "let x = a ? 1 : 2\n", 1, 11,
     "unexpected '?': there is no '? :' operator; write 'if c { a } else { b }'"),
    ("and", "if a and b { 1 }\n", 1, 6, "unexpected 'and'; use '&&' for 'and'"),
    ("not", "if not x { 1 }\n", 1, 4, "unexpected 'not'; use '!' for 'not'"),
    ("Python block", "if x:\n  print(1)\n", 1, 5,
     "expected '{', found ':' (blocks are written in braces)"),
    ("C for loop", "for (let i = 0; i < 3; i++) { }\n", 1, 5,
     "expected a name after 'for', found '('; loops are written 'for x in xs { \u2026 }'"),
    ("perform without effect", "perform print(1)\n", 1, 14,
     "expected '.', found '('; an effect is performed as 'perform Effect.op(args)'"),
    ("if without braces", "if x > 1 print(x)\n", 1, 10, "expected '{', found 'print'"),
    ("else followed by an expression", "if x { 1 } else 2\n", 1, 17,
     "expected 'if' or '{', found number 2"),
    ("for without in", "for x xs { }\n", 1, 7, "expected 'in', found 'xs'"),
    ("field name is a number", "x.1\n", 1, 3, "expected a name, found number 1"),
    ("try without a body", "try catch (e) { }\n", 1, 5, "expected '{', found 'catch'"),
    ("handle without with", "handle { 1 }\n", 1, 13, "expected 'with', found end of input"),
    ("let inside a call", "print(let x = 1)\n", 1, 11, "expected ')' or ',', found 'x'"),
    ("dollar without parentheses", "$x.print()\n", 1, 2, "expected '(', found 'x'"),
    ("public before an expression", "public 1\n", 1, 8,
     "expected 'async', 'const', 'function' or 'let', found number 1"),
    # ---- assignment targets (the parser checks them too)
    ("assignment to a call", "f() = 1\n", 1, 1, "cannot assign to this expression (left of '=')"),
    ("assignment to a literal", "let x = 2\n1 += x\n", 2, 1,
     "cannot assign to this expression (left of '+=')"),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [pytest.param(t, ln, c, m, id=d) for d, t, ln, c, m in SYNTAX_CASES],
)
def test_syntax_error_message_and_position(text: str, line: int, column: int,
                                           message: str) -> None:
    error = syntax_error(text)
    assert (error.message, where(error)) == (message, (line, column))


def test_there_are_enough_cases() -> None:
    assert len(SYNTAX_CASES) >= 30


# ---- errors the compiler reports before anything runs

@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        pytest.param("print(1)\nreturn 1\n", 2, 1, "'return' outside a function",
                     id="return at top level"),
        pytest.param("let f = 1\nif f { return 2 }\n", 2, 8, "'return' outside a function",
                     id="return in a top-level block"),
        pytest.param("print(1)\nbreak\n", 2, 1, "'break' outside a loop", id="break at top level"),
        pytest.param("if true { continue }\n", 1, 11, "'continue' outside a loop",
                     id="continue outside loop"),
        pytest.param("while true {\n  function f() { break }\n  f()\n}\n", 2, 18,
                     "'break' outside a loop", id="break in a function inside a loop"),
        pytest.param("loop { let f = () => { break }; f() }\n", 1, 24,
                     "'break' outside a loop", id="break in a lambda inside a loop"),
    ],
)
def test_compile_errors(text: str, line: int, column: int, message: str) -> None:
    error = compile_error(text)
    assert (error.message, where(error)) == (message, (line, column))


def test_compile_errors_come_before_any_output(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from fluentai.interpreter import run_path

    path = tmp_path / "prog.flc"
    path.write_text('print("started")\nbreak\n', encoding="utf-8")
    assert run_path(str(path), []) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path}:2:1: error: 'break' outside a loop" in captured.err


@pytest.mark.parametrize(
    ("text", "name", "line", "column"),
    [
        pytest.param("let x = 1\nretrun\n", "retrun", 2, 1, id="misspelt keyword alone"),
        pytest.param("function f() {\n  contiune\n}\n", "contiune", 2, 3, id="in a body"),
    ],
)
def test_misspelt_keywords_are_reported_by_check(tmp_path: Path, text: str, name: str,
                                                 line: int, column: int) -> None:
    # The grammar lets any word the parser does not expect be a name, so these parse; `check`
    # (and the run, when it gets there) reports the unknown name at its position.
    from fluentai.frontends.check import check_source

    path = tmp_path / "prog.flc"
    path.write_text(text, encoding="utf-8")
    errors = check_source(str(path))
    assert errors, "nothing reported"
    assert (errors[0].message, where(errors[0])) == (f"'{name}' is not defined", (line, column))


@pytest.mark.parametrize("text", ["if x {}", "if x > 1 { } else { 2 }", "while ready() {}",
                                  "for i in xs {}", "match x {}"])
def test_empty_bodies_parse(text: str) -> None:
    parse(Source("prog.flc", "let x = 1\nlet xs = []\nfunction ready() { false }\n" + text))


# ---- sizes and depths

def test_deeply_nested_parentheses_parse() -> None:
    text = "let x = " + "(" * 5000 + "1" + ")" * 5000 + "\nprint(x)\n"
    program = parse(Source("prog.flc", text))
    assert len(program.body) == 2


def test_deeply_nested_unclosed_parentheses() -> None:
    error = syntax_error("let x = " + "(" * 5000 + "1\n")
    assert (error.message, where(error)) == ("unclosed '(' opened at 1:5008", (1, 5010))


def test_deeply_nested_operand_missing() -> None:
    error = syntax_error("let x = " + "(" * 5000 + "1 +)")
    assert (error.message, where(error)) == (
        "expected an expression after '+', found ')'", (1, 5012))


def test_too_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    # Nested lists build nested nodes: past Python's recursion limit the parser gives up
    # with its own message (never a RecursionError).
    text = "let x = " + "[" * 20000 + "]" * 20000 + "\n"
    try:
        parse(Source("prog.flc", text))
    except FluentSyntaxError as e:
        assert e.message == "program is nested too deeply"
        assert e.span is not None


def test_too_deep_call_nesting_is_a_syntax_error_not_a_crash() -> None:
    text = "let x = " + "f(" * 20000 + "1" + ")" * 20000 + "\n"
    try:
        parse(Source("prog.flc", text))
    except FluentSyntaxError as e:
        assert e.message == "program is nested too deeply"


def test_huge_fstring() -> None:
    piece = "abc {x} "
    ok = 'let s = f"' + piece * 20000 + '"\n'
    assert len(parse(Source("prog.flc", ok)).body) == 1
    bad = 'let s = f"' + piece * 20000 + '{x +}"\n'
    error = syntax_error(bad)
    column = len('let s = f"') + len(piece) * 20000 + len("{x +") + 1
    assert (error.message, where(error)) == (
        "expected an expression after '+', found '}'", (1, column))


def test_error_on_a_late_line_of_a_long_program() -> None:
    text = "let x = 1\n" * 3000 + "let y = (x + 1\nlet z = 2\n"
    error = syntax_error(text)
    assert (error.message, where(error)) == (
        "expected ')' to close the '(' opened at 3001:9, found 'let'", (3002, 1))


# ---- no parser vocabulary in any message

BROKEN_PROGRAMS = [case[1] for case in SYNTAX_CASES] + [
    "let x = 1 +", "let x = 1 ..", "x.", "a.b.", "f(", "f(a,", "[1, 2", "{", "}", ")", "]",
    "let", "let x", "let x =", "const", "const X", "function", "function f", "function f(",
    "function f(a", "function f(a,", "function f(a) ->", "function f() {", "async",
    "async function", "use", "use m::", "use m::{", "use m::{a", "if", "if x", "if x {",
    "if x { } else", "while", "while x", "for", "for x", "for x in", "for x in xs",
    "loop", "match", "match x", "match x {", "match x { 1", "match x { 1 =>",
    "match x { [", "match x { [...", 'match x { {"a"', 'match x { {"a":', "match x { 1 when",
    "try", "try {}", "try {} catch", "try {} catch (", "try {} catch (e", "try {} finally",
    "handle", "handle {}", "handle {} with", "handle {} with {", "handle {} with { E",
    "handle {} with { E.", "handle {} with { E.op", "handle {} with { E.op(", "perform",
    "perform E", "perform E.", "perform E.op", "perform E.op(", "$", "$(", "throw",
    'f"', 'f"{', 'f"{x', 'f"{x}', '"abc', "x |>", "x =>", "(a, b) =>", "(a, b", "x[",
    "x[1", "x ** ", "-", "!", "1 == ", "1 < ", "a && ", "a || ", "1 ..= ", "x = ",
    "x += ", "x.y(", "x.y(1", "x.y(1,", "return (", "break 1 2 )", "continue )",
    "let 1 = 2", "let x: = 1", "let x: list< = 1", "function f(a: ) {}", "function f() -> {}",
    "{ \"a\": 1, }", "{ \"a\" 1 }", "[1, 2,, 3]", "f(1 2 3)", "print(\"a\" \"b\")",
    "let x = 1 2 3 )", "x..", "...x", "x...", "if x { } else if", "if x { } else if y",
    "match x { _ => 1,, }", "let f = (1) => 2", "let s = \"\\u{41\"", "a ? b : c",
    "let x = @", "let x = #", "let x = ~1", "let x = ^", "x :: y", "use ;", "use 1",
    "function f(...a) {}", "[...]", "let [a, b] = xs", "let {a} = m", "class A {}",
    "import x from \"y\"", "def f(): pass", "fn main() {}", "var x = 1;", "x := 1",
    "if (x) then 1 end", "switch (x) { case 1: break }", "do { } while (x)",
    "let s = \"a\" + ", "print(f\"{}\")", "print(f\"{x +}\")", "print(f\"{\"a\" +}\")",
    "x = = 1", "x == = 1", "1 +++ 2", "a !!= b", "a <> b", "a =< b", "a => b => ",
    "let x = [1, 2, 3\nlet y = 2\n", "print((1 + 2)\nprint(3)\n", "\t\t)",
]


def terminal_names() -> set[str]:
    from fluentai.syntax.grammar import lark_parser as _lark

    return {t.name for t in _lark().terminals} | {"$END"}


TERMINAL_NAMES = terminal_names()
ALLOWED_CAPS = {"ASCII"}  # ordinary words a message may use


@pytest.mark.parametrize("text", BROKEN_PROGRAMS)
def test_messages_use_no_parser_vocabulary(text: str) -> None:
    try:
        parse(Source("prog.flc", text))
    except FluentSyntaxError as e:
        message = e.message
        assert e.span is not None and e.span.line >= 1 and e.span.column >= 1
    else:
        return  # some of these are valid programs (a name used as a statement, ...)
    # Terminal names: RBRACE, LPAR, __ANON_2, $END, FSTRING_TEXT, MAP_LBRACE, ...
    words = set(re.findall(r"\$?[A-Za-z_][A-Za-z0-9_]*", message))
    assert not words & TERMINAL_NAMES, message
    assert not re.search(r"\$END|__|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", message), message
    caps = set(re.findall(r"\b[A-Z]{2,}\b", message)) - ALLOWED_CAPS
    assert not caps, message
    assert "Token(" not in message and "Tree(" not in message, message
    assert len(message) <= 160, message


def test_every_terminal_has_a_user_name() -> None:
    from fluentai.syntax.grammar import lark_parser as _lark
    from fluentai.syntax.parse_errors import _describe_terminal

    for terminal in _lark().terminals:
        shown = _describe_terminal(terminal.name)
        assert shown and not re.search(r"[A-Z]{2}|__", shown), (terminal.name, shown)
        assert terminal.name not in shown, (terminal.name, shown)
    assert _describe_terminal("$END") == "end of input"


def test_errors_at_the_end_of_input_say_so_for_the_repl() -> None:
    # The REPL asks for another line while the input so far ends inside an open bracket,
    # string or comment: those messages start with "unclosed" or "unterminated", and a
    # mistake in the middle of the input never does.
    for text in ["f(", "[1,", "function f() {", 'let s = "abc', 'f"{x}', "/* note"]:
        assert syntax_error(text).message.startswith(("unclosed", "unterminated")), text
    for text in ["let xs = [1, 2\nlet y = 2", "print(1]", "let x = 1)"]:
        assert not syntax_error(text).message.startswith(("unclosed", "unterminated")), text


# ---- render_diagnostic

def span(text: str, line: int, column: int, name: str = "prog.flc") -> Span:
    return Span(Source(name, text), line, column)


def caret_column(rendered: str) -> int:
    """Display column (0-based) of the caret, relative to the start of the shown source."""
    lines = rendered.split("\n")
    source_line, caret_line = lines[1], lines[2]
    bar = source_line.index("| ") + 2
    assert caret_line.index("| ") + 2 == bar, "gutters not aligned"
    return caret_line.index("^") - bar


def shown_line(rendered: str) -> str:
    source_line = rendered.split("\n")[1]
    return source_line[source_line.index("| ") + 2:]


def test_render_basic_layout() -> None:
    text = "let x = 1\nlet y = x @ 2\n"
    rendered = render_diagnostic("unexpected character '@'", span(text, 2, 11))
    assert rendered.split("\n") == [
        "prog.flc:2:11: error: unexpected character '@'",
        "   2 | let y = x @ 2",
        "     |           ^",
    ]


def test_render_without_span() -> None:
    assert render_diagnostic("something broke", None) == "error: something broke"


def test_render_caret_after_tabs() -> None:
    text = "function f() {\n\tlet x = 1\n\t\tx / 0\n}\n"
    rendered = render_diagnostic("ZeroDivisionError: division by zero", span(text, 3, 5))
    line = shown_line(rendered)
    assert "\t" not in line
    assert line.strip() == "x / 0"
    assert line[caret_column(rendered)] == "/"


def test_render_caret_after_a_tab_in_the_middle() -> None:
    text = "ab\tcd = @\n"
    rendered = render_diagnostic("unexpected character '@'", span(text, 1, 9))
    assert shown_line(rendered)[caret_column(rendered)] == "@"


@pytest.mark.parametrize("line_number", [1, 9, 10, 99, 100, 9999, 10000, 123456])
def test_render_line_numbers_and_gutter(line_number: int) -> None:
    text = "x = 1\n" * (line_number - 1) + "let y = @\n"
    rendered = render_diagnostic("unexpected character '@'", span(text, line_number, 9))
    first, source_line, _ = rendered.split("\n")
    assert first == f"prog.flc:{line_number}:9: error: unexpected character '@'"
    assert source_line.lstrip().startswith(f"{line_number} | let y = @")
    assert shown_line(rendered)[caret_column(rendered)] == "@"


def test_render_crlf_source() -> None:
    text = "let a = 1\r\nlet b = @\r\n"
    rendered = render_diagnostic("unexpected character '@'", span(text, 2, 9))
    assert "\r" not in rendered
    assert shown_line(rendered) == "let b = @"


def test_render_counts_lines_like_the_parser() -> None:
    # Only "\n" ends a line for the parser: a form feed or U+2028 inside a string must not
    # shift the line shown.
    text = 'let a = "x\x0cy\u2028z"\nlet b = @\n'
    error = syntax_error(text)
    assert where(error) == (2, 9)
    assert shown_line(error.render()) == "let b = @"


def test_render_wide_characters_keep_the_caret_aligned() -> None:
    text = 'let s = "\u65e5\u672c" + nope\n'
    rendered = render_diagnostic("NameError: 'nope' is not defined", span(text, 1, 15))
    # Each CJK character takes two columns on a terminal.
    assert caret_column(rendered) == 16


def test_render_control_characters_are_visible() -> None:
    text = 'let s = "a\x1bb" + @\n'
    rendered = render_diagnostic("unexpected character '@'", span(text, 1, 17))
    assert "\x1b" not in rendered
    assert shown_line(rendered)[caret_column(rendered)] == "@"


def test_render_long_line_is_cut_around_the_column() -> None:
    text = "let x = [" + ", ".join(str(i) for i in range(200)) + "] + @ + [" + \
        ", ".join(str(i) for i in range(200)) + "]\n"
    column = text.index("@") + 1
    rendered = render_diagnostic("unexpected character '@'", span(text, 1, column))
    line = shown_line(rendered)
    assert len(line) <= MAX_LINE_SHOWN + 6
    assert line.startswith("...") and line.endswith("...")
    assert line[caret_column(rendered)] == "@"


def test_render_long_line_error_near_the_start() -> None:
    text = "let = " + "1 + " * 200 + "1\n"
    rendered = render_diagnostic("expected a name, found '='", span(text, 1, 5))
    line = shown_line(rendered)
    assert line.startswith("let = 1 + ") and line.endswith("...")
    assert line[caret_column(rendered)] == "="


def test_render_column_past_the_end_of_the_line() -> None:
    text = "print(1 + 2\n"
    rendered = render_diagnostic("unclosed '(' opened at 1:6", span(text, 1, 12))
    assert caret_column(rendered) == len("print(1 + 2")


# ---- tracebacks

def frames(text: str, calls: list[tuple[str, int, int]]) -> list[tuple[str, Span]]:
    """A FluentError trace (innermost first) from calls listed outermost first."""
    source = Source("prog.flc", text)
    return [(name, Span(source, ln, col)) for name, ln, col in reversed(calls)]


def trace_part(rendered: str) -> list[str]:
    lines = rendered.split("\n")
    start = lines.index("traceback (most recent call last):")
    return lines[start + 1:]


def test_trace_lists_calls_outermost_first() -> None:
    text = "function a() { b() }\nfunction b() { 1 / 0 }\na()\n"
    trace = frames(text, [("a", 3, 1), ("b", 1, 16)])
    rendered = render_diagnostic("ZeroDivisionError: division by zero", span(text, 2, 18), trace)
    assert trace_part(rendered) == [
        "  prog.flc:3:1: in call to a",
        "  prog.flc:1:16: in call to b",
    ]
    assert "Traceback" not in rendered and ".py" not in rendered


def test_trace_folds_recursion() -> None:
    text = "function f(n) {\n  if n == 0 { return 1 / 0 }\n  f(n - 1)\n}\nf(50)\n"
    trace = frames(text, [("f", 5, 1)] + [("f", 3, 3)] * 50)
    rendered = render_diagnostic("ZeroDivisionError: division by zero", span(text, 2, 24), trace)
    assert trace_part(rendered) == [
        "  prog.flc:5:1: in call to f",
        "  prog.flc:3:3: in call to f",
        "  ... the call above repeated 49 more times",
    ]


def test_trace_fold_of_a_single_repeat() -> None:
    text = "f()\n"
    trace = frames(text, [("f", 1, 1), ("f", 1, 1)])
    assert trace_part(render_diagnostic("boom", span(text, 1, 1), trace)) == [
        "  prog.flc:1:1: in call to f",
        "  ... the call above repeated 1 more time",
    ]


def test_trace_folds_mutual_recursion() -> None:
    text = "function even(n) { odd(n) }\nfunction odd(n) { even(n) }\neven(1)\n"
    calls = [("even", 3, 1)] + [("odd", 1, 20), ("even", 2, 19)] * 3000
    rendered = render_diagnostic("stack overflow: too many nested calls", span(text, 2, 19),
                                 frames(text, calls))
    assert trace_part(rendered) == [
        "  prog.flc:3:1: in call to even",
        "  prog.flc:1:20: in call to odd",
        "  prog.flc:2:19: in call to even",
        "  ... the 2 calls above repeated 2999 more times",
    ]


def test_trace_without_repetition_is_cut_in_the_middle() -> None:
    text = "\n" * 200
    calls = [(f"f{i}", i + 1, 1) for i in range(100)]
    lines = trace_part(render_diagnostic("boom", span(text, 1, 1), frames(text, calls)))
    assert len(lines) == MAX_TRACE_SHOWN + 1
    assert lines[0] == "  prog.flc:1:1: in call to f0"
    assert lines[-1] == "  prog.flc:100:1: in call to f99"
    assert any(line.strip() == f"... {100 - MAX_TRACE_SHOWN} more lines ..." for line in lines)


def test_trace_of_error_without_span() -> None:
    text = "f()\n"
    rendered = render_diagnostic("boom", None, frames(text, [("f", 1, 1)]))
    assert rendered.split("\n") == [
        "error: boom",
        "traceback (most recent call last):",
        "  prog.flc:1:1: in call to f",
    ]


def test_fluent_error_render_uses_kind_headline() -> None:
    from fluentai.syntax.errors import RuntimeFault

    text = "let x = 1 / 0\n"
    error = RuntimeFault("ZeroDivisionError", "division by zero", span(text, 1, 11))
    assert error.render().split("\n")[0] == (
        "prog.flc:1:11: error: ZeroDivisionError: division by zero")


@pytest.mark.parametrize(
    ("text", "name", "line"),
    [
        pytest.param("functoin f() {}\n", "functoin", 1, id="misspelt function keyword"),
        pytest.param("let x = 1\nelse { 2 }\n", "else", 2, id="else without if"),
        pytest.param("let x = 1\nprint x\n", "print", 2, id="call without parentheses"),
    ],
)
def test_a_lone_name_followed_by_code_is_reported(text: str, name: str, line: int) -> None:
    with pytest.raises(FluentSyntaxError) as info:
        Interpreter().compile(Source("prog.flc", text), new_module("__main__", None), None)
    assert info.value.message.startswith(f"unexpected code after '{name}' on the same line")
    assert where(info.value) == (line, 1)

"""Two statements on one line need a `;` between them unless the first ends with a block's
`}` (fluentai/syntax/separators.py; docs/language.md, "Statements and lines")."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_program

from fluentai.syntax.errors import FluentSyntaxError
from fluentai.syntax.parser import parse
from fluentai.syntax.source import Source


def syntax_error(text: str) -> FluentSyntaxError:
    with pytest.raises(FluentSyntaxError) as info:
        parse(Source("prog.flc", text))
    return info.value


# (program, line, column, exact rendered message)
INVALID = [
    pytest.param('let s = "a" "b"\n', 1, 13,
                 "prog.flc:1:13: error: expected ';' or a new line before this (to join "
                 "strings, use +: \"a\" + \"b\")\n"
                 '   1 | let s = "a" "b"\n'
                 "     |             ^", id="attempted string concatenation"),
    pytest.param('let s = f"{x}" f"{y}"\n', 1, 16,
                 "prog.flc:1:16: error: expected ';' or a new line before this (to join "
                 "strings, use +: \"a\" + \"b\")\n"
                 '   1 | let s = f"{x}" f"{y}"\n'
                 "     |                ^", id="two f-strings"),
    pytest.param("let x = 1 2\n", 1, 11,
                 "prog.flc:1:11: error: expected ';' or a new line before this (is an "
                 "operator or a comma missing between the two values?)\n"
                 "   1 | let x = 1 2\n"
                 "     |           ^", id="missing operator"),
    pytest.param("let total = price count\n", 1, 19,
                 "prog.flc:1:19: error: expected ';' or a new line before this (is an "
                 "operator or a comma missing between the two values?)\n"
                 "   1 | let total = price count\n"
                 "     |                   ^", id="two names"),
    pytest.param('print("a") print("b")\n', 1, 12,
                 "prog.flc:1:12: error: expected ';' or a new line before this (is an "
                 "operator or a comma missing between the two values?)\n"
                 '   1 | print("a") print("b")\n'
                 "     |            ^", id="two calls"),
    pytest.param('let m = {"a": 1} print(m)\n', 1, 18,
                 "prog.flc:1:18: error: expected ';' or a new line before this (is an "
                 "operator or a comma missing between the two values?)\n"
                 '   1 | let m = {"a": 1} print(m)\n'
                 "     |                  ^", id="a map literal's } is not a block's"),
    pytest.param("x = 1 let y = 2\n", 1, 7,
                 "prog.flc:1:7: error: expected ';' or a new line before this\n"
                 "   1 | x = 1 let y = 2\n"
                 "     |       ^", id="assignment then let"),
    pytest.param("function f() {\n  let a = 1 return a\n}\n", 2, 13,
                 "prog.flc:2:13: error: expected ';' or a new line before this\n"
                 "   2 |   let a = 1 return a\n"
                 "     |             ^", id="inside a function body"),
]


@pytest.mark.parametrize("text,line,column,rendered", INVALID)
def test_two_statements_on_one_line_without_a_separator(text: str, line: int, column: int,
                                                        rendered: str) -> None:
    error = syntax_error(text)
    assert error.span is not None and (error.span.line, error.span.column) == (line, column)
    assert error.render() == rendered


VALID = [
    pytest.param('let s = "a"; let t = "b"\nprint(s + t)\n', "ab", id="semicolon"),
    pytest.param("let x = 1\nlet y = 2\nprint(x + y)\n", "3", id="newlines"),
    pytest.param("function f() { 7 } print(f())\n", "7", id="after a function's }"),
    pytest.param("let x = 1\nif x > 0 { x = 5 } x += 1\nprint(x)\n", "6", id="after if's }"),
    pytest.param("let f = () => { 2 } print(f())\n", "2", id="after a lambda body's }"),
    pytest.param("let n = 0\nfor i in 0..3 { n += i } print(n)\n", "3", id="after a loop"),
    pytest.param("let v = match 2 { 2 => \"two\", _ => \"?\" } print(v)\n", "two",
                 id="after match"),
    pytest.param('let s = "a" +\n  "b"\nprint(s)\n', "ab", id="an operator continues a line"),
    pytest.param("let x = 1 /* a comment */; print(x)\n", "1", id="semicolon after a comment"),
    pytest.param("{ let a = 1; print(a) }\n", "1", id="inside a block"),
]


@pytest.mark.parametrize("text,out", VALID)
def test_valid_separations(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                           out: str) -> None:
    result = run_program(tmp_path, capsys, text)
    assert (result.status, result.out, result.err) == (0, out + "\n", "")


def test_a_lone_name_followed_by_code_is_still_a_misspelt_keyword() -> None:
    error = syntax_error("functoin f() { 1 }\n")
    assert error.message.startswith("unexpected code after 'functoin' on the same line")
    assert error.span is not None and (error.span.line, error.span.column) == (1, 1)

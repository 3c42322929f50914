"""What a newcomer trips on: other languages' keywords, effects without `perform`, misspelt
names, fields and methods, a call continued from the line above, a `}` forgotten in the
middle of a file. Each case is the full report a user sees, from `fluentai run` (the
run-time error) and from `fluentai check` (the same words, found before running).

The programs run from their own folder, so the file name in each report is `prog.flc`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fluentai.frontends.check import check_path
from fluentai.interpreter import run_path


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_report(here: Path, capsys: pytest.CaptureFixture[str], text: str) -> str:
    """What `fluentai run prog.flc` writes on stderr (the run must fail)."""
    (here / "prog.flc").write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert run_path("prog.flc", [], deterministic=True) == 1
    return capsys.readouterr().err


def check_report(here: Path, capsys: pytest.CaptureFixture[str], text: str) -> str:
    """What `fluentai check prog.flc` writes on stderr (the check must fail)."""
    (here / "prog.flc").write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert check_path("prog.flc") == 1
    return capsys.readouterr().err


def report(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# ---- other languages' keywords, effects without perform, misspelt names
# (program, the report of `run`; `check` reports the same without "NameError: ")

# Keywords out of place: errors before anything runs, the same from `run` and `check`.
STATIC_CASES = [
    pytest.param(
        "let f = function(x) { x + 1 }\nprint(f(1))\n",
        report(
            "prog.flc:1:9: error: 'function' declares a named function and cannot start an "
            "expression: write a lambda, 'x => x + 1' or '(a, b) => { … }'",
            "   1 | let f = function(x) { x + 1 }",
            "     |         ^"),
        id="function expression"),
    pytest.param(
        "let g = async x => x\n",
        report(
            "prog.flc:1:9: error: 'async' only marks a function declaration "
            "('async function f() { … }'); lambdas cannot be async",
            "   1 | let g = async x => x",
            "     |         ^"),
        id="async lambda"),
    pytest.param(
        "async function f() { 1 }\nlet v = await f()\n",
        report(
            "prog.flc:2:9: error: unexpected code after 'await': FluentAI has no 'await' "
            "keyword; put '.await()' after the promise, as in 'f().await()'",
            "   2 | let v = await f()",
            "     |         ^"),
        id="await keyword"),
    pytest.param(
        "function f() {\n  use http\n}\n",
        report(
            "prog.flc:2:3: error: 'use' is only allowed at the top level of a file, outside "
            "functions and blocks: move it to the top",
            "   2 |   use http",
            "     |   ^"),
        id="use inside a function"),
    pytest.param(
        "var x = 1\n",
        report(
            "prog.flc:1:1: error: unexpected code after 'var': declare variables with 'let' "
            "(or 'const')",
            "   1 | var x = 1",
            "     | ^"),
        id="var"),
]


@pytest.mark.parametrize(("text", "expected"), STATIC_CASES)
def test_misplaced_keywords_are_reported_before_running(
        here: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str) -> None:
    assert run_report(here, capsys, text) == expected
    # One mistake, one report: `check` adds no "'x' is not defined" for the same line.
    assert check_report(here, capsys, text) == expected


# Names nothing defines: the run's NameError (when reached) and `check` say the same.
NAME_CASES = [
    pytest.param(
        "async function f() { 1 }\nlet p = await\n",
        report(
            "prog.flc:2:9: error: NameError: 'await' is not defined: FluentAI has no 'await' "
            "keyword; put '.await()' after the promise, as in 'f().await()'",
            "   2 | let p = await",
            "     |         ^"),
        id="await alone"),
    pytest.param(
        "let t = Time.now()\nprint(t)\n",
        report(
            "prog.flc:1:9: error: NameError: 'Time' is not defined: Time is an effect, and "
            "effects are performed, as in 'perform Time.now()'",
            "   1 | let t = Time.now()",
            "     |         ^"),
        id="effect without perform"),
    pytest.param(
        'HttpServer.listen(8080).await()\n',
        report(
            "prog.flc:1:1: error: NameError: 'HttpServer' is not defined: HttpServer is an "
            "effect, and effects are performed, as in 'perform HttpServer.listen(…)'",
            "   1 | HttpServer.listen(8080).await()",
            "     | ^"),
        id="server effect without perform"),
    pytest.param(
        'prnt("hello")\n',
        report(
            "prog.flc:1:1: error: NameError: 'prnt' is not defined; did you mean 'print'?",
            '   1 | prnt("hello")',
            "     | ^"),
        id="misspelt builtin"),
    pytest.param(
        "function total(items) {\n  let sum = 0\n  for item in items { sum += item }\n"
        "  sum\n}\nprint(totl([1, 2]))\n",
        report(
            "prog.flc:6:7: error: NameError: 'totl' is not defined; did you mean 'total'?",
            "   6 | print(totl([1, 2]))",
            "     |       ^"),
        id="misspelt function"),
    pytest.param(
        "function f(count) {\n  conut + 1\n}\nf(1)\n",
        report(
            "prog.flc:2:3: error: NameError: 'conut' is not defined; did you mean 'count'?",
            "   2 |   conut + 1",
            "     |   ^",
            "traceback (most recent call last):",
            "  prog.flc:4:1: in call to f"),
        id="misspelt parameter"),
    pytest.param(
        "let x = None\n",
        report(
            "prog.flc:1:9: error: NameError: 'None' is not defined: FluentAI writes 'nil'",
            "   1 | let x = None",
            "     |         ^"),
        id="Python None"),
]


@pytest.mark.parametrize(("text", "expected"), NAME_CASES)
def test_undefined_name_reports(here: Path, capsys: pytest.CaptureFixture[str], text: str,
                                expected: str) -> None:
    assert run_report(here, capsys, text) == expected


@pytest.mark.parametrize(("text", "expected"), NAME_CASES)
def test_check_reports_undefined_names_in_the_same_words(
        here: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str) -> None:
    first = expected.split("traceback")[0]
    assert check_report(here, capsys, text) == first.replace("error: NameError: ", "error: ")


def test_misspelt_assignment_target(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "let total = 0\ntotla += 1\n"
    assert run_report(here, capsys, text) == report(
        "prog.flc:2:7: error: NameError: 'totla' is not defined; did you mean 'total'? "
        "(declare it with 'let totla = ...')",
        "   2 | totla += 1",
        "     |       ^")
    assert check_report(here, capsys, text) == report(
        "prog.flc:2:1: error: 'totla' is not defined; did you mean 'total'?",
        "   2 | totla += 1",
        "     | ^")


def test_a_name_defined_only_later_in_the_repl_session_gets_no_wrong_hint() -> None:
    # Names the session already defines are not "undefined": no hint is computed for them,
    # and a suggestion never names the missing name itself.
    from fluentai.resolve.resolver import resolve
    from fluentai.syntax.parser import parse
    from fluentai.syntax.source import Source

    program = parse(Source("<repl>", "helper(1)\nhelpr(2)\n"))
    res = resolve(program, defined={"helper", "print"})
    assert sorted(res.name_hints.values()) == [
        "'helpr' is not defined; did you mean 'helper'?"]


def test_suggestions_prefer_the_innermost_name_and_skip_short_ones() -> None:
    from fluentai.syntax.suggest import closest, distance

    assert distance("nmae", "name") == 1  # a swap is one edit
    assert distance("prnt", "print") == 1
    assert closest("nmae", ["names", "name"]) == "name"
    assert closest("itme", ["item", "time"]) == "item"  # the first of equals wins
    assert closest("x", ["y", "xs"]) is None  # one or two letters: no guess
    assert closest("Print", ["prin", "print"]) == "print"  # case alone always counts
    assert closest("compute_total", ["compute_totals", "total"]) == "compute_totals"
    assert closest("abcdef", ["uvwxyz"]) is None


# ---- a '}' forgotten in the middle of a file

def test_missing_brace_of_an_inner_if_points_where_indentation_says(
        here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ("function check(x) {\n"
            "  if x > 1 {\n"
            '    print("big")\n'
            '  print("done")\n'
            "}\n"
            "\n"
            "function other() {\n"
            '  print("other")\n'
            "}\n")
    expected = report(
        "prog.flc:4:3: error: unclosed '{' opened at 2:12: going by the indentation, its '}' "
        "is missing before line 4",
        '   4 |   print("done")',
        "     |   ^",
        "prog.flc:2:12: note: the unclosed '{' is here",
        "   2 |   if x > 1 {",
        "     |            ^")
    assert run_report(here, capsys, text) == expected
    assert check_report(here, capsys, text) == expected


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def brace_lines(path: Path) -> list[int]:
    return [i for i, line in enumerate(path.read_text(encoding="utf-8").split("\n"))
            if line.strip() == "}"]


@pytest.mark.parametrize(
    ("path", "index"),
    [pytest.param(p, i, id=f"{p.name}:{i + 1}")
     for p in sorted(EXAMPLES.glob("*.flc")) for i in brace_lines(p)])
def test_each_closing_brace_removed_from_an_example_is_found(path: Path, index: int) -> None:
    # Real programs with one block-closing '}' line taken out: the error points at the line
    # that followed it (the first line of code there), not at the end of the file.
    from fluentai.syntax.errors import FluentSyntaxError
    from fluentai.syntax.parser import parse
    from fluentai.syntax.source import Source

    lines = path.read_text(encoding="utf-8").split("\n")
    broken = lines[:index] + lines[index + 1:]
    following = next((n + 1 for n in range(index, len(broken))
                      if broken[n].strip() and not broken[n].strip().startswith("//")), None)
    with pytest.raises(FluentSyntaxError) as info:
        parse(Source(path.name, "\n".join(broken)))
    error = info.value
    if following is None:  # the file's last '}': the end of the file is the right place
        assert error.message.startswith("unclosed '{'")
        return
    if not error.message.startswith("unclosed"):
        # The parser stopped earlier, at code that cannot follow (a match arm's body cut
        # off, ...): that error is already at the right place.
        assert error.span is not None and error.span.line <= following + 1
        return
    assert error.span is not None and error.span.line == following, error.render()
    assert "going by the indentation" in error.message
    assert error.notes and error.notes[0][1].line < following


# ---- run-time type errors that say what was meant

RUNTIME_CASES = [
    pytest.param(
        "let x = 1\nlet y = x\n(1 + 2).print()\n",
        report(
            "prog.flc:2:9: error: TypeError: 'x' is not a function (it is int) (the '(' that "
            "starts line 3 continues line 2 as a call: end line 2 with ';' if line 3 is a new "
            "statement)",
            "   2 | let y = x",
            "     |         ^"),
        id="a ( starting a line continues the line above"),
    pytest.param(
        "async function f() { 1 }\nlet v = f().await\nprint(v)\n",
        report(
            "prog.flc:2:13: error: TypeError: a promise has no field 'await' (to wait for a "
            "promise, write .await())",
            "   2 | let v = f().await",
            "     |             ^"),
        id=".await without parentheses"),
    pytest.param(
        'let s = "abc"\nprint(s.lenght)\n',
        report(
            "prog.flc:2:9: error: TypeError: a string has no field 'lenght'; did you mean the "
            "method .length()?",
            "   2 | print(s.lenght)",
            "     |         ^"),
        id="misspelt method read as a field"),
    pytest.param(
        "let xs = [1]\nxs.pusj(2)\n",
        report(
            "prog.flc:2:4: error: TypeError: a list has no method 'pusj'; did you mean 'push'?",
            "   2 | xs.pusj(2)",
            "     |    ^"),
        id="misspelt method"),
    pytest.param(
        'let ns = {"greet": (n) => f"hi {n}"}\nns.gret("Ann")\n',
        report(
            "prog.flc:2:4: error: TypeError: a map has no method 'gret'; did you mean 'greet'?",
            '   2 | ns.gret("Ann")',
            "     |    ^"),
        id="misspelt function of a map used as a namespace"),
    pytest.param(
        "function double_all(xs) {\n  xs.map(x => x * 2 / 0)\n}\n"
        "function main() { double_all([1, 2]) }\n",
        report(
            "prog.flc:2:21: error: ZeroDivisionError: division by zero",
            "   2 |   xs.map(x => x * 2 / 0)",
            "     |                     ^",
            "traceback (most recent call last):",
            "  prog.flc:4:19: in call to double_all",
            "  prog.flc:2:6: in call to <lambda> (called by map)"),
        id="the frame of a callback"),
    pytest.param(
        "function label(x) { x.name }\nprint(map([1], label))\n",
        report(
            "prog.flc:1:23: error: TypeError: an int has no field 'name'",
            "   1 | function label(x) { x.name }",
            "     |                       ^",
            "traceback (most recent call last):",
            "  prog.flc:2:7: in call to label (called by map)"),
        id="the frame of a callback of a global function"),
]


@pytest.mark.parametrize(("text", "expected"), RUNTIME_CASES)
def test_runtime_error_reports(here: Path, capsys: pytest.CaptureFixture[str], text: str,
                               expected: str) -> None:
    assert run_report(here, capsys, text) == expected


def test_a_call_continued_on_the_next_line_on_purpose_gets_no_hint(
        here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The '(' ends the callee's line: an ordinary multi-line call.
    text = "let x = 1\nx(\n  1)\n"
    assert "continues line" not in run_report(here, capsys, text)


# ---- a refused connection reads the same from both client effects

def closed_port() -> int:
    """A loopback port nothing listens on: bound by us, then closed."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refused_connections_read_the_same(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = closed_port()
    text = (f'let http = try {{ perform Network.get("http://127.0.0.1:{port}/").await() }} '
            f'catch (e) {{ e.message }}\n'
            f'let ws = try {{ perform WebSocketClient.connect("ws://127.0.0.1:{port}/").await() '
            f'}} catch (e) {{ e.message }}\n'
            "print(http)\nprint(ws)\n")
    (here / "prog.flc").write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert run_path("prog.flc", []) == 0
    assert capsys.readouterr().out == (
        f"Network.get(): cannot connect to http://127.0.0.1:{port}/: connection refused\n"
        f"WebSocketClient.connect(): cannot connect to ws://127.0.0.1:{port}/: "
        f"connection refused\n")


# ---- check's warnings: legal code that is surely a mistake

def test_check_warns_of_a_misspelt_key_and_a_continued_line(
        here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (here / "prog.flc").write_text(
        'const config = {"port": 8080, "host": "127.0.0.1"}\n'
        "let port = config.prot\n"
        "print(config.host)\n"
        "let y = port\n"
        "(1 + 2).print()\n", encoding="utf-8")
    capsys.readouterr()
    assert check_path("prog.flc") == 0  # warnings do not fail the check
    out, err = capsys.readouterr()
    assert out == "prog.flc: ok (2 warnings)\n"
    assert err == report(
        "prog.flc:2:19: warning: the map 'config' has no key 'prot' (reading it gives nil); "
        "did you mean 'port'?",
        "   2 | let port = config.prot",
        "     |                   ^",
        "prog.flc:4:9: warning: the '(' that starts line 5 continues line 4 as a call: end "
        "line 4 with ';' if line 5 is a new statement",
        "   4 | let y = port",
        "     |         ^")


@pytest.mark.parametrize("text", [
    # The map gains keys, or may: a field set, a method that changes it, passed on,
    # the name assigned, or a local of the same name.
    'let m = {"port": 1}\nm.prot = 2\nprint(m.prot)\n',
    'let m = {"port": 1}\nm.set("prot", 2)\nprint(m.prot)\n',
    'let m = {"port": 1}\nfill(m)\nprint(m.prot)\nfunction fill(x) { x.prot = 2 }\n',
    'let m = {"port": 1}\nm = {"prot": 2}\nprint(m.prot)\n',
    'let m = {"port": 1}\nfunction f(m) { m.prot }\nprint(f({"prot": 2}))\n',
    # Nothing close to a key: an optional field, read on purpose.
    'let opts = {"port": 1}\nif opts.verbose { print("v") }\n',
])
def test_no_warning_when_the_keys_may_change(here: Path, capsys: pytest.CaptureFixture[str],
                                             text: str) -> None:
    (here / "prog.flc").write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert check_path("prog.flc") == 0
    assert capsys.readouterr() == ("prog.flc: ok\n", "")

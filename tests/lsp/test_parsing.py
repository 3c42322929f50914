"""The language server's statement-at-a-time parser (fluentai/frontends/lsp/parsing.py) gives
exactly what `parse` gives — the same AST, or the same first error at the same place — and
reparses only the statements whose text changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hardening.test_fuzz import programs
from hypothesis import HealthCheck, given, settings

from fluentai.frontends.lsp import parsing
from fluentai.frontends.lsp.parsing import Parser, cuts
from fluentai.syntax.errors import FluentSyntaxError
from fluentai.syntax.parser import parse
from fluentai.syntax.source import Source

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob("examples/**/*.flc"), *ROOT.glob("tests/spec/**/*.flc")])


def outcome(parser: Any, text: str) -> Any:
    """The AST as text (node reprs carry every span), or the error and its position."""
    try:
        return repr(parser(Source("prog.flc", text)))
    except FluentSyntaxError as e:
        assert e.span is not None
        return ("error", e.message, e.span.line, e.span.column)


def same(text: str, parser: Parser | None = None) -> None:
    assert outcome((parser or Parser()).parse, text) == outcome(parse, text)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_program_parses_the_same(path: Path) -> None:
    same(path.read_text(encoding="utf-8"))


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(program=programs)
def test_fuzzed_programs_parse_the_same(program: tuple[str, str]) -> None:
    same(program[1])


def test_cuts_only_before_statements() -> None:
    text = ('let a = 1\n'
            'if a > 0 {\nb()\n}\nelse { c() }\n'          # `else` continues the `if`
            'let s = "one\nlet two"\n'                     # inside a string
            '/* let x\nlet y */\n'                         # inside a comment (and not a name)
            'f(\nx)\n'                                     # inside brackets
            'try { 1 }\ncatch (e) { 2 }\n'
            'print(s)\n')
    starts = [text[i:].split("\n", 1)[0] for i in cuts(text)]
    assert starts == ["let a = 1", "if a > 0 {", 'let s = "one', "f(", "try { 1 }", "print(s)"]
    same(text)


def test_a_misplaced_cut_still_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend the rough scanner cut inside a string and inside a call: the pieces do not
    # parse, the rest of the text is parsed as a whole, and the result is parse's.
    text = 'let s = "a\nlet b = 1\n"\nprint(s,\nlen(s))\nlet t = 2\n'
    wrong = [0, text.index("let b"), text.index("len(s)"), text.index("let t")]
    monkeypatch.setattr(parsing, "cuts", lambda _text: list(wrong))
    same(text)
    same(text.replace("let t = 2", "let t = ("))


def test_the_first_error_wins_as_in_parse() -> None:
    # parse builds the AST only once the whole text has parsed, so a syntax error late in
    # the text is reported before an unknown escape early in it; between two unknown
    # escapes, the first.
    same('let a = "\\q"\nlet b = 1\nlet c = (\nlet d = 2\n')
    same('let a = "\\q"\nlet b = "\\w"\n')
    same('let a = 1\nlet b = "\\w"\nfunction f( {\n')


@pytest.mark.parametrize("path", FILES[::7], ids=lambda p: str(p.relative_to(ROOT)))
def test_statements_moved_down_are_the_same(path: Path) -> None:
    # Seen again on other lines, a piece's statements are copied with their spans moved.
    parser = Parser()
    text = path.read_text(encoding="utf-8")
    same(text, parser)
    for moved in ("\n" + text, "\n\n\n" + text, text.replace("\n", "\n\n", 3)):
        same(moved, parser)


def test_only_changed_statements_are_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = parsing.parse_tree

    def counting(source: Source) -> Any:
        parsed.append(source.text.lstrip("\n").split("\n", 1)[0])
        return real(source)

    monkeypatch.setattr(parsing, "parse_tree", counting)
    parser = Parser()
    text = "".join(f"function f{i}(x) {{\n  x + {i}\n}}\n" for i in range(50))
    parser.parse(Source("prog.flc", text))
    assert len(parsed) == 50
    parsed.clear()
    edited = text.replace("x + 7\n", "x * 7\n")
    program = parser.parse(Source("prog.flc", edited))
    assert parsed == ["function f7(x) {"]
    assert repr(program) == repr(parse(Source("prog.flc", edited)))
    # A line added at the top moves every statement: none is parsed again (only the new
    # blank line is).
    parsed.clear()
    program = parser.parse(Source("prog.flc", "\n" + edited))
    assert parsed == [""] and repr(program) == repr(parse(Source("prog.flc", "\n" + edited)))

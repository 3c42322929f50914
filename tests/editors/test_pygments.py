"""The Pygments lexer (fluentai/frontends/pygments_lexer.py): every program of the
repository lexes without an Error token, a representative snippet gets the right token
kinds, no input makes it raise or hang, and `pygmentize` finds it through the installed
package's `pygments.lexers` entry point."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from helpers import time_limit
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Token, _TokenType

from fluentai.frontends import repl_input
from fluentai.frontends.pygments_lexer import CURRENT_KEYWORDS, KEYWORDS, FluentAILexer

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = sorted(p for folder in ("examples", "tests/spec", "stdlib")
                  for p in (ROOT / folder).rglob("*.flc"))


def lex(text: str) -> list[tuple[_TokenType, str]]:
    # The unprocessed tokens (what prompt_toolkit asks for): the text exactly, piece by
    # piece, without get_tokens' newline and tab normalisation.
    out: list[tuple[_TokenType, str]] = []
    at = 0
    for start, kind, value in FluentAILexer().get_tokens_unprocessed(text):
        assert start == at, f"tokens skip or overlap at {at}: {out[-3:]}"
        at = start + len(value)
        out.append((kind, value))
    return out


def test_the_programs_are_there() -> None:
    assert len(PROGRAMS) > 100  # the test below must not pass by finding nothing


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_error_tokens(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tokens = lex(text)
    assert "".join(value for _, value in tokens) == text
    errors = [value for kind, value in tokens if kind in Error]
    assert not errors, f"Error tokens: {errors}"


SNIPPET = r'''// a line comment
/* a block
   comment */
use http
async function greet(name: string) -> string {
  let n = 42 + 3.14 * 1e9 - 2.5e-3
  const s = "tab\t quote\" \u{1F600} end"
  let t = """two
lines {not code}"""
  let f = f"hi {name.to_upper()} {f"n={n}"} {{literal}} { {"k": 1}.get("k") }"
  let r = perform Time.now().await()
  xs |> map(x => x ** 2) ; 0..10 ; 0..=3 ; a != b && c || !d ; m.type ; $(x)
  if true { nil } else { null }
}
struct Point { x } enum Color { Red } trait Show { } spawn self Ok(1)
'''


def kinds_of(text: str) -> dict[str, _TokenType]:
    return {value: kind for kind, value in lex(text) if value.strip()}


def test_snippet_token_kinds() -> None:
    k = kinds_of(SNIPPET)
    expected = {
        "// a line comment": Token.Comment.Single,
        "use": Token.Keyword.Namespace,
        "http": Token.Name.Namespace,
        "async": Token.Keyword,
        "function": Token.Keyword.Declaration,
        "greet": Token.Name.Function,
        "string": Token.Name,
        "let": Token.Keyword.Declaration,
        "const": Token.Keyword.Declaration,
        "42": Token.Number.Integer,
        "3.14": Token.Number.Float,
        "1e9": Token.Number.Float,
        "2.5e-3": Token.Number.Float,
        "\\t": Token.String.Escape,
        '\\"': Token.String.Escape,
        "\\u{1F600}": Token.String.Escape,
        "tab": Token.String.Double,
        "two\nlines {not code}": Token.String.Double,  # no interpolation in """
        "f": Token.String.Affix,
        "hi ": Token.String.Double,
        "to_upper": Token.Name.Function,
        "n=": Token.String.Double,
        "{{": Token.String.Escape,
        "literal": Token.String.Double,
        "get": Token.Name.Function,
        "perform": Token.Keyword,
        "Time": Token.Name.Builtin,
        "now": Token.Name.Function,
        "await": Token.Keyword,
        "|>": Token.Operator,
        "=>": Token.Operator,
        "**": Token.Operator,
        "..": Token.Operator,
        "..=": Token.Operator,
        "!=": Token.Operator,
        "&&": Token.Operator,
        "||": Token.Operator,
        "type": Token.Name.Attribute,  # after a `.` every word is a name
        "$": Token.Operator,
        "true": Token.Keyword.Constant,
        "nil": Token.Keyword.Constant,
        "null": Token.Keyword.Constant,
        "struct": Token.Keyword.Declaration,
        "Point": Token.Name.Class,
        "Color": Token.Name.Class,
        "Show": Token.Name.Class,
        "spawn": Token.Keyword,
        "self": Token.Keyword,
        "Ok": Token.Keyword,
    }
    wrong = {text: (k.get(text), kind) for text, kind in expected.items() if k.get(text) != kind}
    assert not wrong, "text: (got, expected) " + repr(wrong)
    # The block comment comes as pieces, all of one kind; so do the f-string's braces.
    tokens = lex(SNIPPET)
    comment = "".join(v for kind, v in tokens if kind is Token.Comment.Multiline)
    assert comment == "/* a block\n   comment */"
    assert sum(1 for kind, _ in tokens if kind is Token.String.Interpol) == 8


def test_fstring_interpolation_nests() -> None:
    # Inside `{}`: code, a nested f-string with its own `{}`, and a map whose `}` does not
    # end the interpolation.
    tokens = [(kind, v) for kind, v in lex('f"a {f"b {x}"} { {"k": y}.k } c"') if v.strip()]
    assert tokens == [
        (Token.String.Affix, "f"), (Token.String.Double, '"'), (Token.String.Double, "a "),
        (Token.String.Interpol, "{"),
        (Token.String.Affix, "f"), (Token.String.Double, '"'), (Token.String.Double, "b "),
        (Token.String.Interpol, "{"), (Token.Name, "x"), (Token.String.Interpol, "}"),
        (Token.String.Double, '"'),
        (Token.String.Interpol, "}"),
        (Token.String.Interpol, "{"),
        (Token.Punctuation, "{"), (Token.String.Double, '"'), (Token.String.Double, "k"),
        (Token.String.Double, '"'), (Token.Punctuation, ":"), (Token.Name, "y"),
        (Token.Punctuation, "}"), (Token.Punctuation, "."), (Token.Name.Attribute, "k"),
        (Token.String.Interpol, "}"),
        (Token.String.Double, " c"), (Token.String.Double, '"'),
    ]


def test_keywords_are_the_grammars() -> None:
    # Every word the grammar spells out is a keyword of the lexer, and of the REPL's
    # completion; a keyword added to the grammar fails here until both know it.
    grammar = (ROOT / "grammar" / "fluentai.lark").read_text(encoding="utf-8")
    grammar = re.sub(r"^\s*//.*$", "", grammar, flags=re.MULTILINE)  # comment lines
    words = set(re.findall(r'"([a-z]+)"', grammar))
    assert words == set(CURRENT_KEYWORDS)
    assert set(repl_input.KEYWORDS) == set(CURRENT_KEYWORDS)


@pytest.mark.parametrize("word", KEYWORDS)
def test_every_keyword_is_a_keyword(word: str) -> None:
    (kind, value), *_ = lex(f"{word} ")
    assert value == word and kind in Token.Keyword
    # ... but not inside a longer name, nor after a dot
    assert lex(f"{word}x")[0] == (Token.Name.Class if word[0].isupper() else Token.Name,
                                  f"{word}x")
    assert (Token.Name.Attribute, word) in lex(f"m.{word}")


# Text made of the characters that open and close the lexer's states, so the examples reach
# every state (strings, f-strings inside f-strings, comments, ...) and every way of leaving it.
TRICKY = st.text(alphabet='f"{}\\/*u\n 0.9e-+$?#é:=>|!ab\t', max_size=200)


@settings(max_examples=400, deadline=None)
@given(st.one_of(TRICKY, st.text(max_size=200)))
def test_any_text_lexes(text: str) -> None:
    with time_limit(5):
        tokens = lex(text)
    assert "".join(value for _, value in tokens) == text
    assert not [value for kind, value in tokens if kind in Error]


# ---------------------------------------------------------------------------- installed
def test_entry_point_names_the_lexer() -> None:
    found = [ep for ep in entry_points(group="pygments.lexers") if ep.name == "fluentai"]
    assert found, "no pygments.lexers entry point 'fluentai': pip install -e . again?"
    assert found[0].load() is FluentAILexer
    for alias in ("fluentai", "flc"):
        assert isinstance(get_lexer_by_name(alias), FluentAILexer)
    assert isinstance(get_lexer_for_filename("chat.flc"), FluentAILexer)


def _pygmentize() -> list[str]:
    # The `pygmentize` script of this interpreter's environment (`python -m pygments` is the
    # same program, for an environment without scripts on disk).
    script = shutil.which("pygmentize", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "pygments"]


def test_pygmentize(tmp_path: Path) -> None:
    source = tmp_path / "hello.flc"
    source.write_text('function main() { print(f"hi {1 + 2}") } // go\n', encoding="utf-8")
    run = subprocess.run([*_pygmentize(), "-l", "fluentai", "-f", "raw", str(source)],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    for line in ("Token.Keyword.Declaration\t'function'", "Token.Name.Function\t'main'",
                 "Token.Literal.String.Interpol\t'{'", "Token.Literal.Number.Integer\t'1'",
                 "Token.Comment.Single\t'// go'"):
        assert line in run.stdout.splitlines(), run.stdout
    # Without -l, the file name alone chooses the lexer.
    guessed = subprocess.run([*_pygmentize(), "-N", str(source)], capture_output=True,
                             text=True, timeout=60, check=False)
    assert guessed.stdout.strip() == "fluentai"

"""The REPL's colours: the prompt_toolkit lexer of the text being typed and its style.

FluentAI input is highlighted by the same Pygments lexer as `pygmentize` and the
documentation (`pygments_lexer.FluentAILexer`), so the prompt never disagrees with them; this
module only maps its token types to terminal colours. A `:command` line is not FluentAI and
gets a colour of its own. Imported only when the REPL runs on a terminal (prompt_toolkit
and Pygments load with it).
"""

from __future__ import annotations

from collections.abc import Callable as Fn

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer, PygmentsLexer
from prompt_toolkit.styles import BaseStyle, Style, merge_styles, style_from_pygments_dict
from pygments.token import Comment, Keyword, Name, Number, String, _TokenType

from .pygments_lexer import FluentAILexer

# ANSI colour names, so the terminal's own palette (light or dark) decides the shades.
# A token type covers its subtypes (Keyword covers Keyword.Declaration, String covers
# String.Escape); the more specific entry wins for the attributes it sets.
TOKEN_STYLES: dict[_TokenType, str] = {
    Keyword: "ansimagenta bold",
    Keyword.Constant: "ansimagenta nobold",  # true false nil null
    String: "ansigreen",
    String.Interpol: "ansiyellow",  # an f-string's `{` and `}`
    Number: "ansicyan",
    Comment: "ansibrightblack italic",
    Name.Builtin: "ansiyellow",  # the effect of `perform Effect.op`
    Name.Class: "ansiyellow",  # capitalised names: types, effects, namespaces
}
COMMAND_CLASS = "class:fl-command"
COMMAND_STYLE = {"fl-command": "ansiblue bold"}


def style() -> BaseStyle:
    return merge_styles([style_from_pygments_dict(TOKEN_STYLES), Style.from_dict(COMMAND_STYLE)])


class InputLexer(Lexer):
    """The prompt's lexer: a `:command` in the command colour, anything else as FluentAI.
    Lexing starts at the top of the input every time (`sync_from_start`): an input is a
    few lines, and a string or comment opened on an earlier line must colour the next."""

    def __init__(self) -> None:
        self._fluentai = PygmentsLexer(FluentAILexer, sync_from_start=True)

    def lex_document(self, document: Document) -> Fn[[int], StyleAndTextTuples]:
        if document.text.lstrip().startswith(":"):
            lines = document.lines

            def command_line(lineno: int) -> StyleAndTextTuples:
                return [(COMMAND_CLASS, lines[lineno])] if 0 <= lineno < len(lines) else []
            return command_line
        return self._fluentai.lex_document(document)

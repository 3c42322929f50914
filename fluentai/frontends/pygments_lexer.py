"""The Pygments lexer of FluentAI (`.flc`): the one highlighter of the project. The REPL
colours its input with it (through prompt_toolkit), `pygmentize -l fluentai` and
documentation tools (Sphinx, MkDocs) find it through the `pygments.lexers` entry point.

It follows `grammar/fluentai.lark` token by token but is tolerant where the parser is
strict: text the language rejects (`#`, `@`, a non-ASCII letter, an unterminated string or
comment) is still highlighted as well as it can be and never becomes an `Error` token, so
half-typed input at the prompt and the error examples of the documentation look right.
It also knows the keywords the language is about to gain (`struct`, `enum`, `impl`, ...),
so highlighting does not have to change when they land.
"""

from __future__ import annotations

from typing import ClassVar

from pygments.lexer import RegexLexer, bygroups, include, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

__all__ = ["CONSTANTS", "DECLARATIONS", "KEYWORDS", "FluentAILexer"]

# The keywords of grammar/fluentai.lark, and those of the constructs being added.
CURRENT_KEYWORDS = (
    "async", "break", "catch", "const", "continue", "else", "false", "finally", "for",
    "function", "handle", "if", "in", "let", "loop", "match", "mut", "nil", "null",
    "perform", "private", "public", "return", "throw", "true", "try", "use", "when", "while",
    "with",
)
COMING_KEYWORDS = (
    "struct", "enum", "trait", "impl", "mod", "spawn", "as", "Self", "self",
    "Ok", "Err", "Some", "None", "type",
)
KEYWORDS = CURRENT_KEYWORDS + COMING_KEYWORDS
CONSTANTS = ("true", "false", "nil", "null")
# Words that introduce a name (Keyword.Declaration, a kind of Keyword).
DECLARATIONS = ("function", "let", "const", "struct", "enum", "trait", "impl", "type")

# The language's identifiers are ASCII (`[A-Za-z_][A-Za-z0-9_]*`). A keyword must not run
# on into a longer name, and `\b` would count `é` as part of a word: spell the boundary out.
_END = r"(?![A-Za-z0-9_])"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# Escapes the language accepts in strings and f-strings (docs/language.md, Lexical rules).
_ESCAPE = r'\\(?:[ntr\\"\'0]|u\{[0-9A-Fa-f]{1,6}\})'


class FluentAILexer(RegexLexer):
    """FluentAI source: keywords, declarations, strings with escapes, f-strings whose
    `{…}` hold code (nested strings and f-strings included), `\"\"\"` strings, numbers,
    comments, operators, `perform Effect.op`."""

    name = "FluentAI"
    aliases: ClassVar[list[str]] = ["fluentai", "flc"]
    filenames: ClassVar[list[str]] = ["*.flc"]
    mimetypes: ClassVar[list[str]] = ["text/x-fluentai"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            include("comments"),
            # Strings first: `"""` before `"`, and `f"` before the name `f`.
            (r'"""', String.Double, "triple-string"),
            (r'(f)(")', bygroups(String.Affix, String.Double), "fstring"),
            (r'"', String.Double, "string"),
            # A number may not run into letters in the language; here it simply ends.
            (r"[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?", Number.Float),
            (r"[0-9]+[eE][+-]?[0-9]+", Number.Float),
            (r"[0-9]+", Number.Integer),
            # `perform Effect.op(...)`: the effect is a name the runtime provides.
            (rf"(perform)(\s+)({_NAME})(?:(\s*)(\.)(\s*)({_NAME}))?",
             bygroups(Keyword, Whitespace, Name.Builtin, Whitespace, Punctuation,
                      Whitespace, Name.Function)),
            (rf"(function)(\s+)({_NAME})",
             bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            (rf"(struct|enum|trait)(\s+)({_NAME})",
             bygroups(Keyword.Declaration, Whitespace, Name.Class)),
            (rf"(mod|use)(\s+)({_NAME})", bygroups(Keyword.Namespace, Whitespace, Name.Namespace)),
            # `.await()` waits for a promise; otherwise any word after a `.` is a field or
            # method name, keywords included (`msg.type`, `x.match`).
            (rf"(\.)(\s*)(await){_END}", bygroups(Punctuation, Whitespace, Keyword)),
            (rf"(\.(?!\.))(\s*)({_NAME})(?=\s*\()",
             bygroups(Punctuation, Whitespace, Name.Function)),
            (rf"(\.(?!\.))(\s*)({_NAME})", bygroups(Punctuation, Whitespace, Name.Attribute)),
            (rf"(\.\?)(\s*)({_NAME})", bygroups(Operator, Whitespace, Name.Attribute)),
            (words(CONSTANTS, suffix=_END), Keyword.Constant),
            (words(DECLARATIONS, suffix=_END), Keyword.Declaration),
            (words(("use", "mod"), suffix=_END), Keyword.Namespace),
            (words(KEYWORDS, suffix=_END), Keyword),
            # Capitalised names are types, effects and namespaces (`Promise.all`, `User`).
            (r"[A-Z][A-Za-z0-9_]*", Name.Class),
            (_NAME, Name),
            (r"\$(?=\s*\()", Operator),  # `$(expr)`: the printable text of a value
            (words(("...", "..=", "..", "=>", "|>", "->", "::", ":=", "**", "==", "!=",
                    "<=", ">=", "&&", "||", "+=", "-=", "*=", "/=", "%=")), Operator),
            (r"[-+*/%=<>!|&?^~]", Operator),
            (r"[()\[\]{},;:.]", Punctuation),
            # Characters the language rejects (`#`, `@`, `é`, ...): plain text, never Error.
            (r".", Text),
        ],
        "comments": [
            (r"//[^\n]*", Comment.Single),
            (r"/\*", Comment.Multiline, "block-comment"),
        ],
        "block-comment": [
            # Block comments do not nest; one left open runs to the end of the text.
            (r"[^*]+", Comment.Multiline),
            (r"\*/", Comment.Multiline, "#pop"),
            (r"\*", Comment.Multiline),
        ],
        "escapes": [
            (_ESCAPE, String.Escape),
            # Any other escape is a syntax error in the language: shown as string text.
            (r"\\(?:.|\n)?", String.Double),
        ],
        "string": [
            (r'[^"\\]+', String.Double),
            include("escapes"),
            (r'"', String.Double, "#pop"),
        ],
        "triple-string": [
            # Several lines, no interpolation.
            (r'[^"\\]+', String.Double),
            include("escapes"),
            (r'"""', String.Double, "#pop"),
            (r'"', String.Double),
        ],
        "fstring": [
            (r'[^"\\{}]+', String.Double),
            include("escapes"),
            (r"\{\{|\}\}", String.Escape),  # literal braces
            (r"\{", String.Interpol, "fstring-expr"),
            (r"\}", String.Double),  # a lone `}` is a syntax error; still text here
            (r'"', String.Double, "#pop"),
        ],
        "fstring-expr": [
            # Code up to the `}` that closes the interpolation; braces of blocks and maps
            # inside it are counted so that their `}` does not end it.
            (r"\}", String.Interpol, "#pop"),
            (r"\{", Punctuation, "fstring-braces"),
            include("root"),
        ],
        "fstring-braces": [
            (r"\}", Punctuation, "#pop"),
            (r"\{", Punctuation, "#push"),
            include("root"),
        ],
    }

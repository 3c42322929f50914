"""The Lark parser object for `grammar/fluentai.lark`: LALR(1) with the contextual lexer,
built once per process (Lark caches its tables on disk between runs). The parser and the
error rewriter both use it."""

from __future__ import annotations

from functools import lru_cache

from lark import Lark

from .resources import grammar_path


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,
    )

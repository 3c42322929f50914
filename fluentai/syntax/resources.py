"""Locating the data files bundled with FluentAI: the Lark grammar and the stdlib modules.

This module is the one place that knows where those files live:

* in an installed wheel they are package data, at ``fluentai/_data/grammar/fluentai.lark``
  and ``fluentai/_data/stdlib/`` (copied there by the build, see ``pyproject.toml``);
* in a source checkout or an editable install there is no ``fluentai/_data``, and they are
  read in place from the repository's top-level ``grammar/`` and ``stdlib/`` folders.

Everything else should call :func:`grammar_path` and :func:`stdlib_dir` rather than build
paths from ``__file__`` itself.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["grammar_path", "stdlib_dir"]

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # fluentai/
_BUNDLED_DIR = _PACKAGE_DIR / "_data"  # installed wheel
_SOURCE_ROOT = _PACKAGE_DIR.parent  # source checkout / editable install

_GRAMMAR_FILE = Path("grammar") / "fluentai.lark"
_STDLIB_DIR = Path("stdlib")


def grammar_path() -> Path:
    """Return the path of the FluentAI Lark grammar (``fluentai.lark``)."""
    bundled = _BUNDLED_DIR / _GRAMMAR_FILE
    if bundled.is_file():
        return bundled
    return _SOURCE_ROOT / _GRAMMAR_FILE


def stdlib_dir() -> Path:
    """Return the directory holding the standard-library modules (``<name>.flc``)."""
    bundled = _BUNDLED_DIR / _STDLIB_DIR
    if bundled.is_dir():
        return bundled
    return _SOURCE_ROOT / _STDLIB_DIR

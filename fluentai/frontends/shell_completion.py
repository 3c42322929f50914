"""Shell completion scripts for `fluentai`, made from the command table of `cli.py`:
`fluentai completion bash` and `fluentai completion zsh` print them (docs: README.md,
"Shell completion").

Both scripts complete the same things: the subcommands (and, in their place, `.flc` files
and folders: `fluentai FILE.flc` runs a program), each subcommand's options, `.flc` files
and folders where a program is expected, the shells after `completion`, nothing after an
option that takes a value (`--cluster URL`), and ordinary file names for a program's own
arguments once its file is given.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

TOP_OPTIONS = ("--help", "--version")
SHELLS = ("bash", "zsh")


def _options(parser: argparse.ArgumentParser) -> tuple[list[str], list[str]]:
    """A parser's long options, and those of them that take a value."""
    every: list[str] = []
    valued: list[str] = []
    for action in parser._actions:  # argparse has no public list of a parser's options
        longs = [o for o in action.option_strings if o.startswith("--")]
        every += longs
        if action.nargs != 0:
            valued += longs
    return every, valued


def _table(commands: Mapping[str, Any]) -> list[tuple[str, str, list[str], list[str], str]]:
    rows = []
    for name, command in commands.items():
        every, valued = _options(command.parser())
        rows.append((name, command.summary, every, valued, command.completes))
    return rows


def script(shell: str, commands: Mapping[str, Any]) -> str:
    rows = _table(commands)
    return _bash(rows) if shell == "bash" else _zsh(rows)


def _valued(rows: list[tuple[str, str, list[str], list[str], str]]) -> str:
    return "|".join(sorted({o for row in rows for o in row[3]}))


def _bash(rows: list[tuple[str, str, list[str], list[str], str]]) -> str:
    names = " ".join(r[0] for r in rows)
    run_options = next(r[2] for r in rows if r[0] == "run")
    top = " ".join([*TOP_OPTIONS, *(o for o in run_options if o != "--help")])
    cases = "\n".join(
        f"        {name}) opts=\"{' '.join(opts)}\"; kind=\"{kind}\" ;;"
        for name, _, opts, _, kind in rows)
    return f"""\
# bash completion for fluentai: eval "$(fluentai completion bash)" in ~/.bashrc
_fluentai_flc() {{
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -X '!*.flc' -- "$1") $(compgen -d -- "$1"))
}}

_fluentai() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local cmd="" given=0 i word opts="" kind=""
    COMPREPLY=()
    case $prev in
        {_valued(rows)}) return 0 ;;
    esac
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        case $word in
            {_valued(rows)}) ((i++)) ;;
            -*) ;;
            *) if [[ -z $cmd ]]; then cmd=$word; else ((given++)); fi ;;
        esac
    done
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "{top}" -- "$cur"))
        else
            _fluentai_flc "$cur"
            COMPREPLY+=($(compgen -W "{names}" -- "$cur"))
        fi
        return 0
    fi
    case $cmd in
{cases}
        *) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    esac
    if [[ $cur == -* && $given -eq 0 ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ $kind == file && $given -eq 0 ]]; then
        _fluentai_flc "$cur"
    elif [[ $kind == file && $cmd == run ]]; then
        compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))
    elif [[ $kind == shell && $given -eq 0 ]]; then
        COMPREPLY=($(compgen -W "{' '.join(SHELLS)}" -- "$cur"))
    fi
    return 0
}}
complete -F _fluentai fluentai
"""


def _zsh(rows: list[tuple[str, str, list[str], list[str], str]]) -> str:
    described = "\n".join(f"    '{name}:{summary.replace(chr(39), '')}'"
                          for name, summary, _, _, _ in rows)
    run_options = next(r[2] for r in rows if r[0] == "run")
    top = " ".join([*TOP_OPTIONS, *(o for o in run_options if o != "--help")])
    cases = "\n".join(
        f"    {name}) opts=({' '.join(opts)}); kind={kind or 'none'} ;;"
        for name, _, opts, _, kind in rows)
    return f"""\
#compdef fluentai
# zsh completion for fluentai: eval "$(fluentai completion zsh)" in ~/.zshrc, after compinit
_fluentai() {{
  local -a commands opts
  commands=(
{described}
  )
  local cmd="" given=0 i word kind=""
  case ${{words[CURRENT-1]}} in
    {_valued(rows)}) _message 'value'; return 0 ;;
  esac
  for ((i = 2; i < CURRENT; i++)); do
    word=${{words[i]}}
    case $word in
      {_valued(rows)}) ((i++)) ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=$word; else ((given++)); fi ;;
    esac
  done
  if [[ -z $cmd ]]; then
    if [[ $PREFIX == -* ]]; then
      compadd -- {top}
    else
      _describe -t commands 'fluentai command' commands
      _files -g '*.flc'
    fi
    return 0
  fi
  case $cmd in
{cases}
    *) _files; return 0 ;;
  esac
  if [[ $PREFIX == -* && $given -eq 0 ]]; then
    compadd -- $opts
  elif [[ $kind == file && $given -eq 0 ]]; then
    _files -g '*.flc'
  elif [[ $kind == file && $cmd == run ]]; then
    _files
  elif [[ $kind == shell && $given -eq 0 ]]; then
    compadd -- {' '.join(SHELLS)}
  fi
  return 0
}}
if [[ ${{zsh_eval_context[-1]}} == loadautofunc ]]; then
  _fluentai "$@"  # autoloaded from $fpath as the file _fluentai: complete right away
elif (( $+functions[compdef] )); then
  compdef _fluentai fluentai
fi
"""

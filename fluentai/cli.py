"""The `fluentai` command line: `run`, `check`, `repl`, `--version` (SPEC §8)."""

from __future__ import annotations

import argparse
import sys

from . import __version__

USAGE = """\
usage: fluentai run [--deterministic] FILE.flc [args...]
       fluentai check FILE.flc
       fluentai [repl]
       fluentai --version | --help"""

HELP = f"""{USAGE}

Commands:
  run      run a program; anything after FILE is passed to it as the list `args`
  check    report syntax errors and undefined names without running
  repl     an interactive session (the default with no arguments)

Options:
  --deterministic   fixed clock advancing with sleeps, seeded Random, predictable ids
  --version         print the version
  -h, --help        show this help

Exit status: 0 success, 1 program error, 2 usage error.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"fluentai: {message}\n{USAGE}\n")
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] == "repl":
        from .repl import main as repl_main

        return repl_main(args[1:])
    head = args[0]
    if head in ("-h", "--help", "help"):
        sys.stdout.write(HELP)
        return 0
    if head in ("-V", "--version"):
        sys.stdout.write(f"fluentai {__version__}\n")
        return 0
    if head == "run":
        parser = _Parser(prog="fluentai run", add_help=True)
        parser.add_argument("--deterministic", action="store_true")
        parser.add_argument("file")
        parser.add_argument("args", nargs=argparse.REMAINDER)
        ns = parser.parse_args(args[1:])
        from .interpreter import run_path

        return run_path(ns.file, ns.args, deterministic=ns.deterministic)
    if head == "check":
        parser = _Parser(prog="fluentai check", add_help=True)
        parser.add_argument("file")
        ns = parser.parse_args(args[1:])
        from .checker import check_path

        return check_path(ns.file)
    if head.endswith(".flc"):
        from .interpreter import run_path

        return run_path(head, args[1:])
    sys.stderr.write(f"fluentai: unknown command '{head}'\n{USAGE}\n")
    return 2

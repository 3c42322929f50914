"""The `fluentai` command line: `run`, `check`, `repl`, `lsp`, `--version` (SPEC §8)."""

from __future__ import annotations

import argparse
import os
import sys

from .. import __version__

USAGE = """\
usage: fluentai run [--deterministic] [--cluster URL [--workers N]] FILE.flc [args...]
       fluentai check FILE.flc
       fluentai [repl]
       fluentai lsp [--stdio]
       fluentai --version | --help"""

HELP = f"""{USAGE}

Commands:
  run      run a program; anything after FILE is passed to it as the list `args`
  check    report syntax errors and undefined names without running
  repl     an interactive session (the default with no arguments)
  lsp      the language server for editors, over stdin and stdout (needs the lsp extra:
           pip install 'fluentai[lsp]'; see docs/editors.md)

Options:
  --deterministic   fixed clock advancing with sleeps, seeded Random, predictable ids
  --cluster URL     servers join a cluster through Redis at URL (redis://HOST:PORT[/DB]);
                    default: the FLUENTAI_CLUSTER environment variable (docs/scaling.md)
  --workers N       run N processes of the program sharing its ports (needs --cluster)
  --version         print the version
  -h, --help        show this help

Exit status: 0 success, 1 program error, 2 usage error.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"fluentai: {message}\n{USAGE}\n")
        raise SystemExit(2)


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes >= 1, got '{text}'")
    return n


def _cluster_problem(url: str) -> str | None:
    """Why `url` cannot be used for --cluster, or None."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return (f"--cluster expects a Redis URL like redis://HOST:PORT[/DB], got '{url}'")
    import importlib.util

    if importlib.util.find_spec("redis") is None:
        return ("--cluster needs the redis package (redis-py): "
                "pip install 'fluentai[cluster]'")
    return None


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
        parser.add_argument("--cluster", metavar="URL")
        parser.add_argument("--workers", metavar="N", type=_positive)
        parser.add_argument("file")
        parser.add_argument("args", nargs=argparse.REMAINDER)
        ns = parser.parse_args(args[1:])
        cluster = ns.cluster if ns.cluster is not None else os.environ.get("FLUENTAI_CLUSTER") or None
        if ns.workers is not None and cluster is None:
            parser.error("--workers needs --cluster URL (or FLUENTAI_CLUSTER): the workers "
                         "act as one server through Redis")
        if cluster is not None:
            problem = _cluster_problem(cluster)
            if problem:
                parser.error(problem)
        if ns.workers is not None:
            from ..server.workers import run_workers

            return run_workers(ns.workers, ns.file, ns.args, cluster=cluster or "",
                               deterministic=ns.deterministic)
        from ..interpreter import run_path

        return run_path(ns.file, ns.args, deterministic=ns.deterministic, cluster=cluster)
    if head == "check":
        parser = _Parser(prog="fluentai check", add_help=True)
        parser.add_argument("file")
        ns = parser.parse_args(args[1:])
        from .check import check_path

        return check_path(ns.file)
    if head == "lsp":
        parser = _Parser(prog="fluentai lsp", add_help=True,
                         description="The FluentAI language server (LSP over stdin and "
                                     "stdout); editors start it. Needs the lsp extra: "
                                     "pip install 'fluentai[lsp]'. See docs/editors.md.")
        parser.add_argument("--stdio", action="store_true",
                            help="talk over stdin and stdout (the default and only transport; "
                                 "accepted because editors' clients pass it)")
        parser.parse_args(args[1:])
        from .lsp.command import main as lsp_main

        return lsp_main()
    if head.endswith(".flc"):
        from ..interpreter import run_path

        return run_path(head, args[1:])
    sys.stderr.write(f"fluentai: unknown command '{head}'\n{USAGE}\n")
    return 2

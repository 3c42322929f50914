"""The `fluentai` command line (SPEC §8): `run`, `check`, `repl`, `lsp`, `completion`, `--version`,
`--help`, and `fluentai FILE.flc [args]` for `run`.

Every subcommand is declared once, in `COMMANDS`: its one-line summary, its arguments and
options (an argparse parser, which also gives `fluentai CMD --help`), examples, and what it
runs. The overall help, usage errors and the shell completion scripts (`shell_completion.py`) are
all made from that table, so adding a subcommand is adding one entry.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from .. import __version__
from ..syntax.suggest import closest
from .shell_completion import SHELLS, script

EXIT_STATUS = "Exit status: 0 success, 1 program error, 2 usage error."


@dataclass(frozen=True)
class Command:
    name: str
    synopsis: str  # its arguments, as the usage line shows them
    summary: str  # one line, for `fluentai --help`
    declare: Callable[[argparse.ArgumentParser], None]  # its arguments and options
    run: Callable[[argparse.Namespace], int]
    examples: tuple[str, ...]
    completes: str = ""  # what its first positional is: "file" (a .flc file), "shell"
    details: Callable[[], str] | None = None  # more text for its --help, after the summary

    def parser(self, prog: str | None = None) -> _Parser:
        lines = "\n".join(f"  {e}" for e in self.examples)
        prog = prog or f"fluentai {self.name}"
        parser = _Parser(
            prog=prog,
            usage=f"{prog} {self.synopsis}",
            description=self.summary[0].upper() + self.summary[1:] + "."
            + (f"\n\n{self.details()}" if self.details else ""),
            epilog=f"examples:\n{lines}\n\n{EXIT_STATUS}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        self.declare(parser)
        return parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: {message}\n{self.format_usage()}"
                         f"(more: {self.prog} --help)\n")
        raise SystemExit(2)


# ---------------------------------------------------------------------------- run

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


def _file_argument(parser: argparse.ArgumentParser, what: str) -> None:
    # Optional for argparse so that a missing file gets our message, not argparse's.
    parser.add_argument("file", metavar="FILE.flc", nargs="?", help=what)


def _declare_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--deterministic", action="store_true",
                        help="fixed clock advancing with sleeps, seeded Random, predictable "
                             "ids (for tests and reproducible output)")
    parser.add_argument("--reload", action="store_true",
                        help="reload the program's functions when its files change, "
                             "connections kept open (docs/reload.md)")
    parser.add_argument("--cluster", metavar="URL",
                        help="servers join a cluster through Redis at URL "
                             "(redis://HOST:PORT[/DB]); default: the FLUENTAI_CLUSTER "
                             "environment variable (docs/scaling.md)")
    parser.add_argument("--workers", metavar="N", type=_positive,
                        help="run N processes of the program sharing its ports "
                             "(needs --cluster)")
    _file_argument(parser, "the program to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, metavar="args...",
                        help="passed to the program as the list `args`")


def _run(ns: argparse.Namespace) -> int:
    parser: _Parser = ns.parser
    if ns.file is None:
        parser.error("missing FILE.flc: the program to run "
                     "(for example: fluentai run examples/hello.flc)")
    cluster = ns.cluster if ns.cluster is not None else os.environ.get("FLUENTAI_CLUSTER") or None
    if ns.workers is not None and cluster is None:
        parser.error("--workers needs --cluster URL (or FLUENTAI_CLUSTER): the workers "
                     "act as one server through Redis")
    if cluster is not None:
        problem = _cluster_problem(cluster)
        if problem:
            parser.error(problem)
    if ns.reload:
        from ..interpreter.watch import watchfiles_missing

        if problem := watchfiles_missing():
            parser.error(problem)
    if ns.workers is not None:
        from ..server.workers import run_workers

        return run_workers(ns.workers, ns.file, ns.args, cluster=cluster or "",
                           deterministic=ns.deterministic, reload=ns.reload)
    from ..interpreter import run_path

    return run_path(ns.file, ns.args, deterministic=ns.deterministic, cluster=cluster,
                    reload=ns.reload)


# ---------------------------------------------------------------------------- check, repl

def _declare_check(parser: argparse.ArgumentParser) -> None:
    _file_argument(parser, "the program to check (the modules it uses are checked too)")


def _check(ns: argparse.Namespace) -> int:
    if ns.file is None:
        ns.parser.error("missing FILE.flc: the program to check "
                        "(for example: fluentai check examples/match.flc)")
    from .check import check_path

    return check_path(ns.file)


def _declare_repl(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--deterministic", action="store_true",
                        help="fixed clock advancing with sleeps, seeded Random, predictable "
                             "ids")


def _repl_details() -> str:
    from .repl import _help_text

    return _help_text().rstrip()


def _repl(ns: argparse.Namespace) -> int:
    from .repl import main as repl_main

    return repl_main(["--deterministic"] if ns.deterministic else [])


# ---------------------------------------------------------------------------- completion

def _declare_lsp(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stdio", action="store_true",
                        help="talk over stdin and stdout (the default and only transport; "
                             "accepted because editors' clients pass it)")


def _lsp(ns: argparse.Namespace) -> int:
    from .lsp.command import main as lsp_main

    return lsp_main()


def _declare_completion(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", metavar="SHELL", nargs="?",
                        help=f"the shell to complete in: {' or '.join(SHELLS)}")


def _completion(ns: argparse.Namespace) -> int:
    if ns.shell is None:
        ns.parser.error(f"missing SHELL: {' or '.join(SHELLS)} "
                        f"(for example: fluentai completion bash)")
    if ns.shell not in SHELLS:
        ns.parser.error(f"unknown shell '{ns.shell}': expected {' or '.join(SHELLS)}")
    sys.stdout.write(script(ns.shell, COMMANDS))
    return 0


# ---------------------------------------------------------------------------- the table

COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("run", "[--deterministic] [--reload] [--cluster URL [--workers N]] FILE.flc "
                   "[args...]",
            "run a program; anything after FILE.flc is passed to it as the list `args`",
            _declare_run, _run,
            ("fluentai run examples/hello.flc",
             "fluentai run --deterministic examples/async.flc",
             "fluentai run --reload examples/chat.flc",
             "fluentai examples/hello.flc a b      (the same as run, with args [\"a\", \"b\"])"),
            completes="file"),
    Command("check", "FILE.flc", "report syntax errors and undefined names without running",
            _declare_check, _check, ("fluentai check examples/match.flc",), completes="file"),
    Command("repl", "[--deterministic]", "an interactive session (the default with no arguments)",
            _declare_repl, _repl, ("fluentai repl", "fluentai"), details=_repl_details),
    Command("lsp", "[--stdio]",
            "the language server for editors, over stdin and stdout (needs the lsp extra: "
            "pip install 'fluentai[lsp]'; see docs/editors.md)",
            _declare_lsp, _lsp, ("fluentai lsp      (editors start it; see docs/editors.md)",)),
    Command("completion", "bash|zsh", "print the shell completion script for bash or zsh",
            _declare_completion, _completion,
            ('eval "$(fluentai completion bash)"      (in ~/.bashrc)',
             'eval "$(fluentai completion zsh)"       (in ~/.zshrc, after compinit)'),
            completes="shell"),
)}


def usage() -> str:
    run = COMMANDS["run"].parser().format_usage().removeprefix("usage: ").strip()
    lines = [f"usage: {run}", "       fluentai FILE.flc [args...]      (the same as run)"]
    for command in COMMANDS.values():
        if command.name != "run":
            lines.append("       " + command.parser().format_usage()
                         .removeprefix("usage: ").strip())
    lines.append("       fluentai --version | --help")
    return "\n".join(lines)


def help_text() -> str:
    width = max(len(name) for name in COMMANDS) + 2
    commands = "\n".join(f"  {name:<{width}}{c.summary}" for name, c in COMMANDS.items())
    return (f"{usage()}\n\nCommands:\n{commands}\n\n"
            f"Options of run (also before FILE.flc without 'run'):\n"
            f"  --deterministic   fixed clock advancing with sleeps, seeded Random, "
            f"predictable ids\n"
            f"  --reload          reload the program's functions when its files change, "
            f"connections\n"
            f"                    kept open (docs/reload.md)\n"
            f"  --cluster URL     servers join a cluster through Redis at URL "
            f"(redis://HOST:PORT[/DB]);\n"
            f"                    default: the FLUENTAI_CLUSTER environment variable "
            f"(docs/scaling.md)\n"
            f"  --workers N       run N processes of the program sharing its ports "
            f"(needs --cluster)\n\n"
            f"Other options:\n"
            f"  --version         print the version\n"
            f"  -h, --help        show this help; 'fluentai COMMAND --help' for one command\n\n"
            f"{EXIT_STATUS}\n")


def _usage_error(message: str) -> int:
    sys.stderr.write(f"fluentai: {message}\n{usage()}\n")
    return 2


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        return COMMANDS["repl"].run(argparse.Namespace(deterministic=False))
    head = args[0]
    if head in ("-h", "--help"):
        sys.stdout.write(help_text())
        return 0
    if head == "help":
        if len(args) > 1 and args[1] in COMMANDS:
            sys.stdout.write(COMMANDS[args[1]].parser().format_help())
        else:
            sys.stdout.write(help_text())
        return 0
    if head in ("-V", "--version"):
        sys.stdout.write(f"fluentai {__version__}\n")
        return 0
    if head in COMMANDS:
        return _dispatch(COMMANDS[head], args[1:])
    if head.startswith("-") or head.endswith(".flc") or os.path.isdir(head):
        # `fluentai [run options] FILE.flc [args]`: a run without the word.
        return _dispatch(COMMANDS["run"], args, prog="fluentai")
    if os.path.isfile(head):
        return _usage_error(f"'{head}' is not a .flc file: FluentAI programs end in .flc "
                            f"(to run it anyway: fluentai run {head})")
    guess = closest(head, COMMANDS)
    hint = f"; did you mean '{guess}'?" if guess else " (to run a program, name its .flc file)"
    return _usage_error(f"unknown command '{head}'{hint}")


def _dispatch(command: Command, args: list[str], prog: str | None = None) -> int:
    parser = command.parser(prog)
    ns = parser.parse_args(args)
    ns.parser = parser
    return command.run(ns)

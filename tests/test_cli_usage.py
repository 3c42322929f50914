"""The command line's own messages: usage errors that name what is missing, each
subcommand's `--help`, `fluentai FILE.flc` taking `run`'s options, files that are not
programs, and the shell completion scripts (`fluentai completion bash|zsh`), run in a real
bash and zsh.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fluentai.frontends import cli

TIMEOUT = 60


def fluentai(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FLUENTAI_DEBUG", "FLUENTAI_CLUSTER")}
    return subprocess.run([sys.executable, "-m", "fluentai", *args], cwd=cwd, env=env,
                          input="", capture_output=True, text=True, timeout=TIMEOUT)


# ---- usage errors

@pytest.mark.parametrize(("args", "first_lines"), [
    (["run"], ["fluentai run: missing FILE.flc: the program to run (for example: fluentai run "
               "examples/hello.flc)",
               "usage: fluentai run [--deterministic] [--reload] [--cluster URL [--workers N]] FILE.flc "
               "[args...]",
               "(more: fluentai run --help)"]),
    (["run", "--deterministic"],
     ["fluentai run: missing FILE.flc: the program to run (for example: fluentai run "
      "examples/hello.flc)"]),
    (["check"], ["fluentai check: missing FILE.flc: the program to check (for example: "
                 "fluentai check examples/match.flc)",
                 "usage: fluentai check FILE.flc",
                 "(more: fluentai check --help)"]),
    (["completion"], ["fluentai completion: missing SHELL: bash or zsh (for example: fluentai "
                      "completion bash)"]),
    (["completion", "fish"], ["fluentai completion: unknown shell 'fish': expected bash or zsh"]),
    (["rnu", "prog.flc"], ["fluentai: unknown command 'rnu'; did you mean 'run'?"]),
    (["frobnicate"], ["fluentai: unknown command 'frobnicate' (to run a program, name its .flc "
                      "file)"]),
    (["notes.txt"], ["fluentai: 'notes.txt' is not a .flc file: FluentAI programs end in .flc "
                     "(to run it anyway: fluentai run notes.txt)"]),
    (["--deterministic"], ["fluentai: missing FILE.flc: the program to run (for example: "
                           "fluentai run examples/hello.flc)"]),
])
def test_usage_errors_name_what_is_missing(tmp_path: Path, args: list[str],
                                           first_lines: list[str]) -> None:
    (tmp_path / "notes.txt").write_text("print(1)\n", encoding="utf-8")
    done = fluentai(*args, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.split("\n")[:len(first_lines)] == first_lines
    assert "the following arguments are required" not in done.stderr


def test_a_non_flc_file_still_runs_with_run(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("print(1)\n", encoding="utf-8")
    done = fluentai("run", "notes.txt", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "1\n", "")


# ---- fluentai FILE.flc takes run's options

def test_options_before_the_file_without_run(tmp_path: Path) -> None:
    (tmp_path / "prog.flc").write_text("print(perform Time.now())\nprint(args)\n",
                                       encoding="utf-8")
    done = fluentai("--deterministic", "prog.flc", "a", "--b", cwd=tmp_path)
    # --deterministic starts the clock at 2024-01-01T00:00:00Z; options after the file are
    # the program's.
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == '1704067200000\n["a", "--b"]\n'
    same = fluentai("run", "--deterministic", "prog.flc", "a", "--b", cwd=tmp_path)
    assert same.stdout == done.stdout


def test_an_unknown_option_before_the_file(tmp_path: Path) -> None:
    (tmp_path / "prog.flc").write_text("print(1)\n", encoding="utf-8")
    done = fluentai("--fast", "prog.flc", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("fluentai: unrecognized arguments: --fast\n"), done.stderr


# ---- help

@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_every_subcommand_help_describes_its_arguments_with_an_example(
        tmp_path: Path, name: str) -> None:
    done = fluentai(name, "--help", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith(f"usage: fluentai {name} ")
    examples = done.stdout.split("\nexamples:\n")[1]
    assert examples.startswith("  ") and f"fluentai {name}" in examples
    for action in cli.COMMANDS[name].parser()._actions:
        assert action.help, f"{name}: {action.dest} has no description"
        assert action.help.split()[0] in done.stdout
    assert fluentai("help", name, cwd=tmp_path).stdout == done.stdout


def test_overall_help_lists_every_subcommand(tmp_path: Path) -> None:
    done = fluentai("--help", cwd=tmp_path)
    for name, command in cli.COMMANDS.items():
        assert f"  {name}" in done.stdout and command.summary in done.stdout


# ---- shell completion

def complete_in_bash(script: str, cwd: Path, *words: str) -> list[str]:
    """COMPREPLY of the bash script for the command line `words` (the last is being typed)."""
    program = (f"{script}\nCOMP_WORDS=({' '.join(repr(w) for w in words)})\n"
               f"COMP_CWORD={len(words) - 1}\n_fluentai\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], cwd=cwd,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return sorted(line for line in done.stdout.split("\n") if line)


def complete_in_zsh(script: str, cwd: Path, *words: str) -> list[str]:
    """What the zsh script offers for `words`: the completion builtins it calls are stood in
    for by functions that print their arguments (there is no terminal to complete in)."""
    stubs = ("compadd() { shift; print -rl -- \"$@\"; }\n"
             "_files() { print -r -- \"<files $*>\"; }\n"
             "_describe() { local -a items; items=(\"${(@P)${@[-1]}}\"); "
             "print -rl -- \"${(@)items%%:*}\"; }\n"
             "_message() { print -r -- \"<message $*>\"; }\n")
    quoted = " ".join("'" + w + "'" for w in words)
    program = (f"{stubs}{script}\nwords=({quoted})\nCURRENT={len(words)}\n"
               f"PREFIX=${{words[CURRENT]}}\n_fluentai\n")
    done = subprocess.run(["zsh", "-f", "-c", program], cwd=cwd, capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return sorted(line for line in done.stdout.split("\n") if line)


def need(shell: str) -> None:
    if shutil.which(shell) is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{shell} is not installed: CI must test its completion "
                        f"(see SYSTEM_PACKAGES in .ci/run)", pytrace=False)
        pytest.skip(f"{shell} is not installed (Debian: apt-get install {shell}; .ci/run "
                    f"installs it)")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("a.flc", "b.flc", "notes.txt"):
        (tmp_path / name).write_text("print(1)\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    return tmp_path


BASH_CASES = [
    (("fluentai", ""), ["a.flc", "b.flc", "check", "completion", "lsp", "repl", "run", "sub"]),
    (("fluentai", "r"), ["repl", "run"]),
    (("fluentai", "--"), ["--cluster", "--deterministic", "--help", "--reload", "--version", "--workers"]),
    (("fluentai", "run", ""), ["a.flc", "b.flc", "sub"]),
    (("fluentai", "run", "--"), ["--cluster", "--deterministic", "--help", "--reload", "--workers"]),
    (("fluentai", "run", "--cluster", ""), []),
    (("fluentai", "run", "a.flc", ""), ["a.flc", "b.flc", "notes.txt", "sub"]),
    (("fluentai", "check", ""), ["a.flc", "b.flc", "sub"]),
    (("fluentai", "check", "a.flc", ""), []),
    (("fluentai", "completion", ""), ["bash", "zsh"]),
    (("fluentai", "a.flc", ""), ["a.flc", "b.flc", "notes.txt", "sub"]),
]


@pytest.mark.parametrize(("words", "offered"), BASH_CASES, ids=lambda v: " ".join(v)
                         if isinstance(v, tuple) else None)
def test_bash_completion(folder: Path, words: tuple[str, ...], offered: list[str]) -> None:
    need("bash")
    script = fluentai("completion", "bash", cwd=folder).stdout
    assert complete_in_bash(script, folder, *words) == offered


ZSH_CASES = [
    (("fluentai", ""), ["<files -g *.flc>", "check", "completion", "lsp", "repl", "run"]),
    (("fluentai", "--"), ["--cluster", "--deterministic", "--help", "--reload", "--version", "--workers"]),
    (("fluentai", "run", ""), ["<files -g *.flc>"]),
    (("fluentai", "run", "--"), ["--cluster", "--deterministic", "--help", "--reload", "--workers"]),
    (("fluentai", "run", "--cluster", ""), ["<message value>"]),
    (("fluentai", "run", "a.flc", ""), ["<files >"]),
    (("fluentai", "check", "a.flc", ""), []),
    (("fluentai", "completion", ""), ["bash", "zsh"]),
]


@pytest.mark.parametrize(("words", "offered"), ZSH_CASES, ids=lambda v: " ".join(v)
                         if isinstance(v, tuple) else None)
def test_zsh_completion(folder: Path, words: tuple[str, ...], offered: list[str]) -> None:
    need("zsh")
    script = fluentai("completion", "zsh", cwd=folder).stdout
    assert complete_in_zsh(script, folder, *words) == offered


def test_zsh_script_registers_itself_with_compinit(tmp_path: Path) -> None:
    need("zsh")
    script = fluentai("completion", "zsh", cwd=tmp_path).stdout
    program = f"autoload -U compinit && compinit -u -D\n{script}\nprint ${{_comps[fluentai]}}\n"
    done = subprocess.run(["zsh", "-f", "-c", program], cwd=tmp_path, capture_output=True,
                          text=True, timeout=TIMEOUT, env={**os.environ, "HOME": str(tmp_path)})
    assert (done.returncode, done.stdout) == (0, "_fluentai\n"), done.stderr


def test_zsh_script_as_a_file_on_fpath(tmp_path: Path) -> None:
    need("zsh")
    (tmp_path / "_fluentai").write_text(fluentai("completion", "zsh", cwd=tmp_path).stdout,
                                        encoding="utf-8")
    program = (f"fpath=({tmp_path} $fpath)\nautoload -U compinit && compinit -u -D\n"
               f"print ${{_comps[fluentai]}}\n")
    done = subprocess.run(["zsh", "-f", "-c", program], cwd=tmp_path, capture_output=True,
                          text=True, timeout=TIMEOUT, env={**os.environ, "HOME": str(tmp_path)})
    assert (done.returncode, done.stdout) == (0, "_fluentai\n"), done.stderr


def test_a_new_subcommand_is_one_entry_in_the_table(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # What another subcommand (an `lsp`, say) needs: one Command in COMMANDS; dispatch,
    # help and both completion scripts follow.
    def declare(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--stdio", action="store_true", help="talk over stdin and stdout")

    def run(ns: argparse.Namespace) -> int:
        print(f"served stdio={ns.stdio}")
        return 0

    extra = cli.Command("serve", "[--stdio]", "a subcommand added for this test", declare, run,
                        ("fluentai serve --stdio",))
    monkeypatch.setitem(cli.COMMANDS, "serve", extra)
    assert cli.main(["serve", "--stdio"]) == 0
    assert capsys.readouterr().out == "served stdio=True\n"
    assert "  serve       a subcommand added for this test" in cli.help_text()
    from fluentai.frontends.shell_completion import script

    for shell in cli.SHELLS:
        text = script(shell, cli.COMMANDS)
        assert "serve" in text and "--stdio" in text
    need("bash")
    assert complete_in_bash(script("bash", cli.COMMANDS), tmp_path, "fluentai", "se") == ["serve"]

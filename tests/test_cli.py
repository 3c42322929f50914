"""The command line as a user meets it (SPEC §8): `fluentai run`, `check`, `--version`,
`--help`, error reports on stderr and exit statuses 0 (success), 1 (program error) and
2 (usage error).

Most tests run `python -m fluentai` in a subprocess from a temporary directory, so the file
name in messages is exactly what was typed (`prog.flc`). The internal-error tests call
`fluentai.frontends.cli.main` in-process, with a piece of the interpreter patched to fail.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fluentai
from fluentai.frontends import cli

ROOT = Path(__file__).resolve().parent.parent
# The user's seed programs: the copies in tests/acceptance/ (see its README), unless
# FLUENTAI_ACCEPTANCE_DIR names another folder of programs to check.
ACCEPTANCE = Path(os.environ.get("FLUENTAI_ACCEPTANCE_DIR", ROOT / "tests" / "acceptance"))
TIMEOUT = 60

PYTHON_TRACEBACK = "Traceback (most recent call last)"


def fluentai_cmd(*args: str, cwd: Path, env: dict[str, str] | None = None,
                 stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.pop("FLUENTAI_DEBUG", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "fluentai", *args],
        cwd=cwd, env=full_env, input=stdin if stdin is not None else "",
        capture_output=True, text=True, timeout=TIMEOUT,
    )


def write(tmp_path: Path, text: str, name: str = "prog.flc") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_no_python_trace(stderr: str) -> None:
    assert PYTHON_TRACEBACK not in stderr, stderr
    assert '.py"' not in stderr, stderr
    assert not re.search(r"\b\w+Error: .*\n.*File ", stderr), stderr


def diagnostic(stderr: str) -> tuple[str, str, str]:
    """The first three lines of an error report: header, source line, caret line."""
    lines = stderr.split("\n")
    assert len(lines) >= 3, stderr
    return lines[0], lines[1], lines[2]


def caret_under(source_line: str, caret_line: str) -> str:
    """The character of the shown source line that the caret points at."""
    bar = source_line.index("| ") + 2
    assert caret_line.index("| ") + 2 == bar, (source_line, caret_line)
    return source_line[caret_line.index("^")]


# ---- information and usage

def test_version(tmp_path: Path) -> None:
    done = fluentai_cmd("--version", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"fluentai {fluentai.__version__}\n", "")


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(tmp_path: Path, flag: str) -> None:
    done = fluentai_cmd(flag, cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("usage: fluentai run")
    for word in ("run", "check", "repl", "--deterministic", "Exit status"):
        assert word in done.stdout


def test_unknown_command(tmp_path: Path) -> None:
    done = fluentai_cmd("frobnicate", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "unknown command 'frobnicate'" in done.stderr
    assert "usage:" in done.stderr
    assert_no_python_trace(done.stderr)


@pytest.mark.parametrize("command", ["run", "check"])
def test_command_without_file(tmp_path: Path, command: str) -> None:
    done = fluentai_cmd(command, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "usage:" in done.stderr
    assert_no_python_trace(done.stderr)


def test_run_unknown_option(tmp_path: Path) -> None:
    write(tmp_path, "print(1)\n")
    done = fluentai_cmd("run", "--fast", "prog.flc", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "--fast" in done.stderr and "usage:" in done.stderr


# ---- files that cannot be programs

@pytest.mark.parametrize("command", ["run", "check"])
def test_no_such_file(tmp_path: Path, command: str) -> None:
    done = fluentai_cmd(command, "missing.flc", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "error: cannot open missing.flc: no such file\n"


@pytest.mark.parametrize("command", [["run"], ["check"], []])
def test_directory(tmp_path: Path, command: list[str]) -> None:
    # `fluentai run DIR`, `fluentai check DIR` and `fluentai DIR` all say the same.
    (tmp_path / "progdir").mkdir()
    done = fluentai_cmd(*command, "progdir", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("error: progdir is a folder, not a program: name a .flc file in "
                           "it (for example progdir/NAME.flc)\n")
    (tmp_path / "progdir" / "hello.flc").write_text("print(1)\n", encoding="utf-8")
    done = fluentai_cmd(*command, "progdir/", cwd=tmp_path)
    assert done.stderr == ("error: progdir/ is a folder, not a program: name a .flc file in "
                           "it (for example progdir/hello.flc)\n")


@pytest.mark.parametrize("text", ["", "\n\n   \n"])
@pytest.mark.parametrize("command", ["run", "check"])
def test_empty_file(tmp_path: Path, command: str, text: str) -> None:
    write(tmp_path, text)
    done = fluentai_cmd(command, "prog.flc", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == "error: prog.flc is empty: nothing to run\n"


@pytest.mark.parametrize("command", ["run", "check"])
def test_invalid_utf8(tmp_path: Path, command: str) -> None:
    (tmp_path / "prog.flc").write_bytes(b'print("a")\nlet s = "caf\xe9"\n')
    done = fluentai_cmd(command, "prog.flc", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    header, source_line, caret_line = diagnostic(done.stderr)
    assert header == "prog.flc:2:13: error: invalid UTF-8 (byte 0xe9); programs must be UTF-8 text"
    assert source_line.endswith('let s = "caf\ufffd"')
    assert caret_under(source_line, caret_line) == "\ufffd"
    assert_no_python_trace(done.stderr)


def test_utf8_bom_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "prog.flc").write_bytes(b'\xef\xbb\xbfprint("ok")\nlet x = @\n')
    done = fluentai_cmd("run", "prog.flc", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("prog.flc:2:9: error: unexpected character '@'\n")


# ---- syntax errors

SYNTAX_ERROR_PROGRAM = """\
print("this never runs")
let total = 0
let xs = [1, 2
let y = 3
"""


@pytest.mark.parametrize("command", ["run", "check"])
def test_syntax_error_report(tmp_path: Path, command: str) -> None:
    write(tmp_path, SYNTAX_ERROR_PROGRAM)
    done = fluentai_cmd(command, "prog.flc", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""  # rejected before anything runs
    header, source_line, caret_line = diagnostic(done.stderr)
    assert header == "prog.flc:4:1: error: expected ']' to close the '[' opened at 3:10, found 'let'"
    assert source_line == "   4 | let y = 3"
    assert caret_line == "     | ^"
    assert_no_python_trace(done.stderr)


def test_syntax_error_in_a_subdirectory_keeps_the_name_as_given(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    write(tmp_path / "src", "let x = 1 +\n")
    done = fluentai_cmd("run", os.path.join("src", "prog.flc"), cwd=tmp_path)
    assert done.returncode == 1
    expected = os.path.join("src", "prog.flc") + ":1:12: error: expected an expression after '+'"
    assert done.stderr.startswith(expected)


def test_syntax_error_caret_under_unknown_character(tmp_path: Path) -> None:
    write(tmp_path, "let x = 1\n\tlet y = x @ 2\n")
    done = fluentai_cmd("run", "prog.flc", cwd=tmp_path)
    assert done.returncode == 1
    header, source_line, caret_line = diagnostic(done.stderr)
    assert header == "prog.flc:2:12: error: unexpected character '@'"
    assert caret_under(source_line, caret_line) == "@"


def test_syntax_error_in_a_used_module(tmp_path: Path) -> None:
    write(tmp_path, "// module\npublic function f() {\n  1 +\n}\n", name="helper.flc")
    write(tmp_path, "use helper;\nprint(helper.f())\n")
    done = fluentai_cmd("run", "prog.flc", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    header, source_line, caret_line = diagnostic(done.stderr)
    assert re.match(r"\S*helper\.flc:4:1: error: expected an expression after '\+', found '}'$",
                    header), header
    assert caret_under(source_line, caret_line) == "}"


# ---- runtime errors

RUNTIME_ERROR_PROGRAM = """\
function average(numbers) {
  let total = numbers.reduce(0, (sum, n) => sum + n)
  total / numbers.length()
}

function report(name, scores) {
  print(f"{name}: {average(scores)}")
}

report("Ann", [90, 80])
report("Bob", [])
print("not reached")
"""


def test_runtime_error_with_fluentai_traceback(tmp_path: Path) -> None:
    write(tmp_path, RUNTIME_ERROR_PROGRAM)
    done = fluentai_cmd("run", "prog.flc", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == "Ann: 85\n"
    assert done.stderr.split("\n") == [
        "prog.flc:3:9: error: ZeroDivisionError: division by zero",
        "   3 |   total / numbers.length()",
        "     |         ^",
        "traceback (most recent call last):",
        "  prog.flc:11:1: in call to report",
        "  prog.flc:7:20: in call to average",
        "",
    ]
    assert_no_python_trace(done.stderr)


def test_runtime_error_inside_a_callback(tmp_path: Path) -> None:
    write(tmp_path, "function bad(x) { x / 0 }\nfunction go(xs) { xs.map(x => bad(x)) }\ngo([1])\n")
    done = fluentai_cmd("run", "prog.flc", cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.split("\n")
    assert lines[0] == "prog.flc:1:21: error: ZeroDivisionError: division by zero"
    assert "  prog.flc:3:1: in call to go" in lines
    assert "  prog.flc:2:31: in call to bad" in lines
    assert_no_python_trace(done.stderr)


def test_uncaught_throw(tmp_path: Path) -> None:
    write(tmp_path, 'function t() {\n  throw {"kind": "MyError", "message": "bad thing"}\n}\nt()\n')
    done = fluentai_cmd("run", "prog.flc", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("prog.flc:2:3: error: MyError: bad thing\n")
    assert "  prog.flc:4:1: in call to t" in done.stderr
    assert_no_python_trace(done.stderr)


def test_name_error_is_reported_when_reached(tmp_path: Path) -> None:
    # `run` rejects only syntax errors before running (SPEC §8).
    write(tmp_path, 'print("before")\nprint(nope)\n')
    done = fluentai_cmd("run", "prog.flc", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == "before\n"
    header, source_line, caret_line = diagnostic(done.stderr)
    assert header == "prog.flc:2:7: error: NameError: 'nope' is not defined"
    assert caret_under(source_line, caret_line) == "n"


def test_stack_overflow_at_the_call_site(tmp_path: Path) -> None:
    write(tmp_path, 'function forever(n) {\n  forever(n + 1)\n}\nprint("start")\nforever(0)\n')
    started = time.monotonic()
    done = fluentai_cmd("run", "prog.flc", cwd=tmp_path)
    assert time.monotonic() - started < TIMEOUT
    assert done.returncode == 1 and done.stdout == "start\n"
    lines = done.stderr.split("\n")
    assert lines[0] == "prog.flc:2:3: error: stack overflow: too many nested calls"
    assert caret_under(lines[1], lines[2]) == "f"
    assert lines[3] == "traceback (most recent call last):"
    assert lines[4:6] == ["  prog.flc:5:1: in call to forever", "  prog.flc:2:3: in call to forever"]
    assert re.fullmatch(r"  \.\.\. the call above repeated \d+ more times", lines[6])
    assert len(lines) < 30  # folded, not thousands of lines
    assert_no_python_trace(done.stderr)


def test_stack_overflow_in_mutual_recursion(tmp_path: Path) -> None:
    write(tmp_path, "function ping(n) { pong(n + 1) }\nfunction pong(n) { ping(n + 1) }\nping(0)\n")
    done = fluentai_cmd("run", "prog.flc", cwd=tmp_path)
    assert done.returncode == 1
    assert re.match(r"prog\.flc:[12]:20: error: stack overflow", done.stderr)
    assert re.search(r"\.\.\. the 2 calls above repeated \d+ more times", done.stderr)
    assert len(done.stderr.split("\n")) < 30
    assert_no_python_trace(done.stderr)


def test_deeply_nested_values_compared(tmp_path: Path) -> None:
    write(tmp_path, "let x = []\nlet y = []\nfor i in 0..100000 { x = [x]; y = [y] }\n"
                    "print(x == y)\n")
    done = fluentai_cmd("run", "prog.flc", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("prog.flc:4:"), done.stderr


@pytest.mark.parametrize("command", ["run", "check"])
def test_deeply_nested_calls_in_the_source(tmp_path: Path, command: str) -> None:
    write(tmp_path, "let x = " + "f(" * 30000 + "1" + ")" * 30000 + "\n")
    done = fluentai_cmd(command, "prog.flc", cwd=tmp_path)
    assert done.returncode == 1
    assert_no_python_trace(done.stderr)
    assert "internal error" not in done.stderr
    assert done.stderr.startswith("prog.flc:1:")


# ---- check

def test_check_good_program(tmp_path: Path) -> None:
    write(tmp_path, 'function main() {\n  print(greet("x"))\n}\nfunction greet(n) { "hi " + n }\n'
                    'print(args)\n')
    done = fluentai_cmd("check", "prog.flc", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "prog.flc: ok\n", "")


def test_check_reports_undefined_names_without_running(tmp_path: Path) -> None:
    write(tmp_path, 'print("running!")\n'
                    "function f(a) {\n  return a + undefinedThing\n}\n"
                    "print(f(1))\nprint(nope)\nlet g = x => x + y\n")
    done = fluentai_cmd("check", "prog.flc", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""  # nothing ran
    headers = [line for line in done.stderr.split("\n") if ": error: " in line]
    assert headers == [
        "prog.flc:3:14: error: 'undefinedThing' is not defined",
        "prog.flc:6:7: error: 'nope' is not defined",
        "prog.flc:7:18: error: 'y' is not defined",
    ]
    assert_no_python_trace(done.stderr)


def test_check_misspelt_keyword(tmp_path: Path) -> None:
    write(tmp_path, "functoin add(a, b) {\n  a + b\n}\n")
    done = fluentai_cmd("check", "prog.flc", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("prog.flc:1:1: error: unexpected code after 'functoin'")


def test_misspelt_keyword_is_the_first_error(tmp_path: Path) -> None:
    write(tmp_path, "functoin add(a, b) {\n  return a + b\n}\n")
    done = fluentai_cmd("check", "prog.flc", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("prog.flc:1:1: error: ") and "functoin" in \
        done.stderr.split("\n")[0]


def acceptance_programs() -> list[Path]:
    programs = sorted(ACCEPTANCE.glob("*.flc"))
    assert programs, f"no .flc programs in {ACCEPTANCE}"
    return programs


@pytest.mark.parametrize("program", acceptance_programs(), ids=lambda p: p.name)
def test_check_accepts_the_acceptance_programs(program: Path) -> None:
    done = fluentai_cmd("check", str(program), cwd=program.parent)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"{program}: ok\n"


# ---- arguments and output

def test_args_reach_the_program(tmp_path: Path) -> None:
    write(tmp_path, "print(args)\nprint(type_of(args))\nprint(args.length())\n")
    done = fluentai_cmd("run", "prog.flc", "a", "b c", "--flag", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == '["a", "b c", "--flag"]\nlist\n3\n'


def test_no_args_is_an_empty_list(tmp_path: Path) -> None:
    write(tmp_path, "print(args)\n")
    done = fluentai_cmd("run", "--deterministic", "prog.flc", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")


def test_file_name_alone_runs_the_program(tmp_path: Path) -> None:
    write(tmp_path, "print(args)\n")
    done = fluentai_cmd("prog.flc", "x", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, '["x"]\n', "")


def test_output_reaches_a_pipe_line_by_line(tmp_path: Path) -> None:
    write(tmp_path, 'print("first")\nperform Time.sleep(1000).await()\nprint("second")\n')
    env = {**os.environ}
    env.pop("PYTHONUNBUFFERED", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fluentai", "run", "prog.flc"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
        assert ready, "no output at all"
        first = proc.stdout.readline()
        still_running = proc.poll() is None
        rest, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert first == "first\n"
    assert still_running, "the first line arrived only when the program ended"
    assert (rest, err, proc.returncode) == ("second\n", "", 0)


def test_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    write(tmp_path, "for i in 0..1000000 { print(i) }\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fluentai", "run", "prog.flc"], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == "0\n"
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=TIMEOUT)
    assert_no_python_trace(err)
    assert "Error" not in err


# ---- internal errors (a bug in fluentai, not in the program)

def break_the_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    # The resolver: both `run` and `check` go through it.
    from fluentai.resolve.resolver import Resolver

    def broken(self: object, *args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug in the compiler")

    monkeypatch.setattr(Resolver, "program", broken)


def test_internal_error_is_reported_without_python_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    break_the_compiler(monkeypatch)
    monkeypatch.delenv("FLUENTAI_DEBUG", raising=False)
    path = write(tmp_path, "print(1)\n")
    status = cli.main(["run", str(path)])
    captured = capsys.readouterr()
    assert status == 1 and captured.out == ""
    assert "internal error" in captured.err
    assert "simulated bug in the compiler" in captured.err
    assert "please report it" in captured.err
    assert "FLUENTAI_DEBUG=1" in captured.err
    assert PYTHON_TRACEBACK not in captured.err
    assert '.py"' not in captured.err


def test_internal_error_with_debug_shows_python_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    break_the_compiler(monkeypatch)
    monkeypatch.setenv("FLUENTAI_DEBUG", "1")
    path = write(tmp_path, "print(1)\n")
    status = cli.main(["run", str(path)])
    captured = capsys.readouterr()
    assert status == 1
    assert "internal error" in captured.err and "please report it" in captured.err
    assert PYTHON_TRACEBACK in captured.err
    assert "simulated bug in the compiler" in captured.err


def test_internal_error_in_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    break_the_compiler(monkeypatch)
    monkeypatch.delenv("FLUENTAI_DEBUG", raising=False)
    path = write(tmp_path, "print(1)\n")
    status = cli.main(["check", str(path)])
    captured = capsys.readouterr()
    assert status == 1
    assert "internal error" in captured.err and "please report it" in captured.err
    assert PYTHON_TRACEBACK not in captured.err


def test_internal_error_in_a_subprocess(tmp_path: Path) -> None:
    # A real process, broken from the inside through a plugin-free hook: a sitecustomize
    # module that patches the compiler before fluentai starts.
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(
        "from fluentai.resolve.resolver import Resolver\n"
        "def broken(self, *args, **kwargs):\n"
        "    raise RuntimeError('simulated bug')\n"
        "Resolver.program = broken\n",
        encoding="utf-8",
    )
    write(tmp_path, "print(1)\n")
    path_entries = [str(tmp_path / "hook"), os.environ.get("PYTHONPATH", "")]
    env = {"PYTHONPATH": os.pathsep.join(p for p in path_entries if p)}
    done = fluentai_cmd("run", "prog.flc", cwd=tmp_path, env=env)
    assert done.returncode == 1 and done.stdout == ""
    assert "internal error: RuntimeError: simulated bug" in done.stderr
    assert PYTHON_TRACEBACK not in done.stderr
    debug = fluentai_cmd("run", "prog.flc", cwd=tmp_path, env={**env, "FLUENTAI_DEBUG": "1"})
    assert debug.returncode == 1
    assert PYTHON_TRACEBACK in debug.stderr

"""Behaviour tests: every `tests/spec/**/*.flc` program, checked against its own comments.

Each program states what it must do in comments (SPEC sections 1-5):

  // expect: TEXT        one per expected stdout line, in order; the whole stdout must be
                         exactly these lines (no expect lines: no stdout at all)
  // expect-error: TEXT  stderr must contain TEXT (each one); the exit status must then be 1
                         unless `// exit: N` says otherwise
  // exit: N             the expected exit status

Without `expect-error`, the exit status must be 0 (or N) and stderr must be empty. A file
whose first line is `// module` is a module imported by other tests, not a test itself.

The programs run in-process through `fluentai.interpreter.run_path`, like `fluentai run`.
"""

from __future__ import annotations

import re
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import ProgramTimeout, time_limit

SPEC_DIR = Path(__file__).parent / "spec"
TIMEOUT_SECONDS = 30

_EXPECT = re.compile(r"//\s?expect: ?(.*)$")
_EXPECT_ERROR = re.compile(r"//\s?expect-error: ?(.*)$")
_EXIT = re.compile(r"//\s?exit:\s*(\d+)\s*$")


def is_module(path: Path) -> bool:
    """A module (imported by tests) starts with the line `// module`."""
    with path.open(encoding="utf-8") as f:
        return f.readline().strip() == "// module"


def spec_programs() -> list[Path]:
    return sorted(p for p in SPEC_DIR.rglob("*.flc") if not is_module(p))


@dataclass
class Expectations:
    stdout_lines: list[str] = field(default_factory=list)
    stderr_contains: list[str] = field(default_factory=list)
    exit_status: int | None = None

    @property
    def status(self) -> int:
        if self.exit_status is not None:
            return self.exit_status
        return 1 if self.stderr_contains else 0

    @property
    def stdout(self) -> str:
        return "".join(line + "\n" for line in self.stdout_lines)


def parse_expectations(text: str) -> Expectations:
    exp = Expectations()
    for line in text.splitlines():
        if m := _EXPECT_ERROR.search(line):
            exp.stderr_contains.append(m.group(1))
        elif m := _EXPECT.search(line):
            exp.stdout_lines.append(m.group(1))
        elif m := _EXIT.search(line):
            exp.exit_status = int(m.group(1))
    return exp



def run_program(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from fluentai.interpreter import run_path

    capsys.readouterr()  # drop anything captured before the program starts
    try:
        with time_limit(TIMEOUT_SECONDS):
            status = run_path(str(path))
    except ProgramTimeout:
        out, err = capsys.readouterr()
        pytest.fail(f"{path.name}: timed out\n--- stdout ---\n{out}--- stderr ---\n{err}")
    out, err = capsys.readouterr()
    return status, out, err


def describe(path: Path, exp: Expectations, status: int, out: str, err: str) -> str:
    return (
        f"\n{path.relative_to(SPEC_DIR)}"
        f"\n--- expected exit {exp.status}, got {status}"
        f"\n--- expected stdout ---\n{exp.stdout}"
        f"--- actual stdout ---\n{out}"
        f"--- expected stderr to contain ---\n"
        + "".join(f"{s!r}\n" for s in exp.stderr_contains)
        + f"--- actual stderr ---\n{err}"
    )


@pytest.mark.parametrize("path", spec_programs(), ids=lambda p: str(p.relative_to(SPEC_DIR)))
def test_spec_program(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exp = parse_expectations(path.read_text(encoding="utf-8"))
    status, out, err = run_program(path, capsys)
    msg = describe(path, exp, status, out, err)

    # SPEC §8: diagnostics show FluentAI frames, never Python ones.
    assert "Traceback (most recent call last)" not in err, "Python traceback leaked" + msg
    assert out == exp.stdout, "stdout differs" + msg
    if exp.stderr_contains:
        missing = [s for s in exp.stderr_contains if s not in err]
        assert not missing, f"stderr lacks {missing!r}" + msg
    else:
        assert err == "", "unexpected stderr" + msg
    assert status == exp.status, "exit status differs" + msg


def test_spec_tree_is_not_empty() -> None:
    """Guard against a glob that silently matches nothing."""
    sections = {p.relative_to(SPEC_DIR).parts[0] for p in spec_programs()}
    assert {"s1_lexical", "s2_structure", "s3_statements", "s4_values", "s5_async"} <= sections


def test_expectation_parser() -> None:
    exp = parse_expectations(
        'print("a // b") // expect: a // b\n'
        'print(f"") // expect:\n'
        "// expect-error: :3:9: error:\n"
        "// exit: 0\n"
    )
    assert exp.stdout_lines == ["a // b", ""]
    assert exp.stderr_contains == [":3:9: error:"]
    assert exp.status == 0
    assert parse_expectations("// expect-error: boom").status == 1
    assert parse_expectations("print(1)").stdout == ""


# ---------------------------------------------------------------------------
# Rules that need a real process: output into a pipe, and signals (SPEC §2, §3).
# ---------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def _start(program: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "fluentai", "run", str(program)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """The next stdout line, or '' if none arrives within `timeout` seconds."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline() if ready else ""


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate(timeout=10)
    return out, err


def test_print_is_flushed_into_a_pipe(tmp_path: Path) -> None:
    """SPEC §3: everything a program prints reaches stdout at once, also into a pipe."""
    program = tmp_path / "flush.flc"
    program.write_text(
        'print("first line")\nperform Time.sleep(20000).await()\nprint("much later")\n',
        encoding="utf-8",
    )
    proc = _start(program)
    try:
        line = _read_line(proc, timeout=10)
    finally:
        _out, err = _stop(proc)
    assert line == "first line\n", f"first line not flushed; got {line!r}, stderr: {err}"


SIGNAL_PROGRAMS = {
    "running-task": (
        "async function ticker() { loop { perform Time.sleep(50).await() } }\n"
        'function main() { ticker(); print("ready") }\n'
    ),
    "server": (
        "async function main() {\n"
        "  let server = perform HttpServer.listen(0).await()\n"
        '  print("ready")\n'
        "}\n"
    ),
}


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("kind", sorted(SIGNAL_PROGRAMS))
def test_signal_ends_a_running_program_with_status_0(
    tmp_path: Path, kind: str, signame: str
) -> None:
    """SPEC §2: a program with running tasks or servers keeps running after `main`
    returns, until SIGINT/SIGTERM: graceful shutdown, exit status 0."""
    program = tmp_path / f"{kind}.flc"
    program.write_text(SIGNAL_PROGRAMS[kind], encoding="utf-8")
    proc = _start(program)
    try:
        line = _read_line(proc, timeout=10)
        assert line == "ready\n", f"program did not start; got {line!r}"
        time.sleep(0.3)
        assert proc.poll() is None, "program ended although it still had work running"
        proc.send_signal(getattr(signal, signame))
        status = proc.wait(timeout=10)
    finally:
        _out, err = _stop(proc)
    assert status == 0, f"exit status {status} after {signame}; stderr:\n{err}"
    assert "Traceback (most recent call last)" not in err, err

#!/usr/bin/env python3
"""Benchmark the FluentAI interpreter against CPython on the same machine, in the same run.

Every workload is a pair of equivalent programs, `bench/interp/NAME.flc` and
`bench/interp/NAME.py` (same algorithm, same output). Each side runs as a subprocess several
times; the best (minimum) wall time is kept and the startup time of that side, measured in
this same run, is subtracted:

    FluentAI startup = `python -m fluentai run bench/interp/empty.flc`
    CPython startup  = `python bench/interp/empty.py`

The report gives, per workload, the net CPython and FluentAI times and their ratio
(FluentAI / CPython), plus a "startup" row comparing the raw time of
`python -m fluentai run bench/interp/hello.flc` with `python -c pass`.

Both sides use the interpreter running this script (`sys.executable`), so FluentAI runs on
the same CPython it is compared with.

Usage (from anywhere; paths are relative to the repository):
    python bench/run.py                  # 5 runs per program, full size
    python bench/run.py --quick          # 1 run, small sizes: a smoke test, not a measurement
    python bench/run.py --runs 9 --json figures.json
    python bench/run.py fib loop         # only some workloads

Exit status: 0 when every program ran and each pair printed identical output; 1 when any
program failed or a pair's outputs differ; 2 on a usage error. Timings never affect the
exit status: the goals are reported, not enforced.

Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
INTERP = BENCH / "interp"
TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class Workload:
    name: str
    measures: str
    quick_scale: str  # the argument given in --quick mode; full mode uses each program's default
    goal: float  # the ratio FluentAI / CPython the project aims for


WORKLOADS = [
    Workload("fib", "recursive fib(27): calls, comparisons, integer arithmetic", "15", 15.0),
    Workload("loop", "200k iterations: arithmetic, list index updates, map counters", "3000", 10.0),
    Workload(
        "strings", "100k f-strings with two interpolations, joined and accumulated", "3000", 10.0
    ),
    Workload("methods", "map/filter/reduce with lambdas, 300 rounds over 1000 items", "5", 10.0),
]
STARTUP_GOAL = 4.0


class BenchError(Exception):
    """A program failed, or the two sides of a workload printed different output."""


@dataclass
class Row:
    """One line of the report; the times are in milliseconds."""

    workload: str
    measures: str
    python_ms: float  # net of startup for a workload; raw for the startup row
    fluentai_ms: float
    ratio: float | None  # FluentAI / CPython; None when the CPython time is 0
    goal: float
    python_raw_ms: float
    fluentai_raw_ms: float
    python_command: str
    fluentai_command: str


@dataclass
class Timed:
    best_ms: float
    stdout: str


def rel(path: Path) -> str:
    """The path as written relative to the repository root (the commands' working directory)."""
    return path.relative_to(ROOT).as_posix()


def fluentai_env() -> dict[str, str]:
    """The environment for FluentAI runs: the repository root first on PYTHONPATH, so a
    source checkout works even without an (editable) install."""
    env = dict(os.environ)
    parts = [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def python_cmd(*args: str) -> list[str]:
    return [sys.executable, *args]


def fluentai_cmd(program: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "fluentai", "run", rel(program), *args]


def shown(cmd: list[str]) -> str:
    """A command line for the report: `python` in place of this machine's interpreter path."""
    return shlex.join(["python", *cmd[1:]])


def run_once(cmd: list[str], env: dict[str, str] | None) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"`{shown(cmd)}` timed out after {TIMEOUT_SECONDS} s") from e
    elapsed_ms = (time.perf_counter() - start) * 1000.0
    if proc.returncode != 0:
        raise BenchError(
            f"`{shown(cmd)}` exited with status {proc.returncode}\n"
            f"--- stderr ---\n{proc.stderr.rstrip()}\n--- stdout ---\n{proc.stdout.rstrip()}"
        )
    return elapsed_ms, proc.stdout


def measure(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> Timed:
    """Run `cmd` `runs` times; the best wall time, and the stdout (identical every run)."""
    best = float("inf")
    first_out: str | None = None
    for _ in range(runs):
        ms, out = run_once(cmd, env)
        best = min(best, ms)
        if first_out is None:
            first_out = out
        elif out != first_out:
            raise BenchError(f"`{shown(cmd)}` printed different output on different runs")
    assert first_out is not None
    return Timed(best, first_out)


def compare_outputs(
    name: str, py_cmd: list[str], flc_cmd: list[str], py_out: str, flc_out: str
) -> None:
    if py_out == flc_out:
        return
    diff = difflib.unified_diff(
        py_out.splitlines(keepends=True),
        flc_out.splitlines(keepends=True),
        fromfile=shown(py_cmd),
        tofile=shown(flc_cmd),
    )
    text = "".join(list(diff)[:40])
    raise BenchError(f"workload {name!r}: CPython and FluentAI outputs differ\n{text}")


def ratio(flc_ms: float, py_ms: float) -> float | None:
    return flc_ms / py_ms if py_ms > 0 else None


def make_row(
    name: str,
    measures: str,
    goal: float,
    times: tuple[float, float],
    raw: tuple[float, float],
    cmds: tuple[list[str], list[str]],
) -> Row:
    """A report row from (CPython, FluentAI) pairs of times and commands."""
    r = ratio(times[1], times[0])
    return Row(
        workload=name,
        measures=measures,
        python_ms=round(times[0], 2),
        fluentai_ms=round(times[1], 2),
        ratio=None if r is None else round(r, 2),
        goal=goal,
        python_raw_ms=round(raw[0], 2),
        fluentai_raw_ms=round(raw[1], 2),
        python_command=shown(cmds[0]),
        fluentai_command=shown(cmds[1]),
    )


def fmt_ms(ms: float) -> str:
    return f"{ms:.1f}"


def fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.1f}x"


def verdict(r: float | None, goal: float, quick: bool) -> str:
    if quick or r is None:
        return "-"
    return "ok" if r <= goal else "over"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark FluentAI against CPython (ratios measured in the same run).",
    )
    parser.add_argument(
        "workloads",
        nargs="*",
        metavar="NAME",
        help=f"workloads to run (default: all of {', '.join(w.name for w in WORKLOADS)})",
    )
    parser.add_argument(
        "--runs", type=int, default=None, help="runs per program (default 5; --quick: 1)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 run per program at a small size: checks that everything runs and agrees",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = parser.parse_args(argv)

    runs = args.runs if args.runs is not None else (1 if args.quick else 5)
    if runs < 1:
        parser.error("--runs must be at least 1")
    known = {w.name: w for w in WORKLOADS}
    unknown = [n for n in args.workloads if n not in known]
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(unknown)} (known: {', '.join(known)})")
    selected = [known[n] for n in args.workloads] if args.workloads else WORKLOADS

    flc_env = fluentai_env()
    mode = "quick" if args.quick else "full"
    print(f"FluentAI vs CPython {platform.python_version()} ({mode} mode, best of {runs} runs)")
    if args.quick:
        print("quick mode: small sizes, startup-dominated times; the ratios mean little")
    print(flush=True)

    failures: list[str] = []
    rows: list[Row] = []
    startup: Row | None = None

    # Startup of each side, subtracted from that side's workload times.
    try:
        py_empty = measure(python_cmd(rel(INTERP / "empty.py")), runs)
        flc_empty = measure(fluentai_cmd(INTERP / "empty.flc"), runs, flc_env)
    except BenchError as e:
        print(f"FAILED: startup measurement\n{e}", file=sys.stderr)
        return 1

    # The "startup" row: raw times of `fluentai run hello.flc` and `python -c pass`.
    try:
        hello_cmd = fluentai_cmd(INTERP / "hello.flc")
        pass_cmd = python_cmd("-c", "pass")
        hello = measure(hello_cmd, runs, flc_env)
        if hello.stdout != "Hello, world!\n":
            raise BenchError(
                f"`{shown(hello_cmd)}` printed {hello.stdout!r}, expected 'Hello, world!\\n'"
            )
        py_pass = measure(pass_cmd, runs)
        startup = make_row(
            "startup",
            "raw time of `fluentai run bench/interp/hello.flc` vs `python -c pass`",
            STARTUP_GOAL,
            (py_pass.best_ms, hello.best_ms),
            (py_pass.best_ms, hello.best_ms),
            (pass_cmd, hello_cmd),
        )
    except BenchError as e:
        failures.append("startup")
        print(f"FAILED: startup\n{e}\n", file=sys.stderr, flush=True)

    for w in selected:
        scale = [w.quick_scale] if args.quick else []
        py_cmd = python_cmd(rel(INTERP / f"{w.name}.py"), *scale)
        flc_cmd = fluentai_cmd(INTERP / f"{w.name}.flc", *scale)
        try:
            py = measure(py_cmd, runs)
            flc = measure(flc_cmd, runs, flc_env)
            compare_outputs(w.name, py_cmd, flc_cmd, py.stdout, flc.stdout)
        except BenchError as e:
            failures.append(w.name)
            print(f"FAILED: {w.name}\n{e}\n", file=sys.stderr, flush=True)
            continue
        py_net = max(py.best_ms - py_empty.best_ms, 0.0)
        flc_net = max(flc.best_ms - flc_empty.best_ms, 0.0)
        rows.append(
            make_row(
                w.name,
                w.measures,
                w.goal,
                (py_net, flc_net),
                (py.best_ms, flc.best_ms),
                (py_cmd, flc_cmd),
            )
        )

    # The table.
    header = ("workload", "CPython ms", "FluentAI ms", "ratio", "goal", "status")
    table: list[tuple[str, ...]] = [header]
    for row in [*rows, *([startup] if startup is not None else [])]:
        table.append(
            (
                row.workload,
                fmt_ms(row.python_ms),
                fmt_ms(row.fluentai_ms),
                fmt_ratio(row.ratio),
                f"<={row.goal:g}x",
                verdict(row.ratio, row.goal, args.quick),
            )
        )
    for name in failures:
        table.append((name, "-", "-", "FAILED", "", "see stderr"))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for n, line in enumerate(table):
        cells = [line[0].ljust(widths[0])] + [c.rjust(widths[i]) for i, c in enumerate(line) if i]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * wd for wd in widths))
    print()
    print(
        f"workload times are net of startup (CPython {py_empty.best_ms:.1f} ms, "
        f"FluentAI {flc_empty.best_ms:.1f} ms, measured on empty programs in this run); "
        "the startup row gives raw times of `fluentai run bench/interp/hello.flc` and "
        "`python -c pass`"
    )

    if args.json:
        figures = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "command": shlex.join(
                ["python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]
            ),
            "mode": mode,
            "runs": runs,
            "python_version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "machine": platform.machine(),
            "system": platform.system(),
            "startup_subtracted_ms": {
                "python": round(py_empty.best_ms, 2),
                "fluentai": round(flc_empty.best_ms, 2),
            },
            "startup": None if startup is None else asdict(startup),
            "workloads": [asdict(row) for row in rows],
            "failures": failures,
            "ok": not failures,
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=2)
            f.write("\n")
        print(f"figures written to {args.json}")

    if failures:
        print(f"\nFAILED: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

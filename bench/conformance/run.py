"""Autobahn|Testsuite conformance run: FluentAI's WebSocket server against a plain
`websockets` server, case by case.

    python bench/conformance/run.py                    # cases 1-7, 9, 10 (~2 minutes)
    python bench/conformance/run.py --skip-if-missing  # exit 0 with a SKIP line without Python 2.7
    python bench/conformance/run.py --cases 1.*,2.*    # a subset
    python bench/conformance/run.py --json out.json    # also write the figures as JSON

What it does:

1. finds Python 2.7 (`--python27`, else `$(pyenv root)/versions/2.7.18/bin/python` (also under
   `$PYENV_ROOT` and `~/.pyenv` when pyenv is not on PATH), else `python2.7` on PATH) and, once, makes the virtualenv `bench/conformance/.venv27/`
   (gitignored) with the Autobahn testsuite pinned in `requirements-py27.txt`; the venv is
   remade when that file changes;
2. starts `bench/conformance/echo_plain.flc` (FluentAI: echoes every message unchanged;
   16 MiB messages, compression on) and `bench/conformance/echo_baseline.py` (the installed
   `websockets`, same settings), each on a free port of 127.0.0.1, one after the other;
3. runs `wstest -m fuzzingclient` against each; reports go to `bench/conformance/reports/`
   (gitignored; `--reports DIR` elsewhere): `fluentai/index.json`, `baseline/index.json`,
   the HTML pages, each server's stderr and `summary.json`;
4. prints the counts of OK / NON-STRICT / INFORMATIONAL / UNIMPLEMENTED / FAILED for each
   server and the cases where FluentAI is worse than the baseline. Some cases depend on
   timing (whether the echo of a message goes out before the server fails the connection on
   the next, bad frame, for example 4.1.5 and 4.2.5): a case where FluentAI is worse is run
   again for both servers (`--retries`, default 2) and, if FluentAI is no worse in a retry,
   listed as timing-dependent instead.

Exit status: 0 when FluentAI has no FAILED or NON-STRICT case that the baseline does not
have (or Python 2.7 is missing and --skip-if-missing was given); 1 when it has; 2 usage;
3 when the run could not be made (venv, server or wstest failure).

Standard library only, so it runs with any Python >= 3.11 that can run FluentAI.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = HERE / ".venv27"
REQUIREMENTS = HERE / "requirements-py27.txt"
STAMP = VENV / ".fluentai-stamp"
DEFAULT_REPORTS = HERE / "reports"
VIRTUALENV_PIN = "virtualenv==20.15.1"  # the last virtualenv that runs on Python 2.7

DEFAULT_CASES = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*"]
BEHAVIORS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
# How bad a result is; behaviorClose has its own words ("WRONG CODE", ...).
RANK = {"OK": 0, "INFORMATIONAL": 0, "NON-STRICT": 1, "UNIMPLEMENTED": 2,
        "WRONG CODE": 2, "UNCLEAN": 2, "FAILED": 3, "MISSING": 4}

SERVERS = {
    "fluentai": [sys.executable, "-m", "fluentai", "run", "bench/conformance/echo_plain.flc", "0"],
    "baseline": [sys.executable, "bench/conformance/echo_baseline.py", "0"],
}

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


class SetupError(Exception):
    pass


def log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------- Python 2.7 and the venv


def _is_py27(python: str) -> bool:
    try:
        out = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2] == (2, 7))"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "True"


def find_python27(explicit: str | None) -> str | None:
    candidates: list[str] = []
    if explicit:
        candidates.append(explicit)
    roots = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            roots.append(subprocess.run([pyenv, "root"], capture_output=True, text=True,
                                        timeout=30).stdout.strip())
        except (OSError, subprocess.TimeoutExpired):
            pass
    # pyenv not on PATH (a CI shell, say): its usual places
    roots += [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    for root in roots:
        if root:
            candidates.append(str(Path(root) / "versions" / "2.7.18" / "bin" / "python"))
    on_path = shutil.which("python2.7")
    if on_path:
        candidates.append(on_path)
    for c in candidates:
        if Path(c).exists() and _is_py27(c):
            return c
    return None


def _stamp_text(python27: str) -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    return f"{digest} {VIRTUALENV_PIN}\n"


def _run_logged(cmd: list[str], logfile: Path, timeout: float, **kw: Any) -> None:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1",
               PYTHONWARNINGS="ignore")
    env.pop("PYTHONPATH", None)
    env.update(kw.pop("env", {}))
    with logfile.open("a", encoding="utf-8") as f:
        f.write(f"$ {' '.join(cmd)}\n")
        f.flush()
        try:
            rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout,
                                env=env, **kw).returncode
        except subprocess.TimeoutExpired:
            raise SetupError(f"timed out after {timeout:.0f}s: {' '.join(cmd)} "
                             f"(log: {logfile})") from None
    if rc != 0:
        tail = "\n".join(logfile.read_text(encoding="utf-8", errors="replace").splitlines()[-25:])
        raise SetupError(f"failed ({rc}): {' '.join(cmd)}\n{tail}")


def ensure_venv(python27: str) -> Path:
    """The venv's wstest, making the venv first when it is missing or out of date."""
    wstest = VENV / "bin" / "wstest"
    stamp = _stamp_text(python27)
    if wstest.exists() and STAMP.exists() and STAMP.read_text(encoding="utf-8") == stamp:
        return wstest
    log(f"creating {VENV.relative_to(ROOT)} (Python 2.7 + autobahntestsuite; once)")
    if VENV.exists():
        shutil.rmtree(VENV)
    with tempfile.TemporaryDirectory(prefix="fluentai-ab-") as tmp:
        logfile = Path(tmp) / "setup.log"
        boot = Path(tmp) / "boot"
        # Python 2.7 has no venv module: a virtualenv that still runs on 2.7 is put in a
        # temporary folder and run from there; it brings pip 20.3.4 into the new venv.
        _run_logged([python27, "-m", "pip", "install", "--quiet", "--target", str(boot),
                     VIRTUALENV_PIN], logfile, 600)
        _run_logged([python27, "-m", "virtualenv", "--no-download", "--quiet", str(VENV)],
                    logfile, 600, env={"PYTHONPATH": str(boot)})
        _run_logged([str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                     "-r", str(REQUIREMENTS)], logfile, 900)
        if not wstest.exists():
            raise SetupError(f"the venv has no wstest after installing {REQUIREMENTS.name}")
    STAMP.write_text(stamp, encoding="utf-8")
    return wstest


# ---------------------------------------------------------------- servers and wstest


class Server:
    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.out_path = workdir / f"{name}.stdout"
        self.err_path = workdir / f"{name}.stderr"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.status: int | None = None

    def start(self) -> None:
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(SERVERS[self.name], cwd=ROOT, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            text = self.out_path.read_text(encoding="utf-8", errors="replace")
            if "\n" in text:
                found = re.search(r"port (\d+)", text.splitlines()[0])
                if not found:
                    self.kill()
                    raise SetupError(f"{self.name}: no port on the first line {text!r}")
                self.port = int(found.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise SetupError(f"{self.name} server did not start: "
                         f"{self.err_path.read_text(encoding='utf-8', errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.status = None if self.proc is None else self.proc.returncode
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.status = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            self.status = None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")


def run_wstest(wstest: Path, name: str, cases: list[str], workdir: Path,
               timeout: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Runs the fuzzing client against the named server; gives its index.json entries and
    facts about the server (exit status after SIGTERM, stderr)."""
    outdir = workdir / name
    if outdir.exists():
        shutil.rmtree(outdir)
    server = Server(name, workdir)
    server.start()
    spec = {
        "outdir": f"./{name}",  # relative to workdir, where wstest runs
        "servers": [{"agent": name, "url": f"ws://127.0.0.1:{server.port}"}],
        "cases": cases,
        "exclude-cases": [],
        "exclude-agent-cases": {},
    }
    spec_path = workdir / f"{name}.spec.json"
    spec_path.write_text(json.dumps(spec, indent=2), encoding="utf-8")
    logfile = workdir / f"{name}.wstest.log"
    started = time.monotonic()
    try:
        with logfile.open("wb") as f:
            try:
                rc = subprocess.run([str(wstest), "-m", "fuzzingclient", "-s", spec_path.name],
                                    cwd=workdir, stdout=f, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, timeout=timeout,
                                    env=dict(os.environ, PYTHONWARNINGS="ignore")).returncode
            except subprocess.TimeoutExpired:
                raise SetupError(f"wstest against {name} still running after {timeout:.0f}s "
                                 f"(log: {logfile})") from None
    finally:
        server.stop()
    elapsed = time.monotonic() - started
    index = outdir / "index.json"
    if rc != 0 or not index.exists():
        raise SetupError(f"wstest against {name} failed ({rc}); log: {logfile}")
    results = json.loads(index.read_text(encoding="utf-8")).get(name, {})
    stderr = server.stderr()
    facts = {"exit_status": server.status, "seconds": round(elapsed, 1),
             "stderr_lines": len(stderr.splitlines()),
             "python_traceback": "Traceback (most recent call last)" in stderr}
    return results, facts


# ---------------------------------------------------------------- comparing


def case_key(case: str) -> tuple[int, ...]:
    return tuple(int(p) for p in case.split("."))


def rank(result: dict[str, Any] | None) -> tuple[int, int]:
    if result is None:
        return (RANK["MISSING"], RANK["MISSING"])
    return (RANK.get(result.get("behavior", ""), 3), RANK.get(result.get("behaviorClose", ""), 3))


def is_worse(ours: dict[str, Any] | None, theirs: dict[str, Any] | None) -> bool:
    a, b = rank(ours), rank(theirs)
    return a[0] > b[0] or a[1] > b[1]


def is_regression(ours: dict[str, Any] | None, theirs: dict[str, Any] | None) -> bool:
    """FluentAI FAILED or NON-STRICT (behavior or close behavior) where the baseline is
    better: what makes the exit status 1."""
    a, b = rank(ours), rank(theirs)
    return (a[0] >= RANK["NON-STRICT"] and a[0] > b[0]) or (
        a[1] >= RANK["NON-STRICT"] and a[1] > b[1])


def describe(result: dict[str, Any] | None) -> str:
    if result is None:
        return "missing"
    text = result.get("behavior", "?")
    if result.get("behaviorClose") not in (None, "OK", result.get("behavior")):
        text += f"/close {result['behaviorClose']}"
    if result.get("remoteCloseCode") is not None:
        text += f" ({result['remoteCloseCode']})"
    return text


def counts(results: dict[str, Any]) -> dict[str, int]:
    c = Counter(r.get("behavior", "?") for r in results.values())
    out = {b: c.get(b, 0) for b in BEHAVIORS}
    out.update({k: v for k, v in c.items() if k not in out})
    return out


def versions(python27: str) -> dict[str, str]:
    def pkg(name: str) -> str:
        try:
            from importlib.metadata import version
            return version(name)
        except Exception:
            return "?"

    py27 = subprocess.run([python27, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, timeout=30).stdout.strip()
    return {"fluentai": pkg("fluentai"), "websockets": pkg("websockets"),
            "uvicorn": pkg("uvicorn"), "python": platform.python_version(),
            "python27": py27, "autobahntestsuite": "0.8.2", "autobahn": "0.10.9",
            "twisted": "19.10.0"}


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-if-missing", action="store_true",
                    help="without Python 2.7, print a SKIP line and exit 0")
    ap.add_argument("--python27", help="the Python 2.7 interpreter to make the venv from")
    ap.add_argument("--cases", default=",".join(DEFAULT_CASES),
                    help="comma-separated Autobahn case patterns (default: %(default)s)")
    ap.add_argument("--reports", type=Path, default=DEFAULT_REPORTS,
                    help="where reports go (default: bench/conformance/reports/)")
    ap.add_argument("--retries", type=int, default=2,
                    help="re-runs of the cases where FluentAI is worse (default: 2)")
    ap.add_argument("--timeout", type=float, default=900,
                    help="seconds one wstest run may take (default: 900)")
    ap.add_argument("--json", type=Path, help="also write the summary as JSON here")
    args = ap.parse_args(argv)

    python27 = find_python27(args.python27)
    if python27 is None:
        msg = ("Python 2.7 not found (tried --python27, $(pyenv root)/versions/2.7.18/bin/python "
               "and python2.7 on PATH): the Autobahn testsuite needs it")
        if args.skip_if_missing:
            log(f"SKIP: {msg}")
            return 0
        log(f"error: {msg}")
        return 3
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    workdir = args.reports.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        wstest = ensure_venv(python27)
        results: dict[str, dict[str, Any]] = {}
        facts: dict[str, dict[str, Any]] = {}
        for name in SERVERS:
            log(f"running Autobahn cases {','.join(cases)} against {name} ...")
            results[name], facts[name] = run_wstest(wstest, name, cases, workdir, args.timeout)
            log(f"  {len(results[name])} cases in {facts[name]['seconds']}s")

        fl, bl = results["fluentai"], results["baseline"]
        all_cases = sorted(set(fl) | set(bl), key=case_key)
        worse = [c for c in all_cases if is_worse(fl.get(c), bl.get(c))]
        first_worse = {c: (fl.get(c), bl.get(c)) for c in worse}
        timing: list[str] = []
        retry_results: dict[str, list[dict[str, Any]]] = {}
        for attempt in range(1, args.retries + 1):
            if not worse:
                break
            log(f"retry {attempt}: {len(worse)} case(s) where FluentAI was worse: {', '.join(worse)}")
            retry_dir = workdir / f"retry{attempt}"
            retry_dir.mkdir(exist_ok=True)
            again = {name: run_wstest(wstest, name, worse, retry_dir, args.timeout)[0]
                     for name in SERVERS}
            still = []
            for c in worse:
                retry_results.setdefault(c, []).append(
                    {"fluentai": again["fluentai"].get(c), "baseline": again["baseline"].get(c)})
                if is_worse(again["fluentai"].get(c), again["baseline"].get(c)):
                    still.append(c)
                else:
                    timing.append(c)
            worse = still
    except SetupError as e:
        log(f"error: {e}")
        return 3

    regressions = [c for c in worse if is_regression(*first_worse[c])]
    summary = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cases": cases,
        "versions": versions(python27),
        "counts": {name: counts(results[name]) for name in SERVERS},
        "close_counts": {name: dict(Counter(r.get("behaviorClose", "?") for r in results[name].values()))
                         for name in SERVERS},
        "servers": facts,
        "worse_than_baseline": {c: {"fluentai": describe(first_worse[c][0]),
                                    "baseline": describe(first_worse[c][1])} for c in worse},
        "timing_dependent": {c: {"fluentai": describe(first_worse[c][0]),
                                 "baseline": describe(first_worse[c][1])} for c in timing},
        "regressions": regressions,
        "not_ok": {name: {c: describe(r) for c, r in sorted(results[name].items(), key=lambda kv: case_key(kv[0]))
                          if rank(r) != (0, 0)} for name in SERVERS},
    }
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")

    # ---- the report
    log("")
    log(f"Autobahn|Testsuite {summary['versions']['autobahntestsuite']}, cases {','.join(cases)}")
    width = max(len(b) for b in BEHAVIORS)
    log(f"{'':{width}}  {'fluentai':>9}  {'baseline':>9}")
    for b in BEHAVIORS:
        log(f"{b:{width}}  {summary['counts']['fluentai'][b]:>9}  {summary['counts']['baseline'][b]:>9}")
    log(f"{'total':{width}}  {len(fl):>9}  {len(bl):>9}")
    for name in SERVERS:
        not_ok = summary["not_ok"][name]
        log(f"{name} not OK ({len(not_ok)}): " +
            (", ".join(f"{c} {d}" for c, d in not_ok.items()) or "none"))
    for name, f in facts.items():
        if f["exit_status"] != 0 or f["python_traceback"]:
            log(f"warning: {name} server exit status {f['exit_status']} after SIGTERM, "
                f"{f['stderr_lines']} stderr lines (see {name}.stderr)")
    if timing:
        log("timing-dependent (FluentAI worse in the first run, not in a retry): " +
            ", ".join(f"{c} [{summary['timing_dependent'][c]['fluentai']} vs "
                      f"{summary['timing_dependent'][c]['baseline']}]" for c in timing))
    if worse:
        log("FluentAI worse than the baseline: " +
            ", ".join(f"{c} [{summary['worse_than_baseline'][c]['fluentai']} vs "
                      f"{summary['worse_than_baseline'][c]['baseline']}]" for c in worse))
    else:
        log("FluentAI worse than the baseline: none")
    log(f"reports: {workdir}")
    if regressions:
        log(f"FAIL: FluentAI has FAILED/NON-STRICT cases the baseline does not: {', '.join(regressions)}")
        return 1
    log("PASS: no FAILED or NON-STRICT case that the baseline does not have")
    return 0


if __name__ == "__main__":
    sys.exit(main())

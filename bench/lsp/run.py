"""How fast `fluentai lsp` answers on a large file: drives the real server over stdio (the
tests' JSON-RPC client, tests/lsp/lsp_client.py) with a generated program of 2,000 lines
and reports the median and 95th percentile latency of:

- diagnostics after a keystroke inside a function (didChange sent → publishDiagnostics
  received; the debounce is set to 0 so the figure is the work, not the wait), and after a
  keystroke that adds a line (every statement below it moves);
- completion where the text parses, and where it does not (`name.` typed on a new line);
- hover and go to definition on names spread over the file.

- semantic tokens of the whole file.

The first request of each kind is a warm-up and not counted. Latencies are wall-clock times
seen by the client, so they include waiting for a CPU on a busy machine; the "server CPU"
column (Linux: the server process's user+system time from /proc over the samples, divided
by their number) is the work alone. Standard library only (plus the project itself).
Timings are printed, never checked: `--quick` is a smoke test.

    python bench/lsp/run.py                 # 2,000 lines, 40 samples of each (~20 s)
    python bench/lsp/run.py --quick         # 300 lines, 5 samples
    python bench/lsp/run.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "lsp"))  # the client the tests use

from lsp_client import LspClient  # noqa: E402

FUNCTION = """\
// Sums the items of group {i} above a threshold, in the currency of the config.
function total_{i}(items, threshold) {{
  let sum = 0
  let config = {{"currency": "EUR", "rate": {i}, "labels": ["a", "b"]}}
  for item in items {{
    if item > threshold {{ sum += item * config.rate }} else {{ sum -= 1 }}
  }}
  let doubled = items.map(x => x * 2).filter(x => x > threshold)
  match doubled {{
    [first, ...rest] => print(f"{{first}} then {{rest.length()}} more"),
    _ => perform IO.println("nothing above {i}")
  }}
  sum + helper_{j}(doubled) + config.labels.length()
}}

function helper_{i}(xs) {{ xs.reduce((a, b) => a + b, 0) }}

"""
HEAD = """\
// A generated program for the language server benchmark.
use geometry
const LIMIT = 100
let server = perform HttpServer.listen(0, true).await()

function handle_websocket_message(conn_id, message) {
  perform HttpServer.ws_send(server.id, conn_id, f"echo {message}")
}

"""


def program(lines: int) -> str:
    parts = [HEAD]
    i = 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(FUNCTION.format(i=i, j=max(i - 1, 0)))
        i += 1
    return "".join(parts)


def cpu_ms(pid: int) -> float | None:
    """User plus system CPU time of a process so far (Linux), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def timed(pid: int, samples: int, warmup: int, action: Callable[[int], None]
          ) -> tuple[list[float], float | None]:
    """Wall-clock milliseconds of each sample, and the server's CPU ms per sample."""
    out = []
    cpu_start = None
    for n in range(warmup + samples):
        if n == warmup:
            cpu_start = cpu_ms(pid)
        start = time.perf_counter()
        action(n)
        if n >= warmup:
            out.append((time.perf_counter() - start) * 1000)
    cpu_end = cpu_ms(pid)
    cpu = (cpu_end - cpu_start) / samples if cpu_start is not None and cpu_end is not None \
        else None
    return out, cpu


def summary(measured: tuple[list[float], float | None]) -> dict[str, float | None]:
    values, cpu = measured
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered), 1), "p95_ms": round(p95, 1),
            "max_ms": round(ordered[-1], 1), "server_cpu_ms": None if cpu is None
            else round(cpu, 1), "samples": len(ordered)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="300 lines, 5 samples")
    parser.add_argument("--json", metavar="FILE")
    ns = parser.parse_args()
    lines, samples = (300, 5) if ns.quick else (ns.lines, ns.samples)
    text = program(lines)
    rows = text.split("\n")
    rng = random.Random(7)
    # Beside examples/geometry.flc, so `use geometry` resolves; never written to disk.
    uri = (ROOT / "examples" / "bench_lsp_generated.flc").as_uri()
    client = LspClient()
    results: dict[str, dict[str, float | None]] = {}
    pid = client.proc.pid
    try:
        client.initialize({"diagnosticsDelay": 0})
        cpu_start = cpu_ms(pid)
        start = time.perf_counter()
        published = client.open(uri, text)
        cpu_end = cpu_ms(pid)
        results["open: first diagnostics (cold)"] = summary((
            [(time.perf_counter() - start) * 1000],
            cpu_end - cpu_start if cpu_start is not None and cpu_end is not None else None))
        assert published["diagnostics"] == [], published["diagnostics"][:3]
        version = 1
        sums = [i for i, row in enumerate(rows) if row.startswith("  let sum = 0")]

        def keystroke(n: int) -> None:
            nonlocal version
            version += 1
            line = sums[n % len(sums)]  # `let sum = 0` becomes `let sum = 01`, `011`, ...
            client.change(uri, version, "1", at=((line, 13), (line, 13)))
            client.diagnostics_for(uri, version)

        results["diagnostics after a keystroke"] = summary(timed(pid, samples, 2, keystroke))

        def new_line(n: int) -> None:
            nonlocal version
            version += 1
            line = sums[n % len(sums)]
            client.change(uri, version, "\n", at=((line, 0), (line, 0)))
            client.diagnostics_for(uri, version)

        results["diagnostics after a new line"] = summary(timed(pid, max(samples // 4, 3), 1, new_line))
        # Back to the generated text for the requests.
        version += 1
        client.change(uri, version, text)
        client.diagnostics_for(uri, version)
        names = [(i, row.index("sum +")) for i, row in enumerate(rows) if "  sum + helper_" in row]
        calls = [(i, row.index("helper_")) for i, row in enumerate(rows) if "sum + helper_" in row]

        def completion(n: int) -> None:
            line, col = rng.choice(names)
            client.at("textDocument/completion", uri, line, col + 2)

        results["completion"] = summary(timed(pid, samples, 2, completion))

        def hover(n: int) -> None:
            line, col = rng.choice(calls)
            assert client.at("textDocument/hover", uri, line, col + 2) is not None

        results["hover"] = summary(timed(pid, samples, 2, hover))

        def definition(n: int) -> None:
            line, col = rng.choice(calls)
            assert client.at("textDocument/definition", uri, line, col + 2) is not None

        results["definition"] = summary(timed(pid, samples, 2, definition))

        def tokens(n: int) -> None:
            client.request("textDocument/semanticTokens/full", {"textDocument": {"uri": uri}})

        results["semantic tokens (whole file)"] = summary(timed(pid, max(samples // 4, 3), 1,
                                                                tokens))
        # A text being typed: `config.` on a new line of a function body does not parse.
        body = rng.choice(sums) + 2  # after `let config = {...}`
        broken = "\n".join([*rows[:body], "  config.", *rows[body:]])
        version += 1
        client.change(uri, version, broken)
        client.diagnostics_for(uri, version)

        def typing(n: int) -> None:
            got = client.at("textDocument/completion", uri, body, 9)
            assert got["items"][0]["label"] == "currency", got["items"][:2]

        results["completion (text does not parse)"] = summary(timed(pid, samples, 2, typing))
    finally:
        status = client.close()
    width = max(len(k) for k in results)
    print(f"fluentai lsp on {len(rows)} lines ({len(text):,} characters), "
          f"Python {platform.python_version()}, {platform.machine()}")
    print(f"{'request':<{width}}  {'median ms':>9}  {'p95 ms':>7}  {'max ms':>7}  "
          f"{'server CPU ms':>13}  samples")
    for name, r in results.items():
        cpu = "-" if r["server_cpu_ms"] is None else r["server_cpu_ms"]
        print(f"{name:<{width}}  {r['median_ms']:>9}  {r['p95_ms']:>7}  {r['max_ms']:>7}  "
              f"{cpu:>13}  {r['samples']:>7}")
    if ns.json:
        Path(ns.json).write_text(json.dumps({
            "date": time.strftime("%Y-%m-%d"), "lines": len(rows), "python": sys.version,
            "command": " ".join(sys.argv), "results": results}, indent=2))
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

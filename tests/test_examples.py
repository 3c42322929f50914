"""Golden tests: every runnable `examples/*.flc` (not subfolders) against its recorded output.

`examples/NAME.flc` runs like `fluentai run --deterministic examples/NAME.flc` from the
repository root. Its stdout must equal `examples/NAME.out`; its stderr must equal
`examples/NAME.err` and its exit status the number in `examples/NAME.status` when those
files exist (absent: empty stderr, status 0). A file whose first line is `// module` is a
module used by other examples and has no golden; one whose first line is `// server` is a
server, driven by tests/test_server_examples.py.

Rewrite the goldens after checking the new output by hand:
    pytest tests/test_examples.py --update-goldens
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ProgramTimeout, time_limit

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TIMEOUT_SECONDS = 60


def first_line(path: Path) -> str:
    with path.open(encoding="utf-8") as f:
        return f.readline().strip()


def runnable_examples() -> list[Path]:
    # `// module`: used by other examples; `// server`: runs until stopped, driven by
    # tests/test_server_examples.py instead.
    return sorted(p for p in EXAMPLES.glob("*.flc")
                  if first_line(p) not in ("// module", "// server"))



def _write_or_remove(path: Path, text: str, keep: bool) -> None:
    if keep:
        path.write_text(text, encoding="utf-8")
    elif path.exists():
        path.unlink()


@pytest.mark.parametrize("example", runnable_examples(), ids=lambda p: p.name)
def test_example(
    example: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    update_goldens: bool,
) -> None:
    from fluentai.interpreter import run_path

    monkeypatch.chdir(ROOT)
    rel = f"examples/{example.name}"
    capsys.readouterr()
    try:
        with time_limit(TIMEOUT_SECONDS):
            status = run_path(rel, deterministic=True)
    except ProgramTimeout:
        out, err = capsys.readouterr()
        pytest.fail(f"{rel}: timed out\n--- stdout ---\n{out}--- stderr ---\n{err}")
    out, err = capsys.readouterr()

    out_file = example.with_suffix(".out")
    err_file = example.with_suffix(".err")
    status_file = example.with_suffix(".status")

    if update_goldens:
        _write_or_remove(out_file, out, keep=True)
        _write_or_remove(err_file, err, keep=err != "")
        _write_or_remove(status_file, f"{status}\n", keep=status != 0)
        return

    assert out_file.exists(), f"{out_file.name} missing: run pytest {__file__} --update-goldens"
    want_out = out_file.read_text(encoding="utf-8")
    want_err = err_file.read_text(encoding="utf-8") if err_file.exists() else ""
    want_status = int(status_file.read_text().strip()) if status_file.exists() else 0
    context = f"\n--- stdout ---\n{out}--- stderr ---\n{err}--- exit status: {status}"
    assert out == want_out, f"{rel}: stdout differs from {out_file.name}" + context
    assert err == want_err, f"{rel}: stderr differs from {err_file.name}" + context
    assert status == want_status, f"{rel}: exit status {status}, expected {want_status}" + context


def test_every_example_has_a_golden() -> None:
    """A golden without its program (or the reverse) is a mistake."""
    programs = {p.stem for p in runnable_examples()}
    goldens = {p.stem for p in EXAMPLES.glob("*.out") if not p.name.endswith(".session.out")}
    assert goldens <= programs, f"goldens without a program: {sorted(goldens - programs)}"
    # Server examples record a scripted session instead (tests/test_server_examples.py).
    servers = {p.stem for p in EXAMPLES.glob("*.flc") if first_line(p) == "// server"}
    sessions = {p.name.removesuffix(".session.out") for p in EXAMPLES.glob("*.session.out")}
    assert sessions <= servers, f"sessions without a server: {sorted(sessions - servers)}"


def failing_check_on_purpose() -> set[str]:
    """The examples that examples/README.md says fail `fluentai check` on purpose."""
    marker = "Fails `fluentai check` on purpose:"
    for line in (EXAMPLES / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith(marker):
            return {name.strip(" `") for name in line[len(marker):].split(",")}
    raise AssertionError(f"examples/README.md has no line starting with {marker!r}")


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.flc")), ids=lambda p: p.name)
def test_example_passes_check_unless_the_readme_says_otherwise(
        example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fluentai.frontends.check import check_source

    monkeypatch.chdir(ROOT)
    errors = check_source(f"examples/{example.name}")
    if example.name in failing_check_on_purpose():
        assert errors, f"{example.name} is listed as failing check, but passes: update the README"
    else:
        assert not errors, "\n".join(e.render() for e in errors)

"""Packaging: the wheel carries the grammar and the stdlib and works outside the repository.

Builds the wheel (isolated build, hatchling from PyPI), installs it with its dependencies into a
fresh virtualenv, and runs the `fluentai` console script from a directory that is not the
repository, so nothing can be picked up from the source tree by accident.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent

# pip's ways of saying that it could not get a build requirement (no index, no network, ...).
_UNOBTAINABLE = (
    "could not find a version that satisfies the requirement",
    "no matching distribution found",
    "failed to establish a new connection",
    "temporary failure in name resolution",
    "network is unreachable",
    "connection refused",
    "max retries exceeded",
)


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment minus anything that could make a child see this checkout or venv."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env.update(extra)
    return env


def _run(
    cmd: list[str | Path], *, cwd: Path, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in cmd],
        cwd=cwd,
        env=_clean_env() if env is None else env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _describe(proc: subprocess.CompletedProcess[str]) -> str:
    return (
        f"command: {proc.args}\nexit status: {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    )


def _hatchling_unobtainable(proc: subprocess.CompletedProcess[str]) -> bool:
    output = " ".join((proc.stdout + proc.stderr).lower().split())  # build wraps pip's lines
    return "hatchling" in output and any(marker in output for marker in _UNOBTAINABLE)


def _hatchling_installed() -> bool:
    return importlib.util.find_spec("hatchling") is not None


def _build(kind: str, outdir: Path) -> Path:
    """Build `kind` ("wheel" or "sdist") from the repository into outdir and return its path.

    The build is isolated (hatchling comes from PyPI). If hatchling cannot be obtained, fall
    back to a non-isolated build when this environment has hatchling, else skip the test.
    Any other build failure fails the test.
    """
    cmd: list[str | Path] = [sys.executable, "-m", "build", f"--{kind}", "--outdir", outdir]
    proc = _run([*cmd, REPO_ROOT], cwd=REPO_ROOT, timeout=600)
    if proc.returncode != 0 and _hatchling_unobtainable(proc):
        if not _hatchling_installed():
            pytest.skip(
                "cannot build the package: the build backend `hatchling` could not be "
                "obtained from the package index and is not installed here\n" + _describe(proc)
            )
        proc = _run([*cmd, "--no-isolation", REPO_ROOT], cwd=REPO_ROOT, timeout=600)
    assert proc.returncode == 0, f"building the {kind} failed\n{_describe(proc)}"

    pattern = "fluentai-*.whl" if kind == "wheel" else "fluentai-*.tar.gz"
    built = sorted(outdir.glob(pattern))
    assert len(built) == 1, f"expected one {pattern} in {outdir}, found {built}"
    return built[0]


def test_wheel_bundles_data_and_runs_outside_the_repo(tmp_path: Path) -> None:
    wheel = _build("wheel", tmp_path / "dist")

    # -- the wheel's file list -------------------------------------------------------------
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for required in (
        "fluentai/__init__.py",
        "fluentai/__main__.py",
        "fluentai/frontends/cli.py",
        "fluentai/syntax/resources.py",
        "fluentai/_data/grammar/fluentai.lark",
        "fluentai/_data/stdlib/http.flc",
    ):
        assert required in names, f"{required} missing from {wheel.name}: {sorted(names)}"
    # force-include copies whole folders and ignores .gitignore: catch stray files early.
    stray = [
        name
        for name in names
        if name.startswith("fluentai/_data/") and not name.endswith((".lark", ".flc", ".md"))
    ]
    assert not stray, f"unexpected files bundled in {wheel.name}: {stray}"
    assert not any(name.startswith(("tests/", "grammar/", "stdlib/")) for name in names)

    # -- a fresh venv with the wheel and its dependencies (from PyPI) -----------------------
    env_dir = (tmp_path / "venv").resolve()
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    fluentai = bin_dir / "fluentai"
    proc = _run([python, "-m", "pip", "install", wheel], cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, f"installing the wheel failed\n{_describe(proc)}"

    # -- run it from somewhere that is not the repository ----------------------------------
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _clean_env(PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")

    proc = _run(
        [
            python,
            "-c",
            "import fluentai, fluentai.syntax.resources as r;"
            "print(fluentai.__file__); print(r.grammar_path()); print(r.stdlib_dir())",
        ],
        cwd=elsewhere,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 0, _describe(proc)
    package_file, grammar, stdlib = (Path(line).resolve() for line in proc.stdout.splitlines())
    assert env_dir in package_file.parents, (
        f"fluentai imported from outside the venv: {package_file}"
    )
    assert grammar.parts[-4:] == ("fluentai", "_data", "grammar", "fluentai.lark"), grammar
    assert env_dir in grammar.parents and grammar.is_file(), grammar
    assert env_dir in stdlib.parents and (stdlib / "http.flc").is_file(), stdlib

    (elsewhere / "hello.flc").write_text('print("hello from wheel")\n', encoding="utf-8")
    proc = _run([fluentai, "run", "hello.flc"], cwd=elsewhere, timeout=60, env=env)
    assert proc.returncode == 0, _describe(proc)
    assert proc.stdout == "hello from wheel\n", _describe(proc)

    (elsewhere / "uses_http.flc").write_text("use http;\nprint(type_of(http))\n", encoding="utf-8")
    proc = _run([fluentai, "run", "uses_http.flc"], cwd=elsewhere, timeout=60, env=env)
    assert proc.returncode == 0, _describe(proc)
    assert proc.stdout == "map\n", _describe(proc)

    proc = _run([python, "-m", "fluentai", "--version"], cwd=elsewhere, timeout=60, env=env)
    assert proc.returncode == 0, _describe(proc)
    assert proc.stdout.strip() or proc.stderr.strip(), "--version printed nothing"


def test_sdist_carries_the_sources(tmp_path: Path) -> None:
    sdist = _build("sdist", tmp_path / "dist")
    with tarfile.open(sdist) as archive:
        prefix = archive.getnames()[0].split("/", 1)[0]
        names = {name.removeprefix(prefix + "/") for name in archive.getnames()}

    for required in (
        "pyproject.toml",
        "fluentai/syntax/resources.py",
        "grammar/fluentai.lark",
        "stdlib/http.flc",
        "tests/test_wheel.py",
    ):
        assert required in names, f"{required} missing from {sdist.name}"
    # Every example program and doc page of the checkout ships in the sdist.
    for folder, suffixes in (("examples", (".flc", ".md")), ("docs", (".md",))):
        for path in (REPO_ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in suffixes:
                relative = path.relative_to(REPO_ROOT).as_posix()
                assert relative in names, f"{relative} missing from {sdist.name}"

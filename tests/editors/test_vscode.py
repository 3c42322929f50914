"""The VS Code extension in editors/vscode/: its TextMate grammar passes the annotated
samples under editors/vscode/test/ and agrees with the Pygments lexer on every program of
the repository, its client starts `<fluentai.serverPath> lsp` over stdio, and it packages
to a .vsix.

These tests need Node.js 18 or newer and npm (Debian: `apt-get install nodejs npm`;
`.ci/run` installs them when they are missing). Without them the tests are skipped, except
in CI (the environment variable CI set) where that is a failure. The npm packages come from
`npm ci` run here, from editors/vscode/package-lock.json; an editors/vscode/node_modules/
installed from the current lock file is reused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from pygments.token import Token

from fluentai.frontends.pygments_lexer import FluentAILexer
from fluentai.syntax.errors import FluentSyntaxError
from fluentai.syntax.parser import parse
from fluentai.syntax.source import Source

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "editors" / "vscode"
SAMPLES = sorted((EXT / "test").glob("*.test.flc"))
PROGRAMS = sorted(p for folder in ("examples", "tests/spec", "stdlib")
                  for p in (ROOT / folder).rglob("*.flc"))
TIMEOUT = 600  # seconds: npm ci on a cold cache downloads ~200 packages
INSTALL_HINT = "Debian: apt-get install nodejs npm"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"{reason} ({INSTALL_HINT}): CI must run the editor tests "
                    f"(see SYSTEM_PACKAGES in .ci/run)", pytrace=False)
    pytest.skip(f"{reason} ({INSTALL_HINT}): skipping the VS Code extension tests")


def _run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    # stdin closed: vsce and npm must never wait for an answer.
    env = dict(os.environ, npm_config_update_notifier="false", npm_config_fund="false")
    return subprocess.run(args, cwd=EXT, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, env=env, check=False)


def _output(run: subprocess.CompletedProcess[str]) -> str:
    return f"exit status {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}"


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """editors/vscode/node_modules, installed with `npm ci` unless it already matches the
    lock file (npm records what it installed in node_modules/.package-lock.json)."""
    for tool in ("node", "npm", "npx"):
        if shutil.which(tool) is None:
            _unavailable(f"`{tool}` is not installed")
    version = _run(["node", "--version"]).stdout.strip()
    major = re.match(r"v(\d+)\.", version)
    if major is None or int(major.group(1)) < 18:
        _unavailable(f"Node.js 18 or newer is needed, found {version or 'none'}")
    modules = EXT / "node_modules"
    installed = modules / ".package-lock.json"
    inputs = (EXT / "package.json", EXT / "package-lock.json")
    if not installed.exists() or any(p.stat().st_mtime > installed.stat().st_mtime
                                     for p in inputs):
        # --ignore-scripts: the one install script in the tree (@vscode/vsce-sign's) sets up
        # a signing tool that `vsce package` does not use; nothing else needs to run.
        run = _run(["npm", "ci", "--ignore-scripts", "--no-audit"], timeout=TIMEOUT)
        assert run.returncode == 0, "npm ci failed:\n" + _output(run)
    return modules


# ---------------------------------------------------------------------------- no Node needed
def test_manifest() -> None:
    manifest = json.loads((EXT / "package.json").read_text(encoding="utf-8"))
    (language,) = manifest["contributes"]["languages"]
    assert language["id"] == "fluentai" and language["extensions"] == [".flc"]
    assert "icon" not in manifest and "icon" not in language
    (grammar,) = manifest["contributes"]["grammars"]
    assert grammar["scopeName"] == "source.fluentai" and (EXT / grammar["path"]).is_file()
    assert (EXT / language["configuration"]).is_file()
    setting = manifest["contributes"]["configuration"]["properties"]["fluentai.serverPath"]
    assert setting["default"] == "fluentai"
    assert "vscode-languageclient" in manifest["dependencies"]
    assert {"@vscode/vsce", "vscode-tmgrammar-test"} <= set(manifest["devDependencies"])
    lock = json.loads((EXT / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"], \
        "package-lock.json is stale: run npm install in editors/vscode"


def test_language_configuration() -> None:
    config = json.loads((EXT / "language-configuration.json").read_text(encoding="utf-8"))
    assert config["comments"] == {"lineComment": "//", "blockComment": ["/*", "*/"]}
    closing = {pair["open"]: pair["close"] for pair in config["autoClosingPairs"]}
    assert {"{": "}", "[": "]", "(": ")", '"': '"'}.items() <= closing.items()
    # The indentation rules are JavaScript regexes; these are also valid Python ones.
    rules = config["indentationRules"]
    increase, decrease = re.compile(rules["increaseIndentPattern"]), \
        re.compile(rules["decreaseIndentPattern"])
    for line in ("function f(x) {", "let xs = [", "  print(", "match v {"):
        assert increase.search(line), line
    for line in ("let x = 1", "if a { b }", "// {", "f(x)"):
        assert not increase.search(line), line
    assert decrease.search("  }") and decrease.search("]") and not decrease.search("x }")


# ---------------------------------------------------------------------------- with Node
@pytest.mark.slow
def test_grammar_samples(node_modules: Path) -> None:
    assert len(SAMPLES) >= 4, "the annotated samples are missing"
    run = _run(["npx", "--no", "--", "vscode-tmgrammar-test", "test/**/*.test.flc"])
    assert run.returncode == 0, _output(run)
    for sample in SAMPLES:  # each one was found and run
        assert f"test/{sample.name}" in run.stdout, _output(run)


def _parses(path: Path) -> bool:
    try:
        parse(Source(str(path), path.read_text(encoding="utf-8")))
    except FluentSyntaxError:
        return False
    return True


CLASSES = ((Token.Comment, "c"), (Token.String, "s"), (Token.Number, "n"), (Token.Keyword, "k"))


def _pygments_classes(text: str) -> str:
    """What the Pygments lexer says of each character, in test/tokenize.js's letters:
    c comment, s string, n number, k keyword or constant, . anything else."""
    out = []
    for _, kind, value in FluentAILexer().get_tokens_unprocessed(text):
        letter = next((c for token, c in CLASSES if kind in token), ".")
        out.extend("\n" if ch == "\n" else letter for ch in value)
    return "".join(out)


@pytest.mark.slow
def test_grammar_on_the_programs(node_modules: Path) -> None:
    """On every program of the repository and every sample, the TextMate grammar and the
    Pygments lexer agree, character by character, on what is a comment, a string, a
    number and a keyword. In a program the parser accepts, every string, f-string,
    comment and brace the grammar opens is closed again and nothing is marked invalid."""
    files = PROGRAMS + SAMPLES
    valid = {p for p in PROGRAMS if _parses(p)}
    assert len(valid) > 100
    run = _run(["node", "test/tokenize.js", *map(str, files)])
    assert run.returncode == 0, _output(run)
    results = {Path(r["file"]): r for r in map(json.loads, run.stdout.splitlines())}
    assert set(results) == set(files)
    unbalanced = [(r["file"], r["invalid"]) for p, r in results.items()
                  if p in valid and (not r["balanced"] or r["invalid"])]
    assert not unbalanced
    for path, result in results.items():
        text = path.read_text(encoding="utf-8")
        pygments, textmate = _pygments_classes(text), result["classes"]
        for n, (line, a, b) in enumerate(zip(text.split("\n"), pygments.split("\n"),
                                             textmate.split("\n"), strict=True), 1):
            if a != b:
                pytest.fail(f"{path.relative_to(ROOT)}:{n}: the highlighters disagree\n"
                            f"  code      {line}\n  Pygments  {a}\n  TextMate  {b}",
                            pytrace=False)


@pytest.mark.slow
def test_client(node_modules: Path) -> None:
    run = _run(["node", "--test", "test/extension.test.js"])
    assert run.returncode == 0, _output(run)
    assert re.search(r"^# pass [1-9]", run.stdout, re.MULTILINE), _output(run)


@pytest.mark.slow
def test_vsix(node_modules: Path, tmp_path: Path) -> None:
    vsix = tmp_path / "fluentai.vsix"
    # No license file or repository: the flags say so, instead of vsce asking.
    run = _run(["npx", "--no", "--", "vsce", "package", "--skip-license",
                "--allow-missing-repository", "--out", str(vsix)], timeout=TIMEOUT)
    assert run.returncode == 0, _output(run)
    assert vsix.is_file() and vsix.stat().st_size > 0
    names = set(zipfile.ZipFile(vsix).namelist())
    for name in ("extension/package.json", "extension/extension.js",
                 "extension/language-configuration.json",
                 "extension/syntaxes/fluentai.tmLanguage.json",
                 "extension/node_modules/vscode-languageclient/package.json"):
        assert name in names, name
    # Tests and build tools stay out.
    assert not [n for n in names if n.startswith("extension/test/")
                or "/node_modules/@vscode/vsce" in n or "vscode-tmgrammar-test" in n]

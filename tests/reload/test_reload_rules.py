"""Which top-level statements a reload runs (docs/reload.md), in-process on a program
without servers: constants that changed or read a changed constant run again and others do
not, existing lets keep their values, removed definitions go, and `main` is not called
again."""

from __future__ import annotations

from pathlib import Path

import pytest
from reloadkit import write

from fluentai.interpreter import Interpreter, read_source
from fluentai.interpreter.host import new_module
from fluentai.interpreter.reload import Reloader
from fluentai.runtime.functions import call

V1 = """\
const RATE = 2
const DOUBLE = RATE * 2
const LOGGED = print("LOGGED evaluated")
let total = 0
function add(n) { total += n * DOUBLE; total }
function old_helper() { 1 }
function main() { print("main ran") }
print("top level ran")
"""


async def test_what_a_reload_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "prog.flc"
    write(path, V1)
    interp = Interpreter(deterministic=True)
    module = new_module("__main__", str(path))
    compiled = interp.compile(read_source(str(path)), module, tmp_path)
    lines: list[str] = []
    reloader = Reloader(interp, say=lines.append)
    reloader.adopt(path, module, compiled.resolution.program)
    await interp.run_top(compiled)
    await interp.run_main(compiled)
    g = module.globals
    assert call(g["add"], [1]) == 4
    assert capsys.readouterr().out == "LOGGED evaluated\ntop level ran\nmain ran\n"

    write(path, V1.replace("const RATE = 2", "const RATE = 5")
                  .replace("function old_helper() { 1 }\n", "")
                  .replace("let total = 0", "let total = 1000"))
    [outcome] = await reloader.reload([path])
    assert outcome.ok
    assert lines[0].startswith("reloaded ") and ": 1 function removed, 1 const changed (" \
        in lines[0]
    assert lines[1:] == ["note: line 4: let 'total' changed but keeps its current value (a "
                         "reload does not run an existing let again; restart to apply it)"]
    # DOUBLE reads RATE, so it ran again; LOGGED did not change and did not run; neither did
    # the top-level print nor main; `total` kept its value.
    assert capsys.readouterr().out == ""
    assert g["DOUBLE"] == 10
    assert call(g["add"], [1]) == 14
    assert "old_helper" not in g
    assert "RATE" in module.consts and "DOUBLE" in module.consts
    await interp.shutdown()

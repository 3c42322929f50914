"""The effect system (SPEC §6): `handle` frames, runtime handlers, plugins, determinism."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import run_program

from fluentai.effects import STRING, EffectHandler, expect, operation
from fluentai.interpreter import Interpreter, run_interpreter
from fluentai.syntax.source import Source


def test_clause_value_is_the_value_of_perform(tmp_path: Path, capsys: Any) -> None:
    r = run_program(tmp_path, capsys, """
        let v = handle { perform Time.now() + 1 } with { Time.now() => 41 }
        print(v)
    """)
    assert (r.status, r.out) == (0, "42\n"), r.err


def test_innermost_frame_wins_and_clause_performs_go_outward(tmp_path: Path, capsys: Any) -> None:
    r = run_program(tmp_path, capsys, """
        let v = handle {
            handle { perform Log.say("hi") } with { Log.say(m) => "inner(" + perform Log.say(m) + ")" }
        } with { Log.say(m) => "outer:" + m }
        print(v)
    """)
    assert r.out == "inner(outer:hi)\n", r.err


def test_frame_ends_with_its_body(tmp_path: Path, capsys: Any) -> None:
    r = run_program(tmp_path, capsys, """
        handle { print(perform Time.now()) } with { Time.now() => 7 }
        print(perform Time.now() == 7)
    """)
    assert r.out == "7\nfalse\n", r.err


def test_unhandled_operation_is_an_effect_error_at_the_perform(tmp_path: Path, capsys: Any) -> None:
    r = run_program(tmp_path, capsys, """
        let x = 1
        let e = try { perform Nope.op(1) } catch (e) { e }
        print(e.kind)
        handle { perform Time.nope() } with { Time.now() => 1 }
    """)
    assert r.status == 1
    assert r.out == "EffectError\n"
    assert ":5:18: error: EffectError: unhandled effect Time.nope" in r.err


def test_tasks_started_in_the_body_keep_the_frame(tmp_path: Path, capsys: Any) -> None:
    r = run_program(tmp_path, capsys, """
        async function worker(name, delay) {
            perform Time.sleep(delay).await()
            perform Log.say(name)
        }
        let ps = handle {
            [worker("a", 20), worker("b", 10)]
        } with { Log.say(m) => print("handled " + m) }
        // The handle has ended; both tasks still see its frame when they resume.
        Promise.all(ps).await()
        print("done")
    """)
    assert r.out == "handled b\nhandled a\ndone\n", r.err


def test_concurrent_tasks_see_their_own_frames(tmp_path: Path, capsys: Any) -> None:
    r = run_program(tmp_path, capsys, """
        async function ask(delay) {
            perform Time.sleep(delay).await()
            perform Who.ami()
        }
        let a = handle { ask(20) } with { Who.ami() => "A" }
        let b = handle { ask(10) } with { Who.ami() => "B" }
        print(Promise.all([a, b]).await())
    """)
    assert r.out == '["A", "B"]\n', r.err


def test_handlers_replace_builtin_effects_for_testing(tmp_path: Path, capsys: Any) -> None:
    # A FluentAI function under test, with Time and IO replaced by fakes.
    r = run_program(tmp_path, capsys, """
        function greet(name) {
            let hour = (perform Time.now() / 3600000) % 24
            perform IO.println(if hour < 12 { "Good morning, " + name } else { "Hello, " + name })
        }
        let written = []
        handle { greet("Ann") } with {
            Time.now() => 9 * 3600000,
            IO.println(text) => written.push(text),
        }
        handle { greet("Bob") } with {
            Time.now() => 15 * 3600000,
            IO.println(text) => written.push(text),
        }
        print(written)
    """)
    assert r.out == '["Good morning, Ann", "Hello, Bob"]\n', r.err


def test_async_operations_can_be_intercepted(tmp_path: Path, capsys: Any) -> None:
    r = run_program(tmp_path, capsys, """
        let slept = []
        handle {
            perform Time.sleep(100000).await()
            print("no real sleep")
        } with { Time.sleep(ms) => slept.push(ms) }
        print(slept)
    """)
    assert r.out == "no real sleep\n[100000]\n", r.err


class Greeter(EffectHandler):
    effect = "Greeter"

    @operation()
    def hello(self, name: Any) -> str:
        expect("Greeter.hello()", name, STRING.named("a name"))
        return f"hello {name}"

    @operation()
    async def later(self, ms: Any) -> str:
        await self.ctx.sleep(ms)
        return "later"


def test_python_handler_registered_when_embedding(capsys: Any) -> None:
    interp = Interpreter(deterministic=True, effects=[Greeter])
    source = Source("embed.flc", 'print(perform Greeter.hello("x"))\n'
                                 'print(perform Greeter.later(5).await())\n'
                                 'perform Greeter.hello(3)\n')
    status = run_interpreter(interp, source)
    out, err = capsys.readouterr()
    assert out == "hello x\nlater\n"
    assert status == 1
    assert "Greeter.hello() expects a name, got int" in err


def test_arity_of_operations_is_checked(tmp_path: Path, capsys: Any) -> None:
    r = run_program(tmp_path, capsys, "perform Time.now(1)\n")
    assert "Time.now() takes 0 arguments, got 1" in r.err


def test_plugins_come_from_the_entry_point_group(monkeypatch: Any, capsys: Any) -> None:
    class FakeEntryPoint:
        name = "Greeter"
        value = "tests:Greeter"

        def load(self) -> type[EffectHandler]:
            return Greeter

    class Broken(FakeEntryPoint):
        name = "Broken"
        value = "nowhere:Nothing"

        def load(self) -> type[EffectHandler]:
            raise ImportError("no module named nowhere")

    import importlib.metadata

    def fake_entry_points(group: str) -> list[Any]:
        assert group == "fluentai.effects"
        return [FakeEntryPoint(), Broken()]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    status = run_interpreter(Interpreter(), Source("p.flc", 'print(perform Greeter.hello("y"))\n'))
    out, err = capsys.readouterr()
    assert (status, out) == (0, "hello y\n")
    assert "effect plugin 'Broken' (nowhere:Nothing) not loaded" in err


def test_state_time_random(tmp_path: Path, capsys: Any) -> None:
    r = run_program(tmp_path, capsys, """
        perform State.set("a", 1)
        perform State.set("b", [2])
        print(perform State.keys(), perform State.get("b"), perform State.get("zzz"))
        perform State.delete("a")
        print(perform State.keys())
        print(perform Time.format(0), perform Time.format(86400000, "%Y-%m-%d"))
        perform Random.seed(3)
        let a = [perform Random.int(0, 100), perform Random.float() < 1, perform Random.choice(["x"])]
        perform Random.seed(3)
        let b = [perform Random.int(0, 100), perform Random.float() < 1, perform Random.choice(["x"])]
        print(a == b, a[1], a[2])
        print(try { perform Random.int(5, 5) } catch (e) { e.kind })
    """)
    assert r.out == (
        '["a", "b"] [2] nil\n["b"]\n1970-01-01T00:00:00.000Z 1970-01-02\n'
        "true true x\nValueError\n"
    ), r.err


def test_deterministic_clock_starts_fixed_and_advances_with_sleeps(tmp_path: Path, capsys: Any) -> None:
    r = run_program(tmp_path, capsys, """
        let t0 = perform Time.now()
        print(perform Time.format(t0))
        perform Time.sleep(250).await()
        print(perform Time.now() - t0)
    """)
    assert r.out == "2024-01-01T00:00:00.000Z\n250\n", r.err


def test_read_line_reads_stdin_until_end(tmp_path: Path) -> None:
    import subprocess

    prog = tmp_path / "echo.flc"
    prog.write_text("""
        async function main() {
            loop {
                let line = perform IO.read_line().await()
                if line == nil { break }
                perform IO.println("> " + line)
            }
            print("eof")
        }
    """)
    done = subprocess.run([sys.executable, "-m", "fluentai", "run", str(prog)],
                          input="one\ntwo\n", capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "> one\n> two\neof\n"), done.stderr


def test_io_files(tmp_path: Path, capsys: Any) -> None:
    target = tmp_path / "out.txt"
    r = run_program(tmp_path, capsys, f"""
        perform IO.write_file("{target}", "line1\\nline2")
        print(perform IO.read_file("{target}").split("\\n"))
        print(try {{ perform IO.read_file("{tmp_path}/missing.txt") }} catch (e) {{ e.kind }})
        perform IO.print("no newline")
        perform IO.println("!")
    """)
    assert r.out == '["line1", "line2"]\nEffectError\nno newline!\n', r.err


EXAMPLES = sorted(p for p in (Path(__file__).parent.parent / "examples").glob("*.flc")
                  if not p.read_text().startswith(("// module", "// server")))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_deterministic_output_is_identical_across_three_runs(example: Path) -> None:
    import subprocess

    outputs = set()
    for _ in range(3):
        done = subprocess.run([sys.executable, "-m", "fluentai", "run", "--deterministic",
                               str(example)], capture_output=True, text=True, timeout=60,
                              cwd=example.parent.parent)
        outputs.add((done.returncode, done.stdout, done.stderr))
    assert len(outputs) == 1

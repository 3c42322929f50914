"""The resolve pass (fluentai/resolve/): what it decides about names, slots and frames, the
static errors it collects, and that code generation compiles every node once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fluentai.compile.codegen import CodeGen
from fluentai.frontends.check import check_source
from fluentai.interpreter import Interpreter
from fluentai.interpreter.host import new_module
from fluentai.resolve.resolution import Global, Local
from fluentai.resolve.resolver import resolve
from fluentai.syntax import ast
from fluentai.syntax.errors import FluentSyntaxError, StaticErrors
from fluentai.syntax.parser import parse
from fluentai.syntax.source import Source

SPEC = Path(__file__).parent / "spec"


def resolved(text: str, **kw: Any) -> tuple[ast.Program, Any]:
    program = parse(Source("prog.flc", text))
    return program, resolve(program, **kw)


def nodes(program: ast.Program, kind: type) -> list[Any]:
    return [n for n in ast.walk(program) if isinstance(n, kind)]


def test_nested_capturing_loops_compile_each_body_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The old compiler compiled a loop body twice when a closure captured one of its
    # variables, so 12 nested loops compiled the innermost lambda 2**12 times.
    compiled: Counter[int] = Counter()
    real_function = CodeGen.function
    real_statements = CodeGen.statements

    def counting_function(self: CodeGen, node: Any, *args: Any) -> Any:
        compiled[id(node)] += 1
        return real_function(self, node, *args)

    def counting_statements(self: CodeGen, body: tuple[ast.Node, ...], *args: Any,
                            **kwargs: Any) -> Any:
        compiled[id(body)] += 1
        return real_statements(self, body, *args, **kwargs)

    monkeypatch.setattr(CodeGen, "function", counting_function)
    monkeypatch.setattr(CodeGen, "statements", counting_statements)
    source = Source("loops.flc", (SPEC / "s3_statements" / "closures_nested_loops.flc").read_text())
    interp = Interpreter()
    compiled_program = interp.compile(source, new_module("__main__", None), None)
    program = compiled_program.resolution.program
    loops = nodes(program, ast.For)
    lambdas = nodes(program, ast.Lambda)
    assert len(loops) == 12 and len(lambdas) == 2
    for node in lambdas:
        assert compiled[id(node)] == 1
    for loop in loops:
        assert compiled[id(loop.body.body)] == 1
    # Every loop body runs in a fresh frame per iteration: the lambda captures them all.
    assert all(loop in compiled_program.resolution.fresh_loops for loop in loops)


def test_loops_without_captures_share_the_enclosing_frame() -> None:
    program, res = resolved("function f(xs) { let t = 0\n for x in xs { let y = x * 2\n t += y }\n"
                            " t }\n")
    [loop] = nodes(program, ast.For)
    assert loop not in res.fresh_loops
    [fn] = nodes(program, ast.FunctionDecl)
    # xs, t, x, y: four slots after the parent environment.
    assert res.functions[fn].size == 5


def test_a_capture_in_a_nested_block_of_a_loop_body_gives_it_a_fresh_frame() -> None:
    program, res = resolved("let fs = []\nfor i in 0..3 { if true { let y = i\n"
                            " fs.push(() => y) } }\nprint(fs.map(f => f()))\n")
    [loop] = nodes(program, ast.For)
    assert loop in res.fresh_loops


def test_uses_resolve_to_depth_and_slot_or_global() -> None:
    program, res = resolved("let g = 1\nfunction f(a) { let b = a\n () => a + b + g }\n")
    uses = {(v.name, v.span.line): res.ref(v) for v in nodes(program, ast.Var)}
    assert uses[("a", 2)] == Local(0, 1, name="a")  # `let b = a` in f's frame
    assert uses[("a", 3)] == Local(1, 1, name="a")  # from the lambda: one frame up
    assert uses[("b", 3)] == Local(1, 2, name="b")
    assert uses[("g", 3)] == Global("g")


def test_sequential_scope_a_later_let_is_not_seen_earlier() -> None:
    program, res = resolved("function f() { print(x)\n let x = 1\n x }\n")
    first, second = [v for v in nodes(program, ast.Var) if v.name == "x"]
    assert res.ref(first) == Global("x")
    assert type(res.ref(second)) is Local


FIVE_ERRORS = """\
function f(a, a) { 1 }
break
function g(x = 1, y) { y }
return 2
let v = undefined_name
"""


def test_every_static_error_is_collected_with_its_span() -> None:
    _, res = resolved(FIVE_ERRORS, defined={"print"}, report_undefined=True)
    found = [(e.message, e.span.line, e.span.column) for e in res.errors if e.span]
    assert found == [
        ("duplicate parameter 'a'", 1, 15),
        ("'break' outside a loop", 2, 1),
        ("parameter 'y' needs a default value: it follows one that has", 3, 19),
        ("'return' outside a function", 4, 1),
        ("'undefined_name' is not defined", 5, 9),
    ]


def test_check_reports_all_five(tmp_path: Path) -> None:
    path = tmp_path / "five.flc"
    path.write_text(FIVE_ERRORS, encoding="utf-8")
    errors = check_source(str(path))
    assert [e.span.line for e in errors if e.span] == [1, 2, 3, 4, 5]
    assert all(e.render().startswith(f"{path}:{e.span.line}:") for e in errors if e.span)


def test_run_reports_every_static_error_before_running() -> None:
    with pytest.raises(StaticErrors) as info:
        Interpreter().compile(Source("prog.flc", FIVE_ERRORS), new_module("__main__", None),
                              None)
    # `run` does not report undefined names (they are NameErrors when reached): four.
    assert [e.span.line for e in info.value.errors if e.span] == [1, 2, 3, 4]
    rendered = info.value.render()
    assert rendered.count("prog.flc:") == 4 and "^" in rendered


def test_one_static_error_is_raised_as_itself() -> None:
    with pytest.raises(FluentSyntaxError) as info:
        Interpreter().compile(Source("prog.flc", "break\n"), new_module("__main__", None), None)
    assert type(info.value) is FluentSyntaxError


def test_break_inside_a_lambda_inside_a_loop_is_outside_a_loop() -> None:
    _, res = resolved("for x in [1] { let f = () => { break } }\n")
    assert [e.message for e in res.errors] == ["'break' outside a loop"]


def test_calls_main_is_decided_outside_function_bodies() -> None:
    _, res = resolved("function main() { 1 }\nfunction other() { main() }\n")
    assert res.defines_main and not res.calls_main
    _, res = resolved("function main() { 1 }\nmain()\n")
    assert res.calls_main


def test_walk_visits_every_node_in_source_order() -> None:
    program = parse(Source("p.flc", "let a = [1, {\"k\": b}]\nf(a)\n"))
    names = [n.name for n in ast.walk(program) if isinstance(n, ast.Var)]
    assert names == ["b", "f", "a"]
    inside = list(ast.walk(program, enter=lambda n: not isinstance(n, ast.ListLit)))
    assert not any(isinstance(n, ast.MapLit) for n in inside)


def test_each_local_use_names_its_declaration() -> None:
    # Resolution.declarations: the node that declared what each local use means (tools such
    # as the language server follow it; code generation does not read it).
    program, res = resolved(
        "let g = 1\n"
        "function f(p, q) {\n"
        "  let x = p\n"
        "  for i in [1] { x += i }\n"
        "  let h = y => x + y + q\n"
        "  match [x] { [a] | [a, _] => a, _ => g }\n"
        "  try { h(1) } catch (e) { e }\n"
        "}\n")
    (f,) = [n for n in program.body if isinstance(n, ast.FunctionDecl)]
    p, q = f.params
    let_x, let_h = nodes(f, ast.Let)
    (loop,) = nodes(f, ast.For)
    (lam,) = nodes(f, ast.Lambda)
    (try_,) = nodes(f, ast.Try)
    first_a, second_a = nodes(f, ast.BindPat)
    meant = {(v.name, v.span.line): res.declarations.get(v) for v in nodes(f, ast.Var)}
    assert meant[("p", 3)] is p
    assert meant[("x", 4)] is let_x and meant[("i", 4)] is loop
    assert meant[("x", 5)] is let_x and meant[("y", 5)] is lam.params[0]
    assert meant[("q", 5)] is q and meant[("h", 7)] is let_h
    assert meant[("a", 6)] is first_a and res.declarations[second_a] is first_a
    assert meant[("e", 7)] is try_
    assert meant[("g", 6)] is None  # a global: tied by name, not by node

"""`fluentai lsp` driven as a real subprocess over stdio with JSON-RPC (tests/lsp/lsp_client.py):
initialize, didOpen/didChange with the diagnostics they publish, completion, hover,
definition, references, rename, documentSymbol, semanticTokens, shutdown and exit, on the
example programs (chat.flc; modules.flc with geometry.flc) and on small programs written
for one feature. Diagnostics are awaited as notifications, never slept for."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsp_client import ROOT, LspClient, ServerError, where

EXAMPLES = ROOT / "examples"
CHAT = (EXAMPLES / "chat.flc").read_text()
MODULES = (EXAMPLES / "modules.flc").read_text()
GEOMETRY = (EXAMPLES / "geometry.flc").read_text()


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


def position(text: str, needle: str, nth: int = 0, offset: int = 0) -> dict[str, int]:
    line, character = where(text, needle, nth, offset)
    return {"line": line, "character": character}


def labels(result: dict[str, Any]) -> list[str]:
    return [item["label"] for item in result["items"]]


def hover_text(result: dict[str, Any] | None) -> str:
    assert result is not None
    return result["contents"]["value"]


# ------------------------------------------------------------------------ lifecycle
def test_initialize_announces_every_feature() -> None:
    client = LspClient("--stdio")  # editors' clients pass it
    try:
        result = client.initialize()
    finally:
        assert client.close() == 0
    caps = result["capabilities"]
    assert result["serverInfo"]["name"] == "fluentai"
    assert caps["completionProvider"]["triggerCharacters"] == ["."]
    assert caps["hoverProvider"] and caps["definitionProvider"] and caps["referencesProvider"]
    assert caps["renameProvider"] == {"prepareProvider": True}
    assert caps["documentSymbolProvider"]
    legend = caps["semanticTokensProvider"]["legend"]
    assert {"function", "parameter", "variable", "namespace"} <= set(legend["tokenTypes"])
    assert caps["textDocumentSync"]["change"] == 2  # incremental


def test_without_pygls_the_command_says_what_to_install() -> None:
    code = ("import sys; sys.modules['pygls'] = None; "
            "from fluentai.frontends.cli import main; raise SystemExit(main(['lsp']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert "pip install 'fluentai[lsp]'" in proc.stderr and "pygls" in proc.stderr


def test_lsp_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "fluentai", "lsp", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "language server" in proc.stdout
    assert "lsp" in subprocess.run([sys.executable, "-m", "fluentai", "--help"],
                                   capture_output=True, text=True, timeout=60).stdout


# ------------------------------------------------------------------------ diagnostics
def test_the_examples_have_no_diagnostics(lsp: LspClient) -> None:
    for name in ("chat.flc", "modules.flc", "geometry.flc", "http_api.flc", "echo.flc"):
        published = lsp.open(uri_of(EXAMPLES / name), (EXAMPLES / name).read_text())
        assert published["diagnostics"] == [], name


ERRORS = """\
function f(a, a) { return a }
let total = 0
for i in 0..3 { totl += i }
break
pritn("x")
return 3
"""


def _check(path: Path) -> list[tuple[int, int, str]]:
    proc = subprocess.run([sys.executable, "-m", "fluentai", "check", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    return [(int(m[1]), int(m[2]), m[3]) for m in
            re.finditer(r"^.*?:(\d+):(\d+): error: (.*)$", proc.stderr, re.M)]


def _errors(published: dict[str, Any]) -> list[tuple[int, int, str]]:
    return [(d["range"]["start"]["line"] + 1, d["range"]["start"]["character"] + 1,
             d["message"]) for d in published["diagnostics"] if d["severity"] == 1]


def test_errors_are_exactly_what_check_reports(lsp: LspClient, tmp_path: Path) -> None:
    path = tmp_path / "errors.flc"
    path.write_text(ERRORS)
    expected = _check(path)
    assert len(expected) >= 5
    assert _errors(lsp.open(uri_of(path), ERRORS)) == expected


def test_a_syntax_error_as_check_reports_it_then_fixed(lsp: LspClient, tmp_path: Path) -> None:
    path = tmp_path / "edit.flc"
    good = 'let a = [1, 2]\nprint(a.length())\n'
    path.write_text(good)
    uri = uri_of(path)
    assert lsp.open(uri, good)["diagnostics"] == []
    # Delete the closing bracket (an incremental change), as a user typing would.
    lsp.change(uri, 2, "", at=((0, 13), (0, 14)))
    broken = good.replace("]", "", 1)
    path.write_text(broken)
    published = lsp.diagnostics_for(uri, 2)
    assert _errors(published) == _check(path)
    (diagnostic,) = published["diagnostics"]
    assert "']' missing" in diagnostic["message"]
    lsp.change(uri, 3, "]", at=((0, 13), (0, 13)))
    assert lsp.diagnostics_for(uri, 3)["diagnostics"] == []


def test_an_error_in_a_used_module_is_shown_on_the_use(lsp: LspClient, tmp_path: Path) -> None:
    (tmp_path / "helper.flc").write_text("public function twice(x) { x * 2 }\n")
    main = tmp_path / "main.flc"
    text = "use helper::{twice, thrice}\nprint(twice(2))\n"
    main.write_text(text)
    published = lsp.open(uri_of(main), text)
    (diagnostic,) = published["diagnostics"]
    assert diagnostic["message"] == "module 'helper' has no public 'thrice'"
    # An unsaved edit of the module is what counts, not the file on disk; the files using
    # it are checked again by themselves.
    helper_uri = uri_of(tmp_path / "helper.flc")
    lsp.open(helper_uri, "public function twice(x) { x * 2 }\n"
                         "public function thrice(x) { x * 3 }\n")
    assert lsp.diagnostics_for(uri_of(main), 1)["diagnostics"] == []
    lsp.change(helper_uri, 2, "public function twice(x) { x * 2 \n")
    (diagnostic,) = lsp.diagnostics_for(uri_of(main), 1)["diagnostics"]
    assert diagnostic["range"]["start"] == {"line": 0, "character": 0}  # the `use`
    assert "helper.flc:1:" in diagnostic["message"] and "unclosed '{'" in diagnostic["message"]
    assert diagnostic["relatedInformation"][0]["location"]["uri"] == helper_uri


WARNINGS = """\
function f() {
  let unused = 1
  let _ignored = 2
  let written = 3
  written = 4
  let used = 5
  used
}
let server = perform HttpServer.listen(0, true).await()
perform Time.sleeep(1)
perform Nope.op()
let custom = handle { perform Ask.name() } with { Ask.name() => "x" }
"""


def test_warnings(lsp: LspClient, tmp_path: Path) -> None:
    published = lsp.open(uri_of(tmp_path / "warnings.flc"), WARNINGS)
    found = {(d["range"]["start"]["line"], d["message"].split(":")[0].split(" (")[0])
             for d in published["diagnostics"]}
    assert all(d["severity"] == 2 for d in published["diagnostics"])
    assert found == {
        (1, "'unused' is never used"),
        (3, "'written' is assigned but never read"),
        (8, "this WebSocket server has no message handler, so it drops every message"),
        (9, "effect 'Time' has no operation 'sleeep'"),
        (10, "unknown effect 'Nope'"),
    }
    unused = next(d for d in published["diagnostics"] if d["range"]["start"]["line"] == 1)
    assert unused["tags"] == [1]  # Unnecessary: editors fade it
    assert unused["range"] == {"start": {"line": 1, "character": 6},
                               "end": {"line": 1, "character": 12}}


@pytest.mark.parametrize("handler", [
    "function handle_websocket_message(id, m) { m }",
    "function handle_message(id, m) { m }",
    "function handle_chat_message(id, m) { m }",
    'perform HttpServer.on(server.id, "message", "chat")',
])
def test_a_message_handler_silences_the_server_warning(lsp: LspClient, tmp_path: Path,
                                                       handler: str) -> None:
    text = f"let server = perform HttpServer.listen(0, true).await()\n{handler}\n"
    uri = uri_of(tmp_path / f"server_{abs(hash(handler))}.flc")
    assert lsp.open(uri, text)["diagnostics"] == []


def test_warnings_can_be_switched_off() -> None:
    client = LspClient()
    try:
        client.initialize({"warnings": False, "diagnosticsDelay": 0})
        published = client.open("untitled:Untitled-1", WARNINGS)
        assert published["diagnostics"] == []
        client.notify("workspace/didChangeConfiguration",
                      {"settings": {"fluentai": {"warnings": True}}})
        again = client.diagnostics_for("untitled:Untitled-1", 1)
        assert len(again["diagnostics"]) == 5
    finally:
        assert client.close() == 0


# ------------------------------------------------------------------------ completion
PROGRAM = """\
let config = {"server": {"port": 80, "host": "example"}, "name": "demo"}
let greeting = "hello"
use geometry
function total(items, factor) {
  let sum = 0
  for item in items { sum += item * factor }
  sum
}
"""


def complete(lsp: LspClient, uri: str, text: str, version: int) -> list[str]:
    """Completion at the end of `text` (after a didChange to it)."""
    lsp.change(uri, version, text)
    line = text.count("\n")
    return labels(lsp.at("textDocument/completion", uri, line,
                         len(text) - (text.rfind("\n") + 1)))


def test_completion(lsp: LspClient) -> None:
    uri = uri_of(EXAMPLES / "completion_demo.flc")  # beside geometry.flc, never written
    lsp.open(uri, PROGRAM)
    # Names in scope: inside the function its parameters and locals come first.
    inside = PROGRAM.replace("  sum\n}", "  s\n}")
    got = complete(lsp, uri, inside[:inside.index("  s\n}") + 3], 2)
    assert got[0] == "sum" and "sum" in got
    got = complete(lsp, uri, PROGRAM + "function g(alpha, beta) {\n  let gamma = 1\n  ", 3)
    assert got[:3] == ["gamma", "alpha", "beta"] or set(got[:3]) == {"gamma", "alpha", "beta"}
    assert {"config", "total", "print", "function", "let", "Time"} <= set(got)
    assert "sum" not in got  # a local of another function
    # Effects after `perform `, their operations after `Effect.`.
    assert "HttpServer" in complete(lsp, uri, PROGRAM + "perform Http", 4)
    assert complete(lsp, uri, PROGRAM + "perform Time.", 5) == ["format", "now", "sleep"]
    # Map keys, then map methods; through nested literals.
    got = complete(lsp, uri, PROGRAM + "config.", 6)
    assert got[:2] == ["server", "name"] and "keys" in got and "push" not in got
    assert complete(lsp, uri, PROGRAM + "config.server.", 7)[:2] == ["port", "host"]
    got = complete(lsp, uri, PROGRAM + "greeting.to_", 8)
    assert "to_upper" in got and "push" not in got
    # A module's public names only.
    assert sorted(complete(lsp, uri, PROGRAM + "geometry.", 9)) == \
        ["PI", "area", "describe", "perimeter"]
    # Keywords; nothing inside a string or a comment.
    assert "while" in complete(lsp, uri, PROGRAM + "whi", 10)
    assert complete(lsp, uri, PROGRAM + 'print("to', 11) == []
    assert complete(lsp, uri, PROGRAM + "// to", 12) == []


def test_completion_items_carry_kind_detail_and_edit(lsp: LspClient) -> None:
    uri = uri_of(EXAMPLES / "completion_items.flc")
    lsp.open(uri, PROGRAM)
    text = PROGRAM + "perform Time.sl"
    lsp.change(uri, 2, text)
    (item,) = lsp.at("textDocument/completion", uri, 8, 15)["items"]
    assert item["label"] == "sleep" and item["detail"] == "Time.sleep(ms)*"
    assert item["textEdit"] == {"newText": "sleep", "range": {
        "start": {"line": 8, "character": 13}, "end": {"line": 8, "character": 15}}}
    lsp.change(uri, 3, PROGRAM + "tot")
    (item,) = lsp.at("textDocument/completion", uri, 8, 3)["items"]
    assert item["detail"] == "function total(items, factor)" and item["kind"] == 3


def test_completion_in_a_document_that_does_not_parse(lsp: LspClient) -> None:
    uri = "untitled:Untitled-2"
    lsp.open(uri, "let ok = 1\n")
    text = "let ok = 1\nfunction f(first, second) {\n  let xs = [1, 2]\n  if first > 0 {\n    xs."
    lsp.change(uri, 2, text)
    assert lsp.diagnostics_for(uri, 2)["diagnostics"][0]["severity"] == 1
    got = labels(lsp.at("textDocument/completion", uri, 4, 7))
    assert "push" in got and "keys" not in got  # xs is a list
    lsp.change(uri, 3, text[:-3] + "se")
    assert labels(lsp.at("textDocument/completion", uri, 4, 6))[0] == "second"


# ------------------------------------------------------------------------ hover
def test_hover(lsp: LspClient) -> None:
    uri = uri_of(EXAMPLES / "chat.flc")
    lsp.open(uri, CHAT)
    # A function: its header and the comment above it.
    text = hover_text(lsp.at("textDocument/hover", uri, *where(CHAT, "broadcast({\"type\": \"left\"")))
    assert text.startswith("```fluentai\nfunction broadcast(msg)\n```")
    assert "To every user who has joined" in text and "It never waits either." in text
    text = hover_text(lsp.at("textDocument/hover", uri, *where(CHAT, "join(conn_id, msg.name")))
    assert "async function join(conn_id, name, key)" in text
    # An effect operation: its signature and description.
    text = hover_text(lsp.at("textDocument/hover", uri,
                             *where(CHAT, "ws_send(server.id, conn_id, msg)")))
    assert "perform HttpServer.ws_send(server_id, conn_id, message)" in text
    assert "without waiting" in text
    text = hover_text(lsp.at("textDocument/hover", uri, *where(CHAT, "sleep(", offset=1))) \
        if "sleep(" in CHAT else hover_text(lsp.at("textDocument/hover", uri,
                                                   *where(CHAT, "listen(", offset=1)))
    assert "*" in text and "promise" in text
    # Variables: how and where they are declared.
    text = hover_text(lsp.at("textDocument/hover", uri, *where(CHAT, "MAX_NAME", nth=1)))
    assert "const MAX_NAME" in text and "line 24" in text and "int" in text
    line, col = where(CHAT, "conn_id, msg) {")
    text = hover_text(lsp.at("textDocument/hover", uri, line, col))
    assert "parameter" in text and f"line {line + 1}" in text
    text = hover_text(lsp.at("textDocument/hover", uri, *where(CHAT, "for path in", offset=4)))
    assert "loop variable" in text
    assert "built-in" in hover_text(lsp.at("textDocument/hover", uri, *where(CHAT, "print(")))
    assert lsp.at("textDocument/hover", uri, 0, 0) is None  # a comment


def test_hover_on_module_members(lsp: LspClient) -> None:
    uri = uri_of(EXAMPLES / "modules.flc")
    lsp.open(uri, MODULES)
    text = hover_text(lsp.at("textDocument/hover", uri,
                             *where(MODULES, "area(circle)")))
    assert "public function area(shape)" in text and "geometry.flc" in text
    assert "A shape is a map" in text
    text = hover_text(lsp.at("textDocument/hover", uri, *where(MODULES, "perimeter(rect)")))
    assert "public function perimeter(shape)" in text


# ------------------------------------------------------------------------ navigation
def test_definition(lsp: LspClient) -> None:
    uri = uri_of(EXAMPLES / "modules.flc")
    geometry = uri_of(EXAMPLES / "geometry.flc")
    lsp.open(uri, MODULES)

    def definition(needle: str, nth: int = 0) -> dict[str, Any]:
        return lsp.at("textDocument/definition", uri, *where(MODULES, needle, nth))

    # `geometry.area(...)` and the imported `perimeter` lead into geometry.flc.
    found = definition("area(circle)")
    assert found["uri"] == geometry
    line, col = where(GEOMETRY, "area(shape)")
    assert found["range"]["start"] == {"line": line, "character": col}
    found = definition("perimeter(rect)")
    assert found["uri"] == geometry
    assert found["range"]["start"]["line"] == where(GEOMETRY, "perimeter(shape)")[0]
    assert definition("PI}")["range"]["start"]["line"] == where(GEOMETRY, "PI =")[0]
    # The module's name leads to its file; a local to its declaration.
    assert definition("geometry.area")["uri"] == geometry
    found = definition("circle)}")
    assert found["uri"] == uri and found["range"]["start"] == position(MODULES, "circle =")
    assert lsp.at("textDocument/definition", uri, *where(MODULES, "print(")) is None


def test_definition_of_locals_and_parameters(lsp: LspClient) -> None:
    uri = uri_of(EXAMPLES / "chat.flc")
    lsp.open(uri, CHAT)
    found = lsp.at("textDocument/definition", uri, *where(CHAT, "msg.name, msg.key"))
    assert found["range"]["start"] == position(CHAT, "msg = try")
    found = lsp.at("textDocument/definition", uri, *where(CHAT, "join(conn_id, msg", offset=5))
    assert found["range"]["start"] == position(
        CHAT, "async function handle_websocket_message(conn_id", offset=40)


def test_references(lsp: LspClient) -> None:
    uri = uri_of(EXAMPLES / "chat.flc")
    lsp.open(uri, CHAT)
    found = lsp.at("textDocument/references", uri, *where(CHAT, "function broadcast", offset=9),
                   context={"includeDeclaration": True})
    lines = sorted(r["range"]["start"]["line"] for r in found)
    expected = sorted(i for i, text in enumerate(CHAT.split("\n"))
                      if re.search(r"\bbroadcast\(", text))
    assert lines == expected and len(lines) >= 4
    without = lsp.at("textDocument/references", uri, *where(CHAT, "function broadcast", offset=9),
                     context={"includeDeclaration": False})
    assert len(without) == len(found) - 1


def test_references_across_modules(lsp: LspClient) -> None:
    geometry = uri_of(EXAMPLES / "geometry.flc")
    modules = uri_of(EXAMPLES / "modules.flc")
    lsp.open(geometry, GEOMETRY)
    found = lsp.at("textDocument/references", geometry,
                   *where(GEOMETRY, "function perimeter", offset=9),
                   context={"includeDeclaration": True})
    places = {(r["uri"], r["range"]["start"]["line"]) for r in found}
    assert places == {(geometry, where(GEOMETRY, "function perimeter")[0]),
                      (modules, where(MODULES, "use geometry::")[0]),
                      (modules, where(MODULES, "perimeter(rect)")[0])}
    found = lsp.at("textDocument/references", geometry, *where(GEOMETRY, "function area",
                                                                offset=9),
                   context={"includeDeclaration": False})
    uris = [r["uri"] for r in found]
    assert uris.count(modules) == MODULES.count("geometry.area(")
    assert uris.count(geometry) == 1  # describe() calls it


def test_rename_a_local(lsp: LspClient) -> None:
    uri = uri_of(EXAMPLES / "chat.flc")
    lsp.open(uri, CHAT)
    line, col = where(CHAT, "let nick =", offset=4)
    assert lsp.at("textDocument/prepareRename", uri, line, col) == {
        "start": {"line": line, "character": col}, "end": {"line": line, "character": col + 4}}
    edit = lsp.at("textDocument/rename", uri, line, col, newName="nickname")
    (edits,) = edit["changes"].values()
    body = CHAT[CHAT.index("async function join"):CHAT.index("function say")]
    assert len(edits) == len(re.findall(r"\bnick\b", body))
    assert {e["newText"] for e in edits} == {"nickname"}


def test_rename_refusals(lsp: LspClient) -> None:
    geometry = uri_of(EXAMPLES / "geometry.flc")
    lsp.open(geometry, GEOMETRY)
    with pytest.raises(ServerError, match=r"used from other files \(.*modules\.flc\)"):
        lsp.at("textDocument/rename", geometry, *where(GEOMETRY, "function area", offset=9),
               newName="surface")
    # modules.flc calls the private `square` (to show the error): that is a use too.
    with pytest.raises(ServerError, match="used from other files"):
        lsp.at("textDocument/rename", geometry, *where(GEOMETRY, "function square", offset=9),
               newName="squared")
    # A helper no other file uses is renamed in its file.
    edit = lsp.at("textDocument/rename", geometry,
                  *where(GEOMETRY, "function round_to", offset=9), newName="rounded")
    assert len(edit["changes"][geometry]) == 2
    with pytest.raises(ServerError, match="not a name"):
        lsp.at("textDocument/rename", geometry, *where(GEOMETRY, "factor =", offset=0),
               newName="while")
    with pytest.raises(ServerError, match="'digits' is used on line 12, inside the scope"):
        lsp.at("textDocument/rename", geometry, *where(GEOMETRY, "factor =", offset=0),
               newName="digits")
    with pytest.raises(ServerError, match="'x' already means the parameter of line 11"):
        lsp.at("textDocument/rename", geometry, *where(GEOMETRY, "digits) {"), newName="x")
    with pytest.raises(ServerError, match="builtin"):
        lsp.at("textDocument/rename", geometry, *where(GEOMETRY, "round(x"), newName="r")


def test_document_symbols(lsp: LspClient) -> None:
    uri = uri_of(EXAMPLES / "chat.flc")
    lsp.open(uri, CHAT)
    symbols = lsp.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    by_name = {s["name"]: s for s in symbols}
    assert by_name["broadcast"]["kind"] == 12 and by_name["MAX_NAME"]["kind"] == 14
    assert by_name["port"]["kind"] == 13 and by_name["http"]["kind"] == 2
    assert by_name["join"]["detail"] == "async"
    join = by_name["join"]["range"]
    assert join["start"]["line"] == where(CHAT, "async function join")[0]
    assert join["end"]["line"] > join["start"]["line"] + 10
    names = [s["name"] for s in symbols]
    assert names.index("find_page") < names.index("broadcast") < names.index("join")


def decode(data: list[int], text: str, legend: dict[str, list[str]]
           ) -> dict[tuple[int, int], tuple[str, str, set[str]]]:
    """(line, character) -> (token text, type, modifiers), from the relative encoding."""
    lines = text.split("\n")
    out = {}
    line = char = 0
    for i in range(0, len(data), 5):
        d_line, d_char, length, typ, mods = data[i:i + 5]
        line += d_line
        char = char + d_char if d_line == 0 else d_char
        names = {m for b, m in enumerate(legend["tokenModifiers"]) if mods >> b & 1}
        out[(line, char)] = (lines[line][char:char + length], legend["tokenTypes"][typ], names)
    return out


def test_semantic_tokens(lsp: LspClient) -> None:
    legend = {"tokenTypes": ["namespace", "class", "function", "method", "property",
                             "variable", "parameter", "keyword", "string", "number", "comment",
                             "operator"],
              "tokenModifiers": ["declaration", "readonly", "defaultLibrary", "async"]}
    uri = uri_of(EXAMPLES / "modules.flc")
    lsp.open(uri, MODULES)
    data = lsp.request("textDocument/semanticTokens/full", {"textDocument": {"uri": uri}})
    tokens = decode(data["data"], MODULES, legend)

    def token(needle: str, nth: int = 0, offset: int = 0) -> tuple[str, str, set[str]]:
        return tokens[where(MODULES, needle, nth, offset)]

    assert token("\nuse geometry;", offset=5) == ("geometry", "namespace", {"declaration"})
    assert token("area(circle)") == ("area", "function", set())
    assert token("PI}") == ("PI", "variable", set())
    assert token("print(") == ("print", "function", {"defaultLibrary"})
    assert token("circle =")[1:] == ("variable", {"declaration"})
    assert token("\nuse", offset=1) == ("use", "keyword", set())
    assert token('"kind"') == ('"kind"', "string", set())
    assert token("// modules")[1] == "comment"
    assert token("e.message")[1:] == ("variable", set())
    assert token("message })")[1] == "property"
    uri = uri_of(EXAMPLES / "chat.flc")
    lsp.open(uri, CHAT)
    data = lsp.request("textDocument/semanticTokens/full", {"textDocument": {"uri": uri}})
    tokens = decode(data["data"], CHAT, legend)
    assert tokens[where(CHAT, "MAX_NAME =")][1:] == ("variable", {"declaration", "readonly"})
    assert tokens[where(CHAT, "conn_id, msg) {")][1:] == ("parameter", {"declaration"})
    assert tokens[where(CHAT, "join(conn_id, name")][1:] == \
        ("function", {"declaration", "async"})
    assert tokens[where(CHAT, "HttpServer.ws_send")][1] == "class"
    assert tokens[where(CHAT, "ws_send(server")][1] == "method"


def test_positions_count_utf16_units(lsp: LspClient) -> None:
    # 😀 is two UTF-16 units: the name after it starts two units later than characters say.
    text = 'let s = "😀"; let total = 1\nprint(total)\n'
    uri = "untitled:Untitled-3"
    lsp.open(uri, text)
    found = lsp.at("textDocument/definition", uri, 1, 7)
    assert found["range"]["start"] == {"line": 0, "character": 18}
    assert found["range"]["end"] == {"line": 0, "character": 23}
    assert "let total" in hover_text(lsp.at("textDocument/hover", uri, 0, 19))


def test_positions_in_utf8_when_the_client_asks() -> None:
    client = LspClient()
    try:
        result = client.initialize(encodings=["utf-8", "utf-16"])
        assert result["capabilities"]["positionEncoding"] == "utf-8"
        uri = "untitled:Untitled-4"
        client.open(uri, 'let s = "😀"; let total = 1\nprint(total)\n')
        found = client.at("textDocument/definition", uri, 1, 7)
        assert found["range"] == {"start": {"line": 0, "character": 20},
                                  "end": {"line": 0, "character": 25}}
    finally:
        assert client.close() == 0


def test_shutdown_and_exit() -> None:
    client = LspClient()
    client.initialize()
    client.open("untitled:x", "print(1)\n")
    assert client.request("shutdown", None) is None
    client.notify("exit", None)
    assert client.proc.wait(timeout=60) == 0
    assert client.close() == 0

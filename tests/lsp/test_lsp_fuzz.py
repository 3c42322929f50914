"""The language server never breaks, whatever the text: programs from the hardening
fuzzers' generators (tests/hardening/test_fuzz.py: mutated example and spec programs, token
soups) are opened, edited with further mutations, and asked for completion, hover,
definition, references, rename, the outline and semantic tokens at random positions — in
range or not — over stdio, in one server process.

Every request must get an answer that is not an error (a refused rename excepted), the
server must log no internal error (`window/logMessage` of type Error, which it sends with the
traceback when a handler fails) and must still be running at the end.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hardening.test_fuzz import TOKENS, programs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsp_client import LspClient, ServerError

# FLUENTAI_LSP_FUZZ_EXAMPLES=2000 for a longer campaign.
EXAMPLES = int(os.environ.get("FLUENTAI_LSP_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
REFUSED = -32803  # a rename the server declines, with its reason
POSITIONED = ["textDocument/completion", "textDocument/hover", "textDocument/definition",
              "textDocument/references", "textDocument/prepareRename", "textDocument/rename"]
WHOLE = ["textDocument/documentSymbol", "textDocument/semanticTokens/full"]
_uris = itertools.count()


@pytest.fixture(scope="module")
def server() -> Iterator[LspClient]:
    client = LspClient()
    client.initialize({"diagnosticsDelay": 0})
    yield client
    assert client.proc.poll() is None, client.stderr
    assert client.close() == 0, client.stderr


def internal_errors(client: LspClient) -> list[str]:
    return [m["params"]["message"] for m in client.seen
            if m["method"] == "window/logMessage" and m["params"]["type"] == 1]


def ask(client: LspClient, method: str, uri: str, position: dict[str, int] | None) -> Any:
    params: dict[str, Any] = {"textDocument": {"uri": uri}}
    if position is not None:
        params["position"] = position
    if method == "textDocument/references":
        params["context"] = {"includeDeclaration": True}
    if method == "textDocument/rename":
        params["newName"] = "renamed_name"
    try:
        return client.request(method, params)
    except ServerError as e:
        assert method.endswith(("rename", "Rename")) and e.error["code"] == REFUSED, \
            (method, position, e.error)
        return None


def position_in(text: str) -> st.SearchStrategy[dict[str, int]]:
    """A position in the text, or just beyond its last line or a line's end."""
    lines = text.split("\n")

    def on(line: int) -> st.SearchStrategy[dict[str, int]]:
        width = len(lines[line]) if line < len(lines) else 0
        return st.fixed_dictionaries({"line": st.just(line),
                                      "character": st.integers(0, width + 2)})

    return st.integers(0, len(lines)).flatmap(on)


@FUZZ
@given(program=programs, data=st.data())
def test_any_text_gets_answers(server: LspClient, program: tuple[str, str],
                               data: st.DataObject) -> None:
    origin, text = program
    uri = f"untitled:fuzz-{next(_uris)}"
    server.open(uri, text)
    version = 1
    for _ in range(data.draw(st.integers(1, 3))):
        # An edit: a token inserted or a piece deleted at a random place, as typing does.
        at = data.draw(st.integers(0, len(text)))
        if data.draw(st.booleans()):
            text = text[:at] + data.draw(st.sampled_from(TOKENS)) + text[at:]
        else:
            text = text[:at] + text[at + data.draw(st.integers(1, 30)):]
        version += 1
        server.change(uri, version, text)
        for method in data.draw(st.lists(st.sampled_from(POSITIONED), min_size=1, max_size=4)):
            ask(server, method, uri, data.draw(position_in(text)))
        for method in WHOLE:
            ask(server, method, uri, None)
    server.diagnostics_for(uri, version)
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert not internal_errors(server), (origin, text, internal_errors(server))
    assert server.proc.poll() is None, server.stderr


PATHOLOGICAL = {
    "nested parentheses": "let x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
    "unclosed parentheses": "let x = " + "(" * 5000 + "\n",
    "nested blocks": "{" * 3000 + "}" * 3000 + "\n",
    "nested lists": "let x = " + "[" * 3000 + "]" * 3000 + "\n",
    "nested lambdas": "let f = " + "x => " * 2000 + "x\nf.\n",
    "a long f-string": 'let s = f"' + "{1}" * 20000 + '"\n',
    "a byte-order mark": "\ufeffprint(1)\nlet a = 1\na.\n",
    "CRLF line ends": "let a = 1\r\nprint(a)\r\nfunction f(x) {\r\n  x\r\n}\r\n",
    "only a comment": "/* never closed",
    "empty": "",
    "a NUL": "let a = 1\x00\nprint(a)\n",
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_texts(server: LspClient, name: str) -> None:
    text = PATHOLOGICAL[name]
    uri = f"untitled:pathological-{next(_uris)}"
    server.open(uri, text)
    last = text.split("\n")[-2] if text.count("\n") > 1 else text
    for method in POSITIONED:
        for position in ({"line": 0, "character": 3},
                         {"line": max(text.count("\n") - 1, 0), "character": len(last)}):
            ask(server, method, uri, position)
    for method in WHOLE:
        ask(server, method, uri, None)
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert not internal_errors(server), (name, internal_errors(server))

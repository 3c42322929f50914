"""`fluentai lsp`: the FluentAI language server, over stdio, for any editor that speaks the
Language Server Protocol (docs/editors.md).

It parses and resolves documents — it never runs them nor builds an interpreter — and
offers diagnostics (`fluentai check`'s errors and some warnings), completion, hover, go to
definition, references, rename, the outline and semantic tokens. Modules: `parsing`
(reparsing only the statements that changed), `symbols` (the index of declarations and
uses), `analysis` (one document's errors, warnings and index), `workspace` (open buffers
and files on disk), `lint`, `types`, then one module per feature (`complete`, `hover`,
`navigation`, `tokens`, `diagnostics`), `protocol` (positions) and `server` (pygls).

pygls and lsprotocol are an optional extra (`pip install 'fluentai[lsp]'`), imported only
when the server starts.
"""

from __future__ import annotations

import importlib.util
import sys

INSTALL = "pip install 'fluentai[lsp]'"


def main() -> int:
    """Run the server until the client ends it; exit status 2 without pygls."""
    missing = [name for name in ("pygls", "lsprotocol") if importlib.util.find_spec(name) is None]
    if missing:
        sys.stderr.write(f"fluentai lsp: the language server needs the {' and '.join(missing)} "
                         f"package{'s' if len(missing) > 1 else ''}: {INSTALL}\n")
        return 2
    from ...interpreter import configure_process
    from .server import serve

    configure_process()
    serve()
    return 0

"""`fluentai lsp`: start the language server, or say how to install what it needs."""

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

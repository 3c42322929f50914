"""`fluentai lsp`: the FluentAI language server, over stdio, for any editor that speaks the
Language Server Protocol (docs/editors.md).

It parses and resolves documents — it never runs them nor builds an interpreter — and
offers diagnostics (`fluentai check`'s errors and some warnings), completion, hover, go to
definition, references, rename, the outline and semantic tokens. Modules: `parsing`
(reparsing only the statements that changed), `symbols` (the index of declarations and
uses), `analysis` (one document's errors, warnings and index), `workspace` (open buffers
and files on disk), `lint`, `types`, then one module per feature (`complete`, `hover`,
`navigation`, `tokens`, `diagnostics`), `protocol` (positions), `server` (pygls) and
`command` (the command: it checks that pygls is installed).

pygls and lsprotocol are an optional extra (`pip install 'fluentai[lsp]'`), imported only
when the server starts. This file imports nothing, so that the modules of the package can
import each other through it without a cycle.
"""

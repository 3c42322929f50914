"""Layer 1, syntax: program text to an AST. `source` (texts and spans), `errors` (the error
hierarchy and how a diagnostic renders), `ast` (node classes and `walk`), `grammar` (the Lark
parser object), `parser` (text to AST) and `parse_errors` (Lark's errors in the user's terms).
Imports nothing else of fluentai."""

"""Layer 4, compile: a resolved AST to a tree of Python closures. Imports `syntax`, `resolve`
and `runtime`."""

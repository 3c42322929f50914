"""Layer 8, front ends: the command line (`cli`), `check`, the REPL. Nothing imports them."""

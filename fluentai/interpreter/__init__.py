"""Layer 7, the interpreter: compiles programs and modules, hosts the effect handlers and runs
a program through its lifetime. Imports every layer below it, none above (front ends).

`host` owns `Interpreter` (compile, `exec`, module loading, the services effects use),
`program` a program's lifetime as `fluentai run` gives it, `modules` source files and where
`use` finds them. The names below are the embedding API (docs/effects.md).
"""

from .host import Interpreter, internal_error_text
from .modules import LoadError, read_source
from .program import RECURSION_LIMIT, configure_process, run_interpreter, run_path

__all__ = ["RECURSION_LIMIT", "Interpreter", "LoadError", "configure_process",
           "internal_error_text", "read_source", "run_interpreter", "run_path"]

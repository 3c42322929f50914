"""Layer 3, runtime: the value model and what compiled code calls at run time — values,
operators, methods, builtins, user functions and their calls, tasks and promises. Imports
only `syntax`."""

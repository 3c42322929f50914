"""Layer 2, resolve: decides every name, slot and static error of a parsed program before
code generation. Imports only `syntax`."""

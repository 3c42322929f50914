"""Layer 7, the interpreter: compiles programs and modules, hosts the effect handlers and runs
a program through its lifetime. Imports every layer below it, none above (front ends)."""

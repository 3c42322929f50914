"""fib.py — recursive Fibonacci, the CPython twin of fib.flc.

Usage: python fib.py [n]   (default n = 27)
"""

import sys


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


n = int(sys.argv[1]) if len(sys.argv) > 1 else 27
print(f"fib({n}) = {fib(n)}")

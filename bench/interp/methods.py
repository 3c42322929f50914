"""methods.py — map / filter / reduce with lambdas, the CPython twin of methods.flc.

Usage: python methods.py [rounds]   (default 300 rounds over 1000 elements)
"""

import sys
from functools import reduce

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 300
xs = list(range(0, 1000))

grand = 0
for r in range(rounds):
    # list(...) at each step: FluentAI's map and filter build a new list each time too
    mapped = list(map(lambda x: x * 2 + r, xs))
    kept = list(filter(lambda x: x % 3 == 0, mapped))
    total = reduce(lambda acc, x: acc + x, kept, 0)
    grand += total
print(f"rounds: {rounds}, grand total: {grand}")

"""loop.py — a hot loop, the CPython twin of loop.flc.

Usage: python loop.py [n]   (default n = 200000 iterations)
"""

import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000

buckets = []
for _ in range(64):
    buckets.append(0)
names = ["red", "green", "blue", "cyan", "magenta", "yellow", "black"]
counts = {}
total = 0

for i in range(n):
    k = i % 64
    buckets[k] = buckets[k] + (i * 7 + 3) % 11
    name = names[i % 7]
    counts[name] = counts.get(name, 0) + 1
    total += i * 3 - k

checksum = 0
for b in range(64):
    checksum = (checksum * 31 + buckets[b]) % 1000000007
print(f"total = {total}")
print(f"checksum = {checksum}")
for name in counts:
    print(f"{name}: {counts[name]}")

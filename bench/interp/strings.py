"""strings.py — string building, the CPython twin of strings.flc.

Usage: python strings.py [n]   (default n = 100000 strings)
"""

import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000

parts = []
line = ""
longest = 0
for i in range(n):
    piece = f"item {i} has weight {i * 7 % 13};"
    parts.append(piece)
    line = line + piece  # accumulate short lines, restart every 20 pieces
    if i % 20 == 19:
        if len(line) > longest:
            longest = len(line)
        line = ""
text = " ".join(parts)
print(f"pieces: {len(parts)}, text length: {len(text)}, longest line: {longest}")
print(text[0:60])
print(text[len(text) - 60 :])

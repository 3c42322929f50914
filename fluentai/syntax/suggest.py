"""Suggestions for misspelt names ("did you mean …?"): the closest of a set of names.

Shared by every layer that suggests names (the resolver for variables, the runtime for
methods and fields, the command line for subcommands), so it lives in the first layer. The
distance is Damerau–Levenshtein (optimal string alignment): insertions, deletions,
substitutions and swaps of two neighbours each cost 1, so `prnt`, `pirnt` and `nmae` are
all one edit from `print`, `print` and `name`.
"""

from __future__ import annotations

from collections.abc import Iterable


def distance(a: str, b: str, limit: int | None = None) -> int:
    """Edit distance between `a` and `b`; with `limit`, any value above it means "too far"
    (the computation stops early)."""
    if a == b:
        return 0
    if limit is not None and abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, previous2[j - 2] + 1)
            current[j] = best
        if limit is not None and min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def max_distance(name: str) -> int:
    """How many edits a suggestion may be from `name`: none for one or two letters (any
    short name is close to many others), one up to six letters, two beyond."""
    if len(name) <= 2:
        return 0
    return 1 if len(name) <= 6 else 2


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate nearest to `name` within `max_distance`, or None. A difference of case
    alone always qualifies and wins; ties go to the first candidate given (callers list the
    likeliest first: inner scopes before outer ones)."""
    limit = max_distance(name)
    lowered = name.lower()
    best: str | None = None
    best_cost = limit + 1
    for candidate in candidates:
        if candidate == name or not candidate:
            continue
        if candidate.lower() == lowered:
            return candidate
        cost = distance(name, candidate, limit)
        if cost < best_cost:
            best, best_cost = candidate, cost
    return best


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`"; did you mean 'x'?"` for the closest candidate, or `""`."""
    found = closest(name, candidates)
    return f"; did you mean '{found}'?" if found is not None else ""

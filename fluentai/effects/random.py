"""The Random effect: numbers and choices from the interpreter's seeded source."""

from __future__ import annotations

from typing import Any

from ..syntax.errors import ValueErr
from . import INT, LIST, EffectHandler, expect, operation


class Random(EffectHandler):
    effect = "Random"

    @operation()
    def int(self, lo: Any, hi: Any) -> int:
        """An int in [lo, hi): `hi` is excluded."""
        expect("Random.int()", lo, INT)
        expect("Random.int()", hi, INT)
        if hi <= lo:
            raise ValueErr(f"Random.int(): empty range [{lo}, {hi})")
        return int(self.ctx.random.randrange(lo, hi))

    @operation()
    def float(self) -> float:
        """A float in [0, 1)."""
        return float(self.ctx.random.random())

    @operation()
    def choice(self, items: Any) -> Any:
        """One item of a non-empty list, chosen at random."""
        expect("Random.choice()", items, LIST)
        if not items:
            raise ValueErr("Random.choice(): the list is empty")
        return self.ctx.random.choice(items)

    @operation()
    def seed(self, n: Any) -> None:
        """Make the random numbers that follow repeatable."""
        expect("Random.seed()", n, INT)
        self.ctx.random.seed(n)

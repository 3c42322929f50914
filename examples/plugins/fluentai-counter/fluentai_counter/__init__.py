"""An example effect plugin: `perform Counter.next("name")` counts per name, and
`perform Counter.tick(ms).await()` waits on the interpreter's clock and returns its time.

Installed with pip, it is found through the `fluentai.effects` entry-point group (see this
package's pyproject.toml); no change to the interpreter or the program is needed.
"""

from __future__ import annotations

from typing import Any

from fluentai.effects import INT, STRING, EffectContext, EffectHandler, expect, operation


class Counter(EffectHandler):
    effect = "Counter"

    def __init__(self, ctx: EffectContext) -> None:
        super().__init__(ctx)
        self.counts: dict[str, int] = {}

    @operation()
    def next(self, name: Any) -> int:
        """Increment the counter `name` and return its new value."""
        expect("Counter.next()", name, STRING.named("a counter name"))
        self.counts[name] = self.counts.get(name, 0) + 1
        return self.counts[name]

    @operation()
    def reset(self, name: Any) -> None:
        expect("Counter.reset()", name, STRING.named("a counter name"))
        self.counts.pop(name, None)

    @operation()
    async def tick(self, ms: Any) -> int:
        """Sleep `ms` on the interpreter's clock (async: returns a promise) and give the
        time afterwards."""
        expect("Counter.tick()", ms, INT.named("milliseconds"))
        await self.ctx.sleep(ms)
        return self.ctx.now_ms()

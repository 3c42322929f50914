"""The Time effect: the clock, sleeping, and formatting timestamps."""

from __future__ import annotations

import datetime
from typing import Any

from ..syntax.errors import ValueErr
from . import NUMBER, STRING, EffectHandler, expect, operation


class Time(EffectHandler):
    effect = "Time"

    @operation()
    def now(self) -> int:
        """Milliseconds since the Unix epoch (a fixed, sleep-driven clock when deterministic)."""
        return self.ctx.now_ms()

    @operation(eager=True)
    async def sleep(self, ms: Any) -> None:
        """Wait `ms` milliseconds."""
        expect("Time.sleep()", ms, NUMBER.named("a number of milliseconds"))
        if ms < 0:
            raise ValueErr("Time.sleep() expects a non-negative duration")
        await self.ctx.sleep(ms)

    @operation()
    def format(self, ms: Any, fmt: Any = None) -> str:
        """UTC time as ISO 8601 (`2024-01-01T00:00:00.000Z`), or by a strftime format."""
        expect("Time.format()", ms, NUMBER.named("a number of milliseconds"))
        try:
            when = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueErr(f"Time.format(): {ms} is out of range") from None
        if fmt is None:
            return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
        expect("Time.format()", fmt, STRING.named("a format string"))
        return when.strftime(fmt)

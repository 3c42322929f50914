"""The State effect: a key-value store shared by the whole program."""

from __future__ import annotations

from typing import Any

from . import STRING, EffectContext, EffectHandler, expect, operation


class State(EffectHandler):
    effect = "State"

    def __init__(self, ctx: EffectContext) -> None:
        super().__init__(ctx)
        self.store: dict[str, Any] = {}

    @operation()
    def get(self, key: Any) -> Any:
        """The value stored under a key; nil when unset."""
        expect("State.get()", key, STRING.named("a string key"))
        return self.store.get(key)

    @operation()
    def set(self, key: Any, value: Any) -> None:
        """Store a value under a key (one store per program)."""
        expect("State.set()", key, STRING.named("a string key"))
        self.store[key] = value

    @operation()
    def delete(self, key: Any) -> None:
        """Forget a key of the program's store."""
        expect("State.delete()", key, STRING.named("a string key"))
        self.store.pop(key, None)

    @operation()
    def keys(self) -> list[str]:
        """The keys of the program's store."""
        return list(self.store)

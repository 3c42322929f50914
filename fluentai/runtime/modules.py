"""A module's run-time state: its globals (top-level `let`, `const`, functions and what
`use` brought in) and which of them are public and constant."""

from __future__ import annotations

from typing import Any


class Module:
    def __init__(self, name: str, path: str | None, globals_: dict[str, Any]) -> None:
        self.name = name
        self.path = path
        self.globals = globals_
        self.public: dict[str, None] = {}  # an ordered set: exports keep source order
        self.consts: set[str] = set()

    def exports(self) -> dict[str, Any]:
        """The public globals that exist (a `use` of this module sees these)."""
        return {k: self.globals[k] for k in self.public if k in self.globals}

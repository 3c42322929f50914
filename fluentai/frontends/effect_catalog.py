"""What the effects a program can perform look like, known without running anything: their
operations, each operation's signature as a program calls it and its one-line description.

The REPL's `:effects` shows a live session's registry with `op_signature`; the language
server asks `catalog()`, which reads the effect classes themselves — the built-in effects,
the server and client effects of the interpreter's lazy table (imported, never
instantiated) and installed plugins (the `fluentai.effects` entry-point group, loaded as
`perform` would load them) — without building an interpreter.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from functools import lru_cache

from ..effects import EffectHandler, OpSpec, plugin_classes
from ..interpreter.host import BUILTIN_EFFECTS, LAZY_EFFECTS


def op_signature(spec: OpSpec) -> str:
    """`name(a, b[, c])` as a program calls it, with `*` after an asynchronous operation
    (its value is a promise)."""
    params = list(inspect.signature(spec.fn).parameters.values())[1:]
    required = [p.name for p in params if p.default is inspect.Parameter.empty
                and p.kind is p.POSITIONAL_OR_KEYWORD]
    optional = [p.name for p in params if p.default is not inspect.Parameter.empty]
    text = ", ".join(required)
    for name in optional:
        text += ("[, " if text else "[") + name
    text += "]" * len(optional)
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        text += ", ..." if text else "..."
    return f"{spec.name}({text}){'*' if spec.is_async else ''}"


def op_summary(spec: OpSpec) -> str:
    """The first line of the operation method's docstring ('' without one)."""
    doc = inspect.getdoc(spec.fn) or ""
    return doc.strip().split("\n", 1)[0].strip()


@dataclass(frozen=True)
class OpInfo:
    effect: str
    name: str
    signature: str  # `listen(port[, ws_enabled[, options]])*`
    summary: str
    is_async: bool


@dataclass(frozen=True)
class Catalog:
    effects: dict[str, dict[str, OpInfo]]  # effect -> operation -> info, both sorted
    problems: tuple[str, ...]  # plugins that could not be loaded

    def names(self) -> dict[str, list[str]]:
        """Effect name -> operation names, as completion wants them."""
        return {effect: list(ops) for effect, ops in self.effects.items()}

    def op(self, effect: str, name: str) -> OpInfo | None:
        return self.effects.get(effect, {}).get(name)


def _classes() -> tuple[dict[str, type[EffectHandler]], list[str]]:
    classes: dict[str, type[EffectHandler]] = {e.effect: e for e in BUILTIN_EFFECTS}
    for name, target in LAZY_EFFECTS.items():
        module_name, _, class_name = target.partition(":")
        classes[name] = getattr(importlib.import_module(module_name), class_name)
    plugins, problems = plugin_classes()
    for cls in plugins:
        classes.setdefault(cls.effect, cls)  # plugins never replace a built-in effect
    return classes, problems


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """Every effect a program run by `fluentai run` on this installation can perform."""
    classes, problems = _classes()
    effects: dict[str, dict[str, OpInfo]] = {}
    for effect in sorted(classes):
        ops = classes[effect].operations()
        effects[effect] = {
            name: OpInfo(effect, name, op_signature(spec), op_summary(spec), spec.is_async)
            for name, spec in sorted(ops.items())
        }
    return Catalog(effects, tuple(problems))

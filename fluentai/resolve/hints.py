"""What to tell a user about a name nothing defines: the keyword of another language it
probably is (`function(x) {…}`, `await f()`, `var`), the effect it names without `perform`
(`Time.now()`), or the defined name it is closest to ("did you mean 'print'?").

The resolver asks `Hints.undefined` once per use of a global that neither the program nor
the world outside it (builtins, the REPL session) defines, and stores the message in
`Resolution.name_hints`: the NameError raised at run time carries it at no cost until it is
raised, and `fluentai check` reports the same text. The words themselves are in
`syntax.habits`, shared with the parser's errors.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from ..syntax import ast
from ..syntax.errors import FluentSyntaxError
from ..syntax.habits import FOREIGN_WORDS, MISPLACED_KEYWORDS
from ..syntax.suggest import closest
from .scopes import Scope

_KEYWORDS = frozenset(MISPLACED_KEYWORDS) | {"await"}

class Hints:
    """Messages for the undefined names of one program. `outside` are the names defined
    around it (builtins, REPL session globals), `effects` the effects that can be performed."""

    def __init__(self, program: ast.Program, outside: Collection[str],
                 effects: Collection[str]) -> None:
        self.program = program
        self.outside = outside
        self.effects = effects
        self._roles: dict[int, tuple[str, str]] | None = None

    def undefined(self, name: str, node: Any, scope: Scope, top_names: Collection[str]) -> str:
        """The message for a use of `name` (at `node`, seen from `scope`) if nothing defines
        it when it is reached."""
        if name in MISPLACED_KEYWORDS:
            return MISPLACED_KEYWORDS[name]
        if name in FOREIGN_WORDS:
            return f"'{name}' is not defined: {FOREIGN_WORDS[name]}"
        role, detail = self.role(node)
        if role == "receiver" and name in self.effects:
            return (f"'{name}' is not defined: {name} is an effect, and effects are performed, "
                    f"as in 'perform {name}.{detail}'")
        found = closest(name, _candidates(scope, top_names, self.outside))
        if found is None and role == "receiver":
            found = closest(name, self.effects)
            if found is not None:
                return (f"'{name}' is not defined; did you mean the effect '{found}' "
                        f"('perform {found}.{detail}')?")
        return f"'{name}' is not defined" + (f"; did you mean '{found}'?" if found else "")

    def role(self, node: Any) -> tuple[str, str]:
        """How the program uses the name at `node`: ("receiver", "m(…)") for `x.m(…)`,
        ("field", name) for `x.f`, ("callee", "") for `x(…)`, else ("", "")."""
        if self._roles is None:
            roles: dict[int, tuple[str, str]] = {}
            for n in ast.walk(self.program):
                if isinstance(n, ast.MethodCall):
                    roles[id(n.receiver)] = ("receiver", n.name + ("(…)" if n.args else "()"))
                elif isinstance(n, ast.Field):
                    roles[id(n.target)] = ("field", n.name)
                elif isinstance(n, ast.Call):
                    roles[id(n.callee)] = ("callee", "")
            self._roles = roles
        return self._roles.get(id(node), ("", ""))


def _candidates(scope: Scope, top_names: Collection[str],
                outside: Collection[str]) -> Iterator[str]:
    """Every name visible from `scope`, innermost first."""
    s: Scope | None = scope
    while s is not None:
        yield from s.decls
        s = s.parent
    yield from sorted(top_names)
    yield from sorted(outside)


def undefined_errors(global_refs: list[tuple[str, Any]], hints: dict[Any, str],
                     defined: Collection[str],
                     reported: list[FluentSyntaxError]) -> list[FluentSyntaxError]:
    """`fluentai check`'s errors for the global names nothing defines, one per use, worded
    as `hints` (use node -> message) says. A line that already has an error for a misplaced
    keyword or a lone name gets no more undefined-name errors: they are the same mistake
    seen again (`function(x) { x }` would otherwise report `x` twice more)."""
    by_place = {(n.name, n.span.line, n.span.column): m for n, m in hints.items()
                if isinstance(n, ast.Var)}
    noisy = {e.span.line for e in reported if e.span is not None}
    errors: list[FluentSyntaxError] = []
    seen: set[tuple[str, int, int]] = set()
    for name, span in global_refs:
        key = (name, span.line, span.column)
        if name in defined or key in seen or span.line in noisy:
            continue
        seen.add(key)
        errors.append(FluentSyntaxError(by_place.get(key, f"'{name}' is not defined"), span))
        if name in _KEYWORDS or name in FOREIGN_WORDS:
            noisy.add(span.line)
    return errors

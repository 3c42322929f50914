"""What to tell a user about a name nothing defines: the keyword of another language it
probably is (`function(x) {…}`, `await f()`, `var`), the effect it names without `perform`
(`Time.now()`), or the defined name it is closest to ("did you mean 'print'?").

The resolver asks `Hints.undefined` once per use of a global that neither the program nor
the world outside it (builtins, the REPL session) defines, and stores the message in
`Resolution.name_hints`: the NameError raised at run time carries it at no cost until it is
raised, and `fluentai check` reports the same text. `lone_name` words the error for a name
followed by more code on its line (`use http` inside a function, `var x = 1`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from ..syntax import ast
from ..syntax.errors import FluentSyntaxError
from ..syntax.suggest import closest
from .scopes import Scope

# FluentAI keywords that reach the resolver as names because the (contextual) grammar does
# not expect them where they stand: the message replaces "'x' is not defined".
_MISPLACED_KEYWORDS = {
    "function": "'function' declares a named function and cannot start an expression: "
                "write a lambda, 'x => x + 1' or '(a, b) => { … }'",
    "async": "'async' only marks a function declaration ('async function f() { … }'); "
             "lambdas cannot be async",
    "use": "'use' is only allowed at the top level of a file, outside functions and blocks: "
           "move it to the top",
    "public": "'public' marks a top-level declaration; it is not allowed inside a function "
              "or block",
    "private": "'private' marks a top-level declaration; it is not allowed inside a function "
               "or block",
}

# Other languages' spellings: the message is "'x' is not defined: <hint>".
_FOREIGN_WORDS = {
    "await": "FluentAI has no 'await' keyword; put '.await()' after the promise, as in "
             "'f().await()'",
    "var": "declare variables with 'let' (or 'const')",
    "def": "declare functions with 'function name(params) { … }'",
    "fn": "declare functions with 'function name(params) { … }'",
    "func": "declare functions with 'function name(params) { … }'",
    "fun": "declare functions with 'function name(params) { … }'",
    "lambda": "write a lambda as 'x => x + 1' or '(a, b) => { … }'",
    "elif": "write 'else if'",
    "elsif": "write 'else if'",
    "elseif": "write 'else if'",
    "import": "modules are brought in with 'use name' at the top of the file",
    "require": "modules are brought in with 'use name' at the top of the file",
    "include": "modules are brought in with 'use name' at the top of the file",
    "None": "FluentAI writes 'nil'",
    "undefined": "FluentAI writes 'nil'",
    "True": "FluentAI writes 'true'",
    "False": "FluentAI writes 'false'",
    "switch": "use 'match value { pattern => result, … }'",
    "case": "use 'match value { pattern => result, … }'",
    "console": "print with 'print(value)'",
    "println": "'print(value)' prints a line",
    "puts": "'print(value)' prints a line",
    "echo": "'print(value)' prints a line",
    "this": "there are no classes: pass the map a function works on as a parameter",
    "self": "there are no classes: pass the map a function works on as a parameter",
    "new": "there are no classes: build values with literals ('{\"k\": v}', '[1, 2]')",
    "class": "there are no classes: use maps for data and functions for behaviour",
    "struct": "there are no structs: use maps ('{\"name\": \"Ann\"}')",
    "Math": "numbers use global functions: abs, floor, ceil, round, sqrt, min, max",
    "JSON": "use 'value.to_json()' and 'text.from_json()'",
    "size": "use the method: 'xs.length()'",
    "count": "use the method: 'xs.length()'",
}

_KEYWORDS = frozenset(_MISPLACED_KEYWORDS) | {"await"}


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
        if name in _MISPLACED_KEYWORDS:
            return _MISPLACED_KEYWORDS[name]
        if name in _FOREIGN_WORDS:
            return f"'{name}' is not defined: {_FOREIGN_WORDS[name]}"
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


def lone_name(name: str) -> str:
    """The error for a name followed by more code on its line (`functoin f() {}`,
    `var x = 1`, `use http` inside a function)."""
    if name in _MISPLACED_KEYWORDS:
        return _MISPLACED_KEYWORDS[name]
    if name in _FOREIGN_WORDS:
        return f"unexpected code after '{name}': {_FOREIGN_WORDS[name]}"
    return (f"unexpected code after '{name}' on the same line: is '{name}' a misspelt keyword? "
            f"(separate statements with ';' or a newline)")


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
        if name in _KEYWORDS or name in _FOREIGN_WORDS:
            noisy.add(span.line)
    return errors

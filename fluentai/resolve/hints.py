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
from ..syntax.errors import FluentSyntaxError, FluentWarning
from ..syntax.habits import FOREIGN_WORDS, MISPLACED_KEYWORDS
from ..syntax.suggest import closest
from .resolution import Global, Resolution
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


def trailing_word(node: Any) -> ast.Var | None:
    """The name a statement ends with, if any: the statement itself, or the value of a
    `let`, an assignment or a `return` (`let v = await` before `f()` on the same line)."""
    while isinstance(node, ast.Let | ast.Assign | ast.Return):
        node = node.value
    return node if isinstance(node, ast.Var) else None


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


def paren_opening_a_line(callee: ast.Node, args: tuple[ast.Node, ...]) -> int | None:
    """The line of this call's '(' when it starts a line below the callee's: by the newline
    rule `let y = x` newline `(1 + 2).print()` is the call `x(1 + 2)`, almost always a
    missing ';'. None otherwise (also when the '(' cannot be found: no arguments, a comment
    before the first one)."""
    if not args:
        return None
    first = min((n.span for n in ast.walk(args[0]) if isinstance(n, ast.Node)),
                key=lambda sp: (sp.line, sp.column))
    text = first.source.text
    lines = text.split("\n")
    if not 1 <= first.line <= len(lines):
        return None
    offset = sum(len(line) + 1 for line in lines[:first.line - 1]) + first.column - 1
    i = offset - 1
    while i >= 0 and text[i] in " \t\r\n":
        i -= 1
    if i < 0 or text[i] != "(":
        return None
    line = text.count("\n", 0, i) + 1
    starts_line = not text[text.rfind("\n", 0, i) + 1:i].strip()
    return line if starts_line and line > callee.span.line else None


# ---------------------------------------------------------------------------- check's warnings

# Map methods that only read: a map used only through these keeps its literal's keys.
_READING_METHODS = frozenset({"get", "has", "has_key", "contains_key", "keys", "values",
                              "entries", "length", "size", "is_empty", "to_json", "to_string",
                              "print", "type_of"})


def warnings(program: ast.Program, res: Resolution) -> list[FluentWarning]:
    """Legal code that is almost certainly a mistake, for `fluentai check`: a misspelt key
    of a map literal that nothing changes (it reads nil), and a line that starts with '('
    and so continues the line above as a call."""
    found = _map_key_warnings(program, res)
    for node in ast.walk(program):
        if isinstance(node, ast.Call):
            line = paren_opening_a_line(node.callee, node.args)
            if line is not None:
                above = node.callee.span.line
                found.append(FluentWarning(
                    f"the '(' that starts line {line} continues line {above} as a call: end "
                    f"line {above} with ';' if line {line} is a new statement", node.span))
    return sorted(found, key=lambda w: (w.span.line, w.span.column) if w.span else (0, 0))


def _map_key_warnings(program: ast.Program, res: Resolution) -> list[FluentWarning]:
    """`config.prot` where `config` is a top-level `let`/`const` of a map literal that has
    `port`: the program never adds keys to it (it only reads its fields and calls reading
    methods on it, and never assigns the name), so the field reads nil, surely by mistake.
    Only a key close to one the literal has is reported."""
    keys: dict[str, list[str]] = {}
    declared: set[str] = set()
    for item in program.body:
        if isinstance(item, ast.Let | ast.FunctionDecl):
            if item.name in declared:
                keys.pop(item.name, None)
            elif isinstance(item, ast.Let) and isinstance(item.value, ast.MapLit):
                keys[item.name] = [k for k, _ in item.value.pairs]
            declared.add(item.name)
    if not keys:
        return []
    parents: dict[int, Any] = {}
    for node in ast.walk(program):
        for child in ast.iter_children(node):
            parents[id(child)] = node
    reads: list[tuple[str, ast.Field]] = []
    for node in ast.walk(program):
        if not isinstance(node, ast.Var) or node.name not in keys:
            continue
        if type(res.refs.get(node)) is not Global:
            continue  # a local of the same name
        parent = parents.get(id(node))
        grand = parents.get(id(parent))
        if isinstance(parent, ast.Field) and not (isinstance(grand, ast.Assign)
                                                  and grand.target is parent):
            reads.append((node.name, parent))
        elif isinstance(parent, ast.MethodCall) and parent.receiver is node and (
                parent.name in _READING_METHODS or parent.name in keys[node.name]):
            pass
        else:
            keys[node.name] = []  # changed, passed on or assigned: its keys are unknown
    warned: list[FluentWarning] = []
    for name, field in reads:
        known = keys[name]
        if known and field.name not in known:
            guess = closest(field.name, known)
            if guess is not None:
                warned.append(FluentWarning(
                    f"the map '{name}' has no key '{field.name}' (reading it gives nil); "
                    f"did you mean '{guess}'?", field.span))
    return warned

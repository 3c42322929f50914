"""What the resolver decided about a program: everything code generation needs to know
about names, slots and frames, keyed by the AST nodes they belong to.

Run-time environments are Python lists: `env[0]` is the enclosing environment and slots
start at 1. A *frame* is one such list: a function call, the module's top level, or the
body of a loop whose variables a closure captures (that body gets a fresh list per
iteration, so each closure keeps its own iteration's values). A variable use is either a
`Local` — so many frames up, at that slot — or a `Global`, looked up by name in the
module's globals when reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..syntax import ast
from ..syntax.errors import FluentSyntaxError
from ..syntax.source import Span


@dataclass(frozen=True, slots=True)
class Local:
    depth: int  # frames up from the frame the use runs in (0: its own)
    slot: int
    const: bool = False
    name: str = ""
    # The use may run before the binding's `let` (a forward or self reference from a
    # nested function): reading it must check that the slot was set.
    checked: bool = False


@dataclass(frozen=True, slots=True)
class Global:
    name: str
    const: bool = False  # a module constant (assigning to it is a TypeError)


Ref = Local | Global


@dataclass(frozen=True, slots=True)
class FunctionLayout:
    """A function's frame: its parameters take slots 1..len(params); `size` counts every
    slot (slot 0, the enclosing environment, included)."""

    size: int


@dataclass
class Resolution:
    """The resolver's answer for one program (or one REPL input)."""

    program: ast.Program
    # Every `Var` use and every assignment target that is a name.
    refs: dict[Any, Ref] = field(default_factory=dict)
    # The declaration each `Local` use means (its `Decl.key`: a `let`, a parameter, a
    # function, a `for` loop, a `try`, a pattern binding); a pattern binding that shares an
    # earlier alternative's slot maps to that one. For tools (the language server); code
    # generation reads `refs` and `slots` only. Globals are tied by name, not here.
    declarations: dict[Any, Any] = field(default_factory=dict)
    # Declarations that live in a slot: local `let`/`const`, parameters, local functions,
    # `for` (its variable), `try` (its catch name), pattern bindings, a list pattern's rest.
    slots: dict[Any, int] = field(default_factory=dict)
    # Functions, lambdas and handler clauses.
    functions: dict[Any, FunctionLayout] = field(default_factory=dict)
    # Loops whose body runs in a fresh frame per iteration: the size of that frame.
    fresh_loops: dict[Any, int] = field(default_factory=dict)
    module_size: int = 1  # the top level's frame
    # Statement lists whose `let`s are used before they may have run: the slots to mark
    # unset when the list starts.
    unset_slots: dict[tuple[ast.Node, ...], list[int]] = field(default_factory=dict)
    public: list[str] = field(default_factory=list)  # in source order
    consts: set[str] = field(default_factory=set)
    # Names left to run-time global lookup, with where they are used (`check` reports the
    # ones nothing defines).
    global_refs: list[tuple[str, Span]] = field(default_factory=list)
    errors: list[FluentSyntaxError] = field(default_factory=list)
    # Global uses that nothing is known to define: the NameError's message should the name
    # still be missing when reached ("did you mean", another language's keyword; see hints).
    name_hints: dict[Any, str] = field(default_factory=dict)
    # SPEC §2: a program that defines `main` and whose top level (outside function bodies)
    # does not call it has it called by the runtime.
    defines_main: bool = False
    calls_main: bool = False

    def ref(self, node: Any) -> Ref:
        return self.refs[node]

    def slot(self, node: Any) -> int:
        return self.slots[node]

    def local_slot(self, node: ast.Node) -> int | None:
        """The slot `node` reads when it is a name of the current frame, else None (fast
        paths read `env[slot]` themselves)."""
        if type(node) is ast.Var:
            ref = self.refs.get(node)
            if type(ref) is Local and ref.depth == 0:
                return ref.slot
        return None

    def global_name(self, node: ast.Node) -> str | None:
        """The name `node` reads when it is a module global, else None."""
        if type(node) is ast.Var:
            ref = self.refs.get(node)
            if type(ref) is Global:
                return ref.name
        return None

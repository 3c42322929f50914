"""Live reload: the new version of a file replaces the definitions of the running program
while everything else keeps running — servers, their ports and connections, tasks, state.

A reload does this to the module a file runs in (docs/reload.md is the user's account):

1. The file is read, parsed and resolved. A syntax or static error is reported and the
   program keeps its previous version: nothing below happens.
2. Of the new top level, only these statements run, in source order (functions first, as
   always): every `function` declaration; a `const` that is new, whose definition changed
   or that reads a constant run again; a `let` whose name the previous version did not
   declare (or that has no value: its statement never ran); every `use`; and every
   statement that is a `perform HttpServer.route(…)`. Everything else at the top level
   (`listen`, `print`, loops, calls, a `let` that exists) does not run again.
3. If that fails at run time, every global it wrote gets its previous value back, the routes
   stay as they were, and the error is reported. Otherwise the routes the previous version's
   route statements registered are replaced, in place, by those of the new ones; functions,
   constants and lets the new version no longer declares are removed; and when the file is
   a module, the files that `use` it get its new exports.

A function call looks its callee up by name when it runs, and servers resolve handler names
when each request or event arrives, so the next call, request or event runs the new code;
a call that is already running finishes its own body on the code it started with.

`Reloader` keeps the version of each file that runs now (the program, the files the REPL
loaded, the modules they use) and reloads files when asked; watching them is `watch`'s job.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..resolve.resolver import resolve
from ..runtime.modules import Module
from ..syntax import ast
from ..syntax.errors import FluentError, FluentSyntaxError, raise_static
from .host import Interpreter, internal_error_text
from .modules import LoadError, find_module, read_source

if TYPE_CHECKING:
    from ..effects.http_server import HttpServer

_MISSING = object()


@dataclass
class Loaded:
    """A file whose top level runs in `module`: a program, or a file the REPL loaded."""

    path: Path  # absolute
    module: Module
    program: ast.Program  # the version that runs now


@dataclass
class Outcome:
    """What one reload did: `line` is the report, `notes` what it did not apply."""

    path: Path
    ok: bool
    line: str = ""
    notes: list[str] = field(default_factory=list)


class Reloader:
    """Reloads the files of one interpreter's program (or REPL session).

    `say` receives the report lines (default: stderr); errors go to stderr as usual."""

    def __init__(self, interp: Interpreter, say: Callable[[str], None] | None = None) -> None:
        self.interp = interp
        self.say = say or (lambda text: interp.write_err(text + "\n"))
        self.files: dict[Path, Loaded] = {}

    def adopt(self, path: str | Path, module: Module, program: ast.Program) -> None:
        """`program`, read from `path`, is (about to be) run in `module`: reload it there."""
        resolved = Path(path).resolve()
        self.files[resolved] = Loaded(resolved, module, program)

    def watched(self) -> set[Path]:
        """Every file a reload may read: the adopted files and the modules loaded so far."""
        return {*self.files, *self.interp.modules}

    def changed(self) -> set[Path]:
        """The watched files whose text differs from the version that runs now."""
        found = set()
        for path in self.watched():
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = None  # unreadable: a reload reports why
            if text is None or text.lstrip("\ufeff") != self._unit(path)[1].span.source.text:
                found.add(path)
        return found

    async def reload(self, paths: Iterable[Path]) -> list[Outcome]:
        """Reload `paths` (any of `watched()`), a module before the files that use it."""
        wanted = {Path(p).resolve() for p in paths} & self.watched()
        return [await self.reload_file(p) for p in self._in_order(wanted)]

    # ------------------------------------------------------------------ one file
    async def reload_file(self, path: Path) -> Outcome:
        start = time.perf_counter()
        module, old = self._unit(path)
        shown = old.span.source.name
        old_defs = Definitions(old)
        try:
            source = read_source(shown)
            if source.text == old.span.source.text:
                return self._done(path, f"reloaded {shown}: no changes", start, [])
            # The file's own constants are declared again by its new version.
            res = self.interp.check(source, module.consts - old_defs.consts.keys(), module.globals)
            new = res.program
            new_defs = Definitions(new)
            self._check_importers(path, new_defs)
        except LoadError as e:
            return self._failed(path, f"error: {e}", shown)
        except FluentError as e:
            return self._failed(path, e.render(), shown)

        plan = Plan(old_defs, new_defs, new, module.globals)
        consts = (module.consts - old_defs.consts.keys()) | new_defs.consts.keys()
        part = resolve(ast.Program(new.span, plan.statements), consts=consts,
                       defined=module.globals)
        public, declared = dict(module.public), set(module.consts)
        saved = {name: module.globals.get(name, _MISSING) for name in plan.writes}
        http = self._http(old_defs, new_defs)
        try:
            raise_static(part.errors)  # none: the whole file resolved without errors
            compiled = self.interp.generate(part, module, path.parent)
            if http is not None:
                http.stage_routes()
            await self.interp.run_top(compiled)
        except BaseException as e:
            # Undo what ran: the program goes on with its previous version.
            for name, value in saved.items():
                if value is _MISSING:
                    module.globals.pop(name, None)
                else:
                    module.globals[name] = value
            module.public, module.consts = public, declared
            if http is not None:
                http.replace_routes(None)
            if not isinstance(e, Exception):
                raise
            text = e.render() if isinstance(e, FluentError) else internal_error_text(e)
            return self._failed(path, text, shown)

        if http is not None:
            old_routes = {n.span for n in old_defs.routes}
            http.replace_routes(lambda origin: origin in old_routes)
        for name in old_defs.names - new_defs.names:
            module.globals.pop(name, None)
        module.public = dict.fromkeys(
            [*(n for n in public if n not in old_defs.public), *new_defs.public])
        module.consts = consts
        self._record(path, new)
        self._rebind_importers(path, module)
        return self._done(path, f"reloaded {shown}: {plan.summary()}", start, plan.notes)

    # ------------------------------------------------------------------ helpers
    def _unit(self, path: Path) -> tuple[Module, ast.Program]:
        loaded = self.files.get(path)
        if loaded is not None:
            return loaded.module, loaded.program
        entry = self.interp.modules[path]
        return entry.module, entry.program

    def _record(self, path: Path, program: ast.Program) -> None:
        if path in self.files:
            self.files[path].program = program
        else:
            self.interp.modules[path].program = program

    def _done(self, path: Path, summary: str, start: float, notes: list[str]) -> Outcome:
        ms = (time.perf_counter() - start) * 1000
        line = f"{summary} ({ms:.0f} ms)"
        self.say(line)
        for note in notes:
            self.say(f"note: {note}")
        return Outcome(path, True, line, notes)

    def _failed(self, path: Path, text: str, shown: str) -> Outcome:
        self.interp.write_err(f"{text}\nnote: {shown} was not reloaded: the program goes on "
                              f"with its previous version\n")
        return Outcome(path, False)

    def _http(self, old: Definitions, new: Definitions) -> HttpServer | None:
        """The HttpServer whose routes this reload replaces; None when neither version
        registers routes."""
        if not old.routes and not new.routes:
            return None
        # Imported here: a program without routes never loads the server (uvicorn…).
        from ..effects.http_server import HttpServer

        handler = self.interp.handler("HttpServer")
        return handler if isinstance(handler, HttpServer) else None

    def _uses(self) -> Iterable[tuple[Path, Module, ast.Use, Path]]:
        """Every `use` of every file: (file, its module, the statement, the module's file)."""
        for path in self.watched():
            module, program = self._unit(path)
            for node in program.body:  # the grammar has `use` at the top level only
                if isinstance(node, ast.Use):
                    try:
                        target = find_module(node.module, path.parent, node.span)
                    except FluentSyntaxError:
                        continue  # not loaded either: nothing depends on it
                    yield path, module, node, target

    def _in_order(self, paths: Collection[Path]) -> list[Path]:
        """`paths` with each module before the files that use it."""
        uses: dict[Path, set[Path]] = {}
        for user, _, _, target in self._uses():
            uses.setdefault(user, set()).add(target)
        ordered: list[Path] = []
        seen: set[Path] = set()

        def visit(p: Path) -> None:
            if p in seen:
                return
            seen.add(p)
            for target in sorted(uses.get(p, ())):
                visit(target)
            if p in paths:
                ordered.append(p)

        for p in sorted(paths):
            visit(p)
        return ordered

    def _check_importers(self, path: Path, new: Definitions) -> None:
        """A module's new version must still export what its users import by name."""
        for _, _, node, target in self._uses():
            if target != path or node.names is None:
                continue
            for name in node.names:
                if name not in new.public:
                    raise FluentSyntaxError(
                        f"module '{node.module}' has no public '{name}' any more, and this "
                        f"file imports it", node.span)

    def _rebind_importers(self, path: Path, module: Module) -> None:
        """Give the files that `use` the module at `path` its new exports."""
        exports = module.exports()
        for _, user, node, target in self._uses():
            if target != path:
                continue
            if node.names is None:
                user.globals[node.module] = dict(exports)
            else:
                for name in node.names:
                    user.globals[name] = exports[name]


class Definitions:
    """What a version of a file declares at its top level."""

    def __init__(self, program: ast.Program) -> None:
        self.functions: dict[str, ast.FunctionDecl] = {}
        self.consts: dict[str, ast.Let] = {}
        self.lets: dict[str, ast.Let] = {}
        self.uses: list[ast.Use] = []
        self.routes: list[ast.Perform] = []  # `perform HttpServer.route(…)` statements
        self.other: list[ast.Node] = []  # top-level code a reload does not run
        self.public: list[str] = []
        for node in program.body:
            if isinstance(node, ast.FunctionDecl):
                self.functions[node.name] = node
            elif isinstance(node, ast.Let):
                (self.consts if node.const else self.lets)[node.name] = node
            elif isinstance(node, ast.Use):
                self.uses.append(node)
            elif is_route(node):
                self.routes.append(node)  # type: ignore[arg-type]
            else:
                self.other.append(node)
            if isinstance(node, ast.FunctionDecl | ast.Let) and node.public:
                self.public.append(node.name)
        self.imported = {name for use in self.uses
                         for name in (use.names if use.names is not None else (use.module,))}
        self.names = {*self.functions, *self.consts, *self.lets, *self.imported}


def is_route(node: ast.Node) -> bool:
    return isinstance(node, ast.Perform) and (node.effect, node.op) == ("HttpServer", "route")


class Plan:
    """Which statements of a file's new version a reload runs, and what it reports."""

    def __init__(self, old: Definitions, new: Definitions, program: ast.Program,
                 globals_: dict[str, Any]) -> None:
        self.notes: list[str] = []
        self.counts: dict[str, Counter[str]] = {"function": Counter(), "const": Counter(),
                                                "let": Counter(), "route": Counter()}
        rerun_consts: set[str] = set()
        run: set[int] = set()  # ids of the statements to run
        for name, function in new.functions.items():
            run.add(id(function))
            self._compare("function", old.functions.get(name), function)
        for name, const in new.consts.items():
            earlier = old.consts.get(name)
            reads = {n.name for n in ast.walk(const.value) if isinstance(n, ast.Var)}
            if (earlier is None or shape(earlier) != shape(const) or reads & rerun_consts
                    or name not in globals_):
                rerun_consts.add(name)
                run.add(id(const))
            self._compare("const", earlier, const)
        for name, let in new.lets.items():
            existing = old.lets.get(name)
            if existing is None or name not in globals_:
                run.add(id(let))
                self.counts["let"]["added"] += 1
            elif shape(existing.value) != shape(let.value):
                self.notes.append(f"line {let.span.line}: let '{name}' changed but keeps its "
                                  f"current value (a reload does not run an existing let "
                                  f"again; restart to apply it)")
        self.counts["function"]["removed"] = len(old.functions.keys() - new.functions.keys())
        self.counts["const"]["removed"] = len(old.consts.keys() - new.consts.keys())
        self.counts["let"]["removed"] = len(old.lets.keys() - new.lets.keys())
        run.update(id(n) for n in (*new.uses, *new.routes))
        routes_before = Counter(shape(n) for n in old.routes)
        routes_after = Counter(shape(n) for n in new.routes)
        self.counts["route"]["added"] = sum((routes_after - routes_before).values())
        self.counts["route"]["removed"] = sum((routes_before - routes_after).values())
        others_before = Counter(shape(n) for n in old.other)
        for node in new.other:
            key = shape(node)
            if others_before[key] > 0:
                others_before[key] -= 1
            else:
                first = node.span.source.line(node.span.line).strip()
                self.notes.append(f"line {node.span.line}: top-level code changed, which a "
                                  f"reload does not run (restart to apply it): {_cut(first)}")
        self.statements = tuple(n for n in program.body if id(n) in run)
        self.writes = ({n.name for n in self.statements if isinstance(n, ast.FunctionDecl | ast.Let)}
                       | {name for use in new.uses
                          for name in (use.names if use.names is not None else (use.module,))})

    def _compare(self, kind: str, before: ast.Node | None, after: ast.Node) -> None:
        if before is None:
            self.counts[kind]["added"] += 1
        elif shape(before) != shape(after):
            self.counts[kind]["changed"] += 1

    def summary(self) -> str:
        """`3 functions changed, 1 added, 1 route removed`; `no changes` when nothing."""
        parts: list[str] = []
        for kind in ("function", "const", "let", "route"):
            first = True
            for what in ("changed", "added", "removed"):
                n = self.counts[kind][what]
                if n:
                    noun = f" {kind}{'s' if n != 1 else ''}" if first else ""
                    parts.append(f"{n}{noun} {what}")
                    first = False
        return ", ".join(parts) if parts else "no definitions changed"


def shape(node: Any) -> Any:
    """A node's structure without its positions: two versions of a definition have the same
    shape when only where they are (or their comments and layout) changed."""
    if isinstance(node, ast.Node | ast.Param):
        return (type(node).__name__,
                *(shape(getattr(node, f)) for f in node._fields if f != "span"))
    if type(node) is tuple:
        return tuple(shape(item) for item in node)
    return (type(node).__name__, node)  # 1, 1.0 and true are different literals


def _cut(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


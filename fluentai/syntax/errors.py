"""The one error hierarchy: every error a user can see, with its span and how it renders.

`FluentError` is the root. Syntax errors come from the parser; `RuntimeFault` is a runtime
error of a kind the program can catch (`TypeError`, `NameError`, ...). Two subclasses live in
the runtime, beside what they need: `Thrown` (a value raised by `throw`, in `runtime.values`)
and `StackOverflow` (in `runtime.functions`). Errors raised by builtins have no span yet: the evaluator closure that called
the builtin fills in its own span on the way out (`at`).
"""

from __future__ import annotations

from typing import Any

from .source import Span

# Kinds a runtime error can have (SPEC §3), as seen by `catch (e)` in `e.kind`.
ERROR_KINDS = (
    "TypeError",
    "NameError",
    "IndexError",
    "ValueError",
    "ZeroDivisionError",
    "EffectError",
)

MAX_TRACE_SHOWN = 20


class FluentError(Exception):
    """Base of every user-facing error. `span` may be None until a caller supplies it."""

    severity = "error"  # how `render` labels it

    def __init__(self, message: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        # FluentAI call frames, innermost first: (function name, span of the call site).
        self.trace: list[tuple[str, Span]] = []
        # Other places worth showing, each with its source line ("the '{' opened here").
        self.notes: list[tuple[str, Span]] = []

    def at(self, span: Span) -> FluentError:
        """Give this error `span` unless it already has one; returns self for `raise e.at(s)`."""
        if self.span is None:
            self.span = span
        return self

    def headline(self) -> str:
        return self.message

    def render(self) -> str:
        """`file:line:col: error: message`, the source line, a caret, then the FluentAI trace."""
        return render_diagnostic(self.headline(), self.span, self.trace, self.notes,
                                 self.severity)


class FluentSyntaxError(FluentError):
    """A program that does not parse, or a name `check` cannot resolve."""


class FluentWarning(FluentSyntaxError):
    """Legal code that is almost certainly a mistake (a misspelt key of a map literal, a
    line starting with '(' that continues the line above): `fluentai check` reports it as
    `FILE:LINE:COL: warning: …`, and it does not fail the check."""

    severity = "warning"


class StaticErrors(FluentSyntaxError):
    """Several errors found in one program before it ran (by the resolver): rendered one
    after another, in source order."""

    def __init__(self, errors: list[FluentSyntaxError]) -> None:
        super().__init__(errors[0].message, errors[0].span)
        self.errors = errors

    def render(self) -> str:
        return "\n".join(e.render() for e in self.errors)


def raise_static(errors: list[FluentSyntaxError]) -> None:
    """Raise what the resolver found: nothing, the one error, or all of them."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise StaticErrors(errors)


class RuntimeFault(FluentError):
    """A runtime error with a kind from ERROR_KINDS; catchable as {"kind", "message"}."""

    def __init__(self, kind: str, message: str, span: Span | None = None) -> None:
        super().__init__(message, span)
        self.kind = kind

    def headline(self) -> str:
        return f"{self.kind}: {self.message}"

    def value(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message}


class UsageError(Exception):
    """Bad command line: exit status 2, no span."""


def TypeErr(message: str) -> RuntimeFault:  # noqa: N802 - reads like the FluentAI kind
    return RuntimeFault("TypeError", message)


def ValueErr(message: str) -> RuntimeFault:  # noqa: N802
    return RuntimeFault("ValueError", message)


def IndexErr(message: str) -> RuntimeFault:  # noqa: N802
    return RuntimeFault("IndexError", message)


def NameErr(message: str) -> RuntimeFault:  # noqa: N802
    return RuntimeFault("NameError", message)


def EffectErr(message: str) -> RuntimeFault:  # noqa: N802
    return RuntimeFault("EffectError", message)


TAB_WIDTH = 4
MAX_LINE_SHOWN = 100  # display columns of a source line shown under a diagnostic
MAX_CYCLE = 8  # longest run of calls folded as a repeating cycle (mutual recursion)


def render_diagnostic(
    message: str, span: Span | None, trace: list[tuple[str, Span]] | None = None,
    notes: list[tuple[str, Span]] | None = None, severity: str = "error",
) -> str:
    """`file:line:col: error: message`, then the source line and a caret under the column
    (a long line is cut around the column), then each note the same way
    (`file:line:col: note: …`), then the FluentAI calls that led there."""
    if span is None:
        out = [f"{severity}: {message}"]
    else:
        out = _located(severity, message, span)
    for text, where in notes or ():
        out.extend(_located("note", text, where))
    if trace:
        out.append("traceback (most recent call last):")
        out.extend(_trace_lines(list(reversed(trace))))
    return "\n".join(out)


def _located(severity: str, message: str, span: Span) -> list[str]:
    shown, caret = _excerpt(_line_text(span.source, span.line), span.column)
    gutter = f"{span.line:>4} | "
    return [f"{span}: {severity}: {message}", gutter + shown,
            " " * (len(gutter) - 2) + "| " + " " * caret + "^"]


def _line_text(source: Any, number: int) -> str:
    """Line `number` (1-based) as the parser counts lines: only '\\n' ends one."""
    lines = source.text.split("\n")
    if 1 <= number <= len(lines):
        line: str = lines[number - 1]
        return line[:-1] if line.endswith("\r") else line
    return ""


def _cells(text: str) -> list[tuple[str, int]]:
    """How each character of `text` is displayed: tabs expanded, control characters made
    visible, wide (CJK, emoji) characters two columns, combining marks none."""
    import unicodedata

    cells: list[tuple[str, int]] = []
    col = 0
    for ch in text:
        if ch == "\t":
            width = TAB_WIDTH - col % TAB_WIDTH
            shown = " " * width
        elif unicodedata.category(ch) == "Cc":
            shown, width = "\ufffd", 1
        elif unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            shown, width = ch, 0
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            shown, width = ch, 2
        else:
            shown, width = ch, 1
        cells.append((shown, width))
        col += width
    return cells


def _excerpt(text: str, column: int) -> tuple[str, int]:
    """The part of a source line to show and the display column of the caret in it."""
    cells = _cells(text)
    at = min(max(column - 1, 0), len(cells))
    total = sum(w for _, w in cells)
    start, end = 0, len(cells)
    if total > MAX_LINE_SHOWN:
        budget = MAX_LINE_SHOWN // 2
        while start < at and sum(w for _, w in cells[start:at]) > budget:
            start += 1
        end = at
        used = sum(w for _, w in cells[start:at])
        while end < len(cells) and used + cells[end][1] <= MAX_LINE_SHOWN:
            used += cells[end][1]
            end += 1
    prefix = "..." if start > 0 else ""
    suffix = "..." if end < len(cells) else ""
    shown = prefix + "".join(s for s, _ in cells[start:end]) + suffix
    caret = len(prefix) + sum(w for _, w in cells[start:at])
    return shown, caret


def _trace_lines(frames: list[tuple[str, Span]]) -> list[str]:
    """One line per call, outermost first. Runs of the same call (recursion) or of the same
    few calls (mutual recursion) are folded; a very long trace is cut in the middle."""
    entries = [f"  {where}: in call to {name}" for name, where in frames]
    lines: list[str] = []
    i, n = 0, len(entries)
    while i < n:
        period, reps = 1, 1
        for p in range(1, MAX_CYCLE + 1):
            if i + 2 * p > n:
                break
            r = 1
            while i + (r + 1) * p <= n and entries[i + r * p : i + (r + 1) * p] == entries[i : i + p]:
                r += 1
            if r > 1 and r * p > period * reps:
                period, reps = p, r
        lines.extend(entries[i : i + period])
        if reps > 1:
            what = "the call above" if period == 1 else f"the {period} calls above"
            times = "time" if reps == 2 else "times"
            lines.append(f"  ... {what} repeated {reps - 1} more {times}")
        i += period * reps
    if len(lines) > MAX_TRACE_SHOWN:
        half = MAX_TRACE_SHOWN // 2
        hidden = len(lines) - 2 * half
        lines = [*lines[:half], f"  ... {hidden} more lines ...", *lines[-half:]]
    return lines

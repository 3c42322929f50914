"""The one error hierarchy: every error a user can see, with its span and how it renders.

`FluentError` is the root. Syntax errors come from the parser; `RuntimeFault` is a runtime
error of a kind the program can catch (`TypeError`, `NameError`, ...); `Thrown` carries a value
raised by `throw`. Errors raised by builtins have no span yet: the evaluator closure that called
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

    def __init__(self, message: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        # FluentAI call frames, innermost first: (function name, span of the call site).
        self.trace: list[tuple[str, Span]] = []

    def at(self, span: Span) -> FluentError:
        """Give this error `span` unless it already has one; returns self for `raise e.at(s)`."""
        if self.span is None:
            self.span = span
        return self

    def headline(self) -> str:
        return self.message

    def render(self) -> str:
        """`file:line:col: error: message`, the source line, a caret, then the FluentAI trace."""
        return render_diagnostic(self.headline(), self.span, self.trace)


class FluentSyntaxError(FluentError):
    """A program that does not parse, or a name `check` cannot resolve."""


class RuntimeFault(FluentError):
    """A runtime error with a kind from ERROR_KINDS; catchable as {"kind", "message"}."""

    def __init__(self, kind: str, message: str, span: Span | None = None) -> None:
        super().__init__(message, span)
        self.kind = kind

    def headline(self) -> str:
        return f"{self.kind}: {self.message}"

    def value(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message}


class Thrown(FluentError):
    """`throw v` and `perform Error.raise(msg)`: carries the FluentAI value itself."""

    def __init__(self, value: Any, span: Span | None = None) -> None:
        from .values import display  # values sits beside errors; display is pure

        super().__init__(display(value), span)
        self.payload = value

    def headline(self) -> str:
        v = self.payload
        if isinstance(v, dict) and isinstance(v.get("kind"), str) and "message" in v:
            from .values import display

            return f"{v['kind']}: {display(v['message'])}"
        return f"uncaught {self.message}"

    def value(self) -> Any:
        return self.payload


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


def render_diagnostic(
    message: str, span: Span | None, trace: list[tuple[str, Span]] | None = None
) -> str:
    if span is None:
        return f"error: {message}"
    out = [f"{span}: error: {message}"]
    text = span.source.line(span.line)
    if text or span.line >= 1:
        gutter = f"{span.line:>4} | "
        out.append(gutter + text.expandtabs(4))
        caret_col = len(text[: max(span.column - 1, 0)].expandtabs(4))
        out.append(" " * (len(gutter) - 2) + "| " + " " * caret_col + "^")
    if trace:
        out.append("traceback (most recent call last):")
        out.extend(_trace_lines(list(reversed(trace))))
    return "\n".join(out)


def _trace_lines(frames: list[tuple[str, Span]]) -> list[str]:
    """One line per call, runs of identical calls (recursion) folded, very long traces cut
    in the middle."""
    folded: list[tuple[str, int]] = []
    for name, where in frames:
        line = f"  {where}: in call to {name}"
        if folded and folded[-1][0] == line:
            folded[-1] = (line, folded[-1][1] + 1)
        else:
            folded.append((line, 1))
    lines: list[str] = []
    for line, count in folded:
        lines.append(line)
        if count > 1:
            lines.append(f"  ... the call above repeated {count - 1} more times")
    if len(lines) > MAX_TRACE_SHOWN:
        half = MAX_TRACE_SHOWN // 2
        hidden = len(lines) - 2 * half
        lines = [*lines[:half], f"  ... {hidden} more lines ...", *lines[-half:]]
    return lines

"""Call sites: function calls and method calls, with an inline path for plain user functions.

A call of a synchronous user function with the right number of arguments builds the frame
and runs the body right here, with no intermediate Python call. Everything else (async
functions, checked parameters, builtins, wrong arity) goes through `runtime.functions.call`,
the one way to call a value. Errors passing through a call site record it in their FluentAI
traceback. Which inline path fits is read off the resolved AST: a callee that is a module
global (recursion's shape, looked up inline), an argument that is a slot against a literal
(`f(n - 1)`, computed inline).
"""

from __future__ import annotations

from typing import Any

from ..resolve.hints import paren_opening_a_line
from ..runtime.functions import (
    Code,
    Function,
    ReturnEx,
    StackOverflow,
    add_callback_frame,
    call,
)
from ..runtime.methods import lookup_method, method_names
from ..runtime.values import Callable, a_type
from ..syntax import ast
from ..syntax.errors import FluentError, RuntimeFault, TypeErr, ValueErr
from ..syntax.source import Span
from ..syntax.suggest import did_you_mean
from .fastops import ARITH_OPS, slot_const
from .support import Gen, as_async, is_async


def callee_name(node: ast.Node) -> str:
    """How a call site spells its callee, for "'x' is not a function"."""
    if isinstance(node, ast.Var | ast.Field):
        return node.name
    return "<expression>"


def _enter(f: Function, frame: list[Any], span: Span) -> Any:
    try:
        r = f.body(frame)
    except ReturnEx as e:
        return e.value
    except FluentError as e:
        e.trace.append((f.name, span))
        raise
    except RecursionError:
        raise StackOverflow("stack overflow: too many nested calls", span) from None
    return r[0] if type(r) is tuple else r


def compile_call(gen: Gen, callee_node: ast.Node, arg_nodes: tuple[ast.Node, ...],
                 span: Span) -> Code:
    """`callee(args)`; a pipe `x |> f(a)` arrives here as `f` with `(x, a)`."""
    code = _compile_call(gen, callee_node, arg_nodes, span)
    paren = paren_opening_a_line(callee_node, arg_nodes)
    if paren is None:
        return code
    return _with_continuation_hint(code, span, callee_node.span.line, paren)


def _compile_call(gen: Gen, callee_node: ast.Node, arg_nodes: tuple[ast.Node, ...],
                  span: Span) -> Code:
    name = callee_name(callee_node)
    callee = gen.expr(callee_node)
    args = [gen.expr(a) for a in arg_nodes]
    if is_async(callee) or any(is_async(a) for a in args):
        acallee = as_async(callee)
        aargs = [as_async(a) for a in args]

        async def call_async(env: list[Any]) -> Any:
            f = await acallee(env)
            argv = [await a(env) for a in aargs]
            if type(f) is Function and f.fast and len(argv) == f.nparams:
                return _enter(f, [f.env, *argv, *f.pad], span)
            return call(f, argv, span, name)
        return call_async
    n = len(args)
    if n == 0:
        def call0(env: list[Any]) -> Any:
            f = callee(env)
            if type(f) is Function and f.fast_arity == 0:
                return _enter(f, [f.env, *f.pad], span)
            return call(f, [], span, name)
        return call0
    global_name = gen.res.global_name(callee_node)
    if n == 1 and global_name is not None:
        globals_ = gen.module_globals
        arithmetic = slot_const(gen.res, arg_nodes[0], ARITH_OPS)
        if arithmetic is not None:
            return _call1_global_arith(callee, args[0], arithmetic, globals_, global_name,
                                       span, name)
        return _call1_global(callee, args[0], globals_, global_name, span, name)
    if n == 1:
        (a0,) = args

        def call1(env: list[Any]) -> Any:
            f = callee(env)
            x = a0(env)
            if type(f) is Function and f.fast and f.nparams == 1:
                try:
                    r = f.body([f.env, x, *f.pad])
                except ReturnEx as e:
                    return e.value
                except FluentError as e:
                    e.trace.append((f.name, span))
                    raise
                except RecursionError:
                    raise StackOverflow("stack overflow: too many nested calls", span) from None
                return r[0] if type(r) is tuple else r
            return call(f, [x], span, name)
        return call1
    if n == 2:
        a0, a1 = args

        def call2(env: list[Any]) -> Any:
            f = callee(env)
            x = a0(env)
            y = a1(env)
            if type(f) is Function and f.fast_arity == 2:
                return _enter(f, [f.env, x, y, *f.pad], span)
            return call(f, [x, y], span, name)
        return call2

    def calln(env: list[Any]) -> Any:
        f = callee(env)
        argv = [a(env) for a in args]
        if type(f) is Function and f.fast and len(argv) == f.nparams:
            return _enter(f, [f.env, *argv, *f.pad], span)
        return call(f, argv, span, name)
    return calln


def call_method(receiver: Any, name: str, argv: list[Any], span: Span,
                globals_: dict[str, Any]) -> Any:
    """`receiver.name(args)`: a function stored in a map, else a built-in method of the
    receiver's type, else the global function `name(receiver, args)` (SPEC §4)."""
    if type(receiver) is dict:
        stored = receiver.get(name)
        if stored is not None and isinstance(stored, Callable):
            return call(stored, argv, span, name)
    method = lookup_method(receiver, name)
    if method is not None:
        try:
            return method.call(receiver, argv)
        except FluentError as e:
            if e.span is not None:  # raised inside a callback (`xs.map(f)`)
                add_callback_frame(e, argv, name, span)
            raise e.at(span) from None
        except OverflowError:  # "a".repeat(10 ** 20)
            raise ValueErr(f"{name}(): a number is too large for this operation").at(
                span) from None
        except MemoryError:
            raise ValueErr(f"{name}(): out of memory").at(span) from None
        except RecursionError:
            raise StackOverflow("stack overflow: too many nested calls", span) from None
    fallback = globals_.get(name)
    if isinstance(fallback, Callable):
        return call(fallback, [receiver, *argv], span, name)
    raise TypeErr(f"{a_type(receiver)} has no method '{name}'"
                  + did_you_mean(name, _method_candidates(receiver, globals_))).at(span)


def _method_candidates(receiver: Any, globals_: dict[str, Any]) -> list[str]:
    """What `receiver.name(…)` could have meant, likeliest first: the functions stored in
    it (a map used as a namespace), its type's methods, then global functions (`x.f()` is
    `f(x)`)."""
    names = []
    if type(receiver) is dict:
        names += [k for k, v in receiver.items() if isinstance(v, Callable)]
    names += method_names(receiver)
    names += [k for k, v in globals_.items() if isinstance(v, Callable)]
    return names


def _with_continuation_hint(code: Code, span: Span, callee_line: int, paren_line: int) -> Code:
    """`code` whose own TypeErrors (not a function, wrong arity) say that the '(' on
    `paren_line` continues the expression above. Only such calls pay for the wrapper."""
    hint = (f" (the '(' that starts line {paren_line} continues line {callee_line} as a "
            f"call: end line {callee_line} with ';' if line {paren_line} is a new statement)")

    def add_hint(e: FluentError) -> None:
        if isinstance(e, RuntimeFault) and e.kind == "TypeError" and e.span is span \
                and not e.trace and not e.message.endswith(hint):
            e.message += hint

    if is_async(code):
        async def continued_async(env: list[Any]) -> Any:
            try:
                return await code(env)
            except FluentError as e:
                add_hint(e)
                raise
        return continued_async

    def continued(env: list[Any]) -> Any:
        try:
            return code(env)
        except FluentError as e:
            add_hint(e)
            raise
    return continued


def compile_method_call(gen: Gen, node: ast.MethodCall) -> Code:
    receiver = gen.expr(node.receiver)
    args = [gen.expr(a) for a in node.args]
    name, span, globals_ = node.name, node.span, gen.module_globals
    if is_async(receiver) or any(is_async(a) for a in args):
        areceiver = as_async(receiver)
        aargs = [as_async(a) for a in args]

        async def method_async(env: list[Any]) -> Any:
            r = await areceiver(env)
            argv = [await a(env) for a in aargs]
            return call_method(r, name, argv, span, globals_)
        return method_async

    def method(env: list[Any]) -> Any:
        return call_method(receiver(env), name, [a(env) for a in args], span, globals_)
    return method


def _call1_global(callee: Code, a0: Code, g: dict[str, Any], gname: str, span: Span,
                  name: str) -> Code:
    """`f(x)` where `f` is a module global: the lookup happens inline (recursive calls)."""

    def call1g(env: list[Any]) -> Any:
        try:
            f = g[gname]
        except KeyError:
            f = callee(env)  # raises the NameError with its span
        x = a0(env)
        if type(f) is Function and f.fast_arity == 1:
            try:
                r = f.body([f.env, x, *f.pad] if f.pad else [f.env, x])
            except ReturnEx as e:
                return e.value
            except FluentError as e:
                e.trace.append((f.name, span))
                raise
            except RecursionError:
                raise StackOverflow("stack overflow: too many nested calls", span) from None
            return r[0] if type(r) is tuple else r
        return call(f, [x], span, name)
    return call1g


def _call1_global_arith(callee: Code, a0: Code, arithmetic: tuple[Any, int, Any],
                        g: dict[str, Any], gname: str, span: Span, name: str) -> Code:
    """`f(n - 1)`: a global function of one slot-vs-literal argument (recursion's shape),
    the argument computed inline when the slot holds a value of the literal's type."""
    op, slot, const = arithmetic
    ctype = type(const)

    def call1g_arith(env: list[Any]) -> Any:
        try:
            f = g[gname]
        except KeyError:
            f = callee(env)  # raises the NameError with its span
        a = env[slot]
        x = op(a, const) if type(a) is ctype else a0(env)
        if type(f) is Function and f.fast_arity == 1:
            try:
                r = f.body([f.env, x, *f.pad] if f.pad else [f.env, x])
            except ReturnEx as e:
                return e.value
            except FluentError as e:
                e.trace.append((f.name, span))
                raise
            except RecursionError:
                raise StackOverflow("stack overflow: too many nested calls", span) from None
            return r[0] if type(r) is tuple else r
        return call(f, [x], span, name)
    return call1g_arith

"""How a server's requests and WebSocket events reach the program.

`Dispatcher` implements the transport's `server.app.Dispatch`: it finds handlers (a function
value, or a name resolved when each request or event arrives, SPEC §7), maps requests and
handler results through `http_mapping`, and turns a handler's failure into a report on
stderr and a status code. Its hooks — `resolve`, `invoke`, `report`, `enter`, `new_id`,
`now_ms` — are the program's: `ProgramDispatch` gives those of a running interpreter; the
server's tests give Python callables.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from ..runtime.tasks import HANDLERS, HandlerFrame
from ..runtime.values import Callable
from ..server.app import Handshake, HttpError, Request, Response
from ..syntax.errors import FluentError, NameErr
from . import EffectContext
from .http_mapping import http_response, request_map

# The functions a WebSocket event goes to when the program named none with `on`.
EVENT_DEFAULTS = {
    "connect": ("handle_websocket_connect", "handle_new_connection"),
    "message": ("handle_websocket_message",),
    "close": ("handle_websocket_close", "handle_websocket_disconnect"),
}


class Dispatcher:
    """The program side of one server. Subclasses provide the hooks."""

    def resolve(self, handler: Any) -> Any | None:
        """A function value for a handler given by name or value; None when undefined."""
        raise NotImplementedError  # abstract: ProgramDispatch and the tests' dispatcher

    async def invoke(self, fn: Any, args: list[Any]) -> Any:
        """Call `fn` with as many of `args` as it declares; awaits async results."""
        raise NotImplementedError  # abstract, as above

    def report(self, error: BaseException, context: str) -> None:
        raise NotImplementedError  # abstract, as above

    def enter(self) -> None:
        """Prepare the current task to run handlers."""

    def new_id(self) -> str:
        raise NotImplementedError  # abstract, as above

    def now_ms(self) -> int:
        raise NotImplementedError  # abstract, as above

    # ------------------------------------------------------------------ server.app.Dispatch
    async def respond(self, handler: Any, request: Request) -> Response:
        where = f"{request.method} {request.path}"
        value = request_map(request)
        fn = self.resolve(handler)
        if fn is None:
            self.report(NameErr(f"route handler '{handler}' is not defined"),
                        f"in HTTP handler for {where}")
            raise HttpError(500, "internal server error")
        try:
            result = await self.invoke(fn, [value])
        except asyncio.CancelledError:
            raise
        except Exception as e:  # reported with its FluentAI traceback
            self.report(e, f"in HTTP handler for {where}")
            raise HttpError(500, "internal server error") from None
        try:
            return http_response(result)
        except FluentError as e:  # an invalid status or header, bytes inside a JSON body
            self.report(e, f"in the response of the HTTP handler for {where}")
            raise HttpError(500, "internal server error") from None

    async def authorize(self, handler: Any, handshake: Handshake) -> bool | dict[str, Any] | int:
        """The `authorize` handler's verdict: a map (accept, and it becomes the connection's
        meta), true (accept), else 401; a failing or undefined handler gives 500."""
        fn = self.resolve(handler)
        if fn is None:
            self.report(NameErr(f"authorize handler '{handler}' is not defined"),
                        "in the WebSocket handshake")
            return 500
        request = {"path": handshake.path, "query": dict(handshake.query),
                   "headers": dict(handshake.headers)}
        try:
            verdict = await self.invoke(fn, [request])
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.report(e, f"in the WebSocket authorize handler for {handshake.path}")
            return 500
        if verdict is True or type(verdict) is dict:
            return verdict
        return 401

    async def event(self, event: str, chosen: Any, conn_id: str, args: list[Any]) -> bool:
        """Run the handler of a WebSocket event (`chosen` by `on`, else a default name);
        False when it failed (reported)."""
        fn = self.handler_for(event, chosen)
        if fn is None:
            return True
        try:
            await self.invoke(fn, args)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.report(e, f"in the WebSocket {event} handler for connection {conn_id}")
            return False
        return True

    def handler_for(self, event: str, chosen: Any) -> Any | None:
        if chosen is not None:
            return self.resolve(chosen)
        for name in EVENT_DEFAULTS[event]:
            fn = self.resolve(name)
            if fn is not None:
                return fn
        return None


class ProgramDispatch(Dispatcher):
    """The Dispatcher of a running program (effect handler frames as at `listen`)."""

    def __init__(self, ctx: EffectContext, frames: tuple[HandlerFrame, ...],
                 unique_ids: bool = False) -> None:
        self.ctx = ctx
        self.frames = frames
        # In a cluster, connection ids must not collide across processes: random even with
        # --deterministic (whose predictable ids would be the same in every process).
        self.unique_ids = unique_ids

    def resolve(self, handler: Any) -> Any | None:
        if isinstance(handler, str):
            value = self.ctx.lookup_global(handler)
            return value if isinstance(value, Callable) else None
        return handler if isinstance(handler, Callable) else None

    async def invoke(self, fn: Any, args: list[Any]) -> Any:
        return await self.ctx.invoke(fn, args)

    def report(self, error: BaseException, context: str) -> None:
        self.ctx.report(error, context)

    def enter(self) -> None:
        if self.frames:
            HANDLERS.set(self.frames)

    def new_id(self) -> str:
        if self.unique_ids:
            return str(uuid.uuid4())
        return self.ctx.new_id("")

    def now_ms(self) -> int:
        return self.ctx.now_ms()

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
import re
import uuid
from collections.abc import Iterable
from typing import Any

from ..runtime.tasks import HANDLERS, HandlerFrame
from ..runtime.values import Callable, display
from ..server.app import Handshake, HttpError, Request, Response
from ..syntax.errors import FluentError, NameErr, ValueErr
from . import EffectContext
from .http_mapping import http_response, request_map

# The functions a WebSocket event goes to when the program named none with `on` (SPEC §7):
# the first of these it defines; for messages, else its single `handle_<name>_message`.
EVENT_DEFAULTS = {
    "connect": ("handle_websocket_connect", "handle_new_connection"),
    "message": ("handle_websocket_message", "handle_message"),
    "close": ("handle_websocket_close", "handle_websocket_disconnect"),
}
_NAMED_MESSAGE_HANDLER = re.compile(r"handle_\w+_message")


class Dispatcher:
    """The program side of one server (`server_id`). Subclasses provide the hooks."""

    server_id = ""
    _warned_unhandled = False

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

    def global_names(self) -> Iterable[str]:
        """The names of the program's globals (to find `handle_<name>_message`)."""
        raise NotImplementedError  # abstract, as above

    def arity(self, fn: Any) -> int | None:
        """How many parameters `fn` declares (None: any number)."""
        arity: int | None = fn.arity()
        return arity

    def warn(self, text: str) -> None:
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
        False when it failed (reported). A handler that declares one parameter more than
        the event has gets the server id first (`handle_message(server_id, conn_id, m)`)."""
        fn = self.handler_for(event, chosen)
        if fn is None:
            if event == "message":
                self.unhandled(conn_id, args[-1])
            return True
        if self.arity(fn) == len(args) + 1:
            args = [self.server_id, *args]
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
        if event == "message":
            named = self.named_message_handlers()
            if len(named) == 1:
                return self.resolve(named[0])
        return None

    def named_message_handlers(self) -> list[str]:
        """The program's functions named `handle_<name>_message` (the seed's
        `handle_chat_message`), the conventional names aside."""
        conventional = EVENT_DEFAULTS["message"]
        return sorted(name for name in self.global_names()
                      if _NAMED_MESSAGE_HANDLER.fullmatch(name) and name not in conventional
                      and self.resolve(name) is not None)

    def check_message_handler(self) -> None:
        """At `listen`: several `handle_<name>_message` functions and no conventional
        name is an error, since no one of them is the handler."""
        if any(self.resolve(name) is not None for name in EVENT_DEFAULTS["message"]):
            return
        named = self.named_message_handlers()
        if len(named) > 1:
            raise ValueErr(
                f"HttpServer.listen(): several functions could handle WebSocket messages: "
                f"{', '.join(named)}; define handle_websocket_message, or keep one "
                f"handle_<name>_message")

    def unhandled(self, conn_id: str, message: Any) -> None:
        """A message arrived and the program has no handler: say so once per server."""
        if self._warned_unhandled:
            return
        self._warned_unhandled = True
        shown = display(message) if type(message) is str else f"{len(message)} bytes"
        if len(shown) > 60:
            shown = shown[:57] + "..."
        self.warn(
            f"warning: {self.server_id} received a WebSocket message ({shown!r} from "
            f"connection {conn_id}) and the program has no handler for it, so it was dropped "
            f"(and later ones will be, without this warning). Looked for: "
            f"{', '.join(EVENT_DEFAULTS['message'])}, or one function "
            f"handle_<name>_message. Define `function handle_websocket_message(conn_id, "
            f"message) {{ ... }}`, or register one with "
            f"`perform HttpServer.on(server.id, \"message\", handler)`.\n")


class ProgramDispatch(Dispatcher):
    """The Dispatcher of a running program (effect handler frames as at `listen`)."""

    def __init__(self, ctx: EffectContext, frames: tuple[HandlerFrame, ...], server_id: str,
                 unique_ids: bool = False) -> None:
        self.ctx = ctx
        self.frames = frames
        self.server_id = server_id
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

    def global_names(self) -> Iterable[str]:
        return self.ctx.global_names()

    def warn(self, text: str) -> None:
        self.ctx.write_err(text)

"""The Network effect: HTTP requests with httpx's async client (created on first use).

Every operation gives `{status, headers, body}` (and `json` when the response is JSON);
connection failures are EffectErrors naming the URL."""

from __future__ import annotations

import os
from typing import Any

from ..runtime.values import display, from_json, to_json
from ..syntax.errors import EffectErr, ValueErr
from . import MAP, NUMBER, STRING, EffectContext, EffectHandler, expect, operation


class Network(EffectHandler):
    effect = "Network"

    def __init__(self, ctx: EffectContext) -> None:
        super().__init__(ctx)
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(follow_redirects=False, timeout=30.0)
        return self._client

    @operation()
    async def get(self, url: Any, headers: Any = None) -> dict[str, Any]:
        """An HTTP GET request; gives {"status", "headers", "body"}."""
        return await self._send("Network.get()", "GET", url, None, headers, None)

    @operation()
    async def post(self, url: Any, body: Any, headers: Any = None) -> dict[str, Any]:
        """An HTTP POST request with `body` (a map or list is sent as JSON); gives {"status", "headers", "body"}."""
        return await self._send("Network.post()", "POST", url, body, headers, None)

    @operation()
    async def request(self, spec: Any) -> dict[str, Any]:
        """`{method, url, headers, body, timeout_ms}`; only `url` is required."""
        expect("Network.request()", spec, MAP.named("a request map"))
        method = spec.get("method", "GET")
        expect("Network.request() method", method, STRING)
        timeout = spec.get("timeout_ms")
        if timeout is not None:
            expect("Network.request() timeout_ms", timeout, NUMBER)
        return await self._send("Network.request()", method.upper(), spec.get("url"),
                                spec.get("body"), spec.get("headers"), timeout)

    async def _send(self, what: str, method: str, url: Any, body: Any, headers: Any,
                    timeout_ms: Any) -> dict[str, Any]:
        import httpx

        expect(what, url, STRING.named("a URL string"))
        hdrs = {}
        if headers is not None:
            expect(what, headers, MAP.named("a headers map"))
            hdrs = {str(k): display(v) for k, v in headers.items()}
        content: bytes | None = None
        if body is not None:
            if type(body) is bytes:
                content = body
            elif type(body) in (dict, list):
                content = to_json(body).encode()
                hdrs.setdefault("content-type", "application/json")
            else:
                content = display(body).encode()
        try:
            response = await self.client().request(
                method, url, content=content, headers=hdrs,
                timeout=timeout_ms / 1000 if timeout_ms is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.InvalidURL:
            raise ValueErr(f"{what}: invalid URL '{url}'") from None
        except httpx.UnsupportedProtocol:
            raise ValueErr(f"{what}: unsupported URL '{url}' (use http:// or https://)") from None
        except httpx.TimeoutException:
            raise EffectErr(f"{what}: {method} {url} timed out") from None
        except httpx.ConnectError as e:
            raise EffectErr(cannot_connect(what, url, e)) from None
        except httpx.HTTPError as e:
            raise EffectErr(f"{what}: {method} {url} failed: {e}") from None
        return response_map(response)

    async def shutdown(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def cannot_connect(what: str, url: str, error: BaseException) -> str:
    """`OP(): cannot connect to URL: REASON`, the one wording of a failed connection for
    `Network` and `WebSocketClient`: the reason is the operating system's (`connection
    refused`, `name or service not known`), found down the chain of exceptions the client
    library wrapped it in (httpx says only "All connection attempts failed")."""
    reason = ""
    seen: BaseException | None = error
    for _ in range(8):  # a short chain; never loop on a cycle
        if seen is None:
            break
        errno = getattr(seen, "errno", None)
        if isinstance(seen, OSError) and seen.strerror:
            reason = seen.strerror
            if errno and errno > 0:
                reason = os.strerror(errno)
            break
        seen = seen.__cause__ or seen.__context__
    if not reason:
        reason = "timed out" if isinstance(error, TimeoutError) else (str(error) or "failed")
    return f"{what}: cannot connect to {url}: {reason[0].lower()}{reason[1:]}"


def response_map(response: Any) -> dict[str, Any]:
    raw = response.content
    try:
        body: Any = raw.decode(response.encoding or "utf-8")
    except (UnicodeDecodeError, LookupError):
        body = raw
    result: dict[str, Any] = {
        "status": response.status_code,
        "headers": {k.lower(): v for k, v in response.headers.items()},
        "body": body,
    }
    if "json" in response.headers.get("content-type", "") and type(body) is str and body:
        try:
            result["json"] = from_json(body)
        except Exception:
            result["json"] = None
    return result

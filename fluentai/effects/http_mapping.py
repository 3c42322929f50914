"""FluentAI values ↔ what the transport carries: a request as the map a route handler gets,
a handler's value as an HTTP response, a sent value as a WebSocket frame, connection meta
as JSON-able data for other cluster nodes (SPEC §7).

Pure functions; the server (`fluentai.server`) never sees a FluentAI value.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..runtime.values import display, from_json, to_json
from ..server.app import HttpError, Request, Response
from ..server.connections import Outgoing
from ..syntax.errors import FluentError, TypeErr, ValueErr


def to_frame(value: Any) -> Outgoing:
    """What a program sends becomes a frame: bytes → binary, map/list → JSON text."""
    if type(value) is str or type(value) is bytes:
        return value
    if type(value) is dict or type(value) is list:
        return to_json(value)
    return display(value)


def request_map(request: Request) -> dict[str, Any]:
    """`{method, path, params, query, headers, body}` and `json` when the body is JSON;
    an invalid JSON body is HTTP 400."""
    body = request.body
    try:
        text: Any = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body
    value: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "params": dict(request.params),
        "query": dict(request.query),
        "headers": dict(request.headers),
        "body": text,
    }
    if "json" in request.headers.get("content-type", "") and body.strip():
        if type(text) is not str:
            raise HttpError(400, "invalid JSON: body is not UTF-8")
        try:
            value["json"] = from_json(text)
        except FluentError as e:
            detail = e.message.removeprefix("from_json: invalid JSON: ")
            raise HttpError(400, f"invalid JSON: {detail}") from None
    return value


def http_response(result: Any) -> Response:
    """A handler's value as a response: a map with `status`/`headers`/`body`, else the value
    itself as the body (a string 200, a map or list as JSON); nil is 204."""
    if result is None:
        return Response(204, {}, b"")
    if type(result) is dict and any(k in result for k in ("status", "body", "headers")):
        status = result.get("status", 200)
        if type(status) is not int or not 100 <= status <= 599:
            raise ValueErr(f"a response status must be an int from 100 to 599, "
                           f"got {display(status)}")
        raw_headers = result.get("headers") or {}
        if type(raw_headers) is not dict:
            raise TypeErr("response headers must be a map")
        headers = {str(k): display(v) for k, v in raw_headers.items()}
        for name, value in headers.items():
            if not _HEADER_NAME.fullmatch(name):
                raise ValueErr(f"invalid response header name {name!r}")
            if not _HEADER_VALUE.fullmatch(value):
                raise ValueErr(f"invalid value for response header {name!r}: control "
                               "characters and non-Latin-1 text cannot be sent")
        body, content_type = _body(result.get("body"))
    else:
        status, headers = 200, {}
        body, content_type = _body(result)
    if content_type and not any(k.lower() == "content-type" for k in headers):
        headers["content-type"] = content_type
    return Response(status, headers, body)


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def _body(value: Any) -> tuple[bytes, str | None]:
    if value is None:
        return b"", None
    if type(value) is str:
        return value.encode("utf-8"), "text/plain; charset=utf-8"
    if type(value) is bytes:
        return value, "application/octet-stream"
    if type(value) is dict or type(value) is list:
        return to_json(value).encode("utf-8"), "application/json"
    return display(value).encode("utf-8"), "text/plain; charset=utf-8"


def portable(value: Any, depth: int = 0) -> Any:
    """`value` as JSON-able data for other cluster nodes; what has no JSON form (bytes,
    functions, NaN, …) travels as its display text."""
    t = type(value)
    if value is None or t is bool or t is int or t is str:
        return value
    if t is float:
        return value if math.isfinite(value) else display(value)
    if depth < 50:
        if t is list:
            return [portable(v, depth + 1) for v in value]
        if t is dict:
            return {str(k): portable(v, depth + 1) for k, v in value.items()}
    return display(value)

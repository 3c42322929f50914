"""Route table: `route(method, path, handler)` with `:param` segments and a final `*`; and
replacing the routes one origin registered by a new set, in place (a live reload)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

WEBSOCKET_UPGRADE = "handle_websocket_upgrade"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    segments: tuple[str, ...]
    handler: Any  # a function name (resolved per request) or a FluentAI function value
    # What registered it (opaque here; the program's statement), for `Router.replace`.
    origin: Any = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        """Routes with the same key replace each other."""
        return (self.method, self.segments)

    @property
    def is_websocket(self) -> bool:
        return self.handler == WEBSOCKET_UPGRADE

    def match(self, parts: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        segs = self.segments
        for i, seg in enumerate(segs):
            if seg == "*" and i == len(segs) - 1:
                params["*"] = "/".join(parts[i:])
                return params
            if i >= len(parts):
                return None
            if seg.startswith(":"):
                if not parts[i]:
                    return None
                params[seg[1:]] = parts[i]
            elif seg != parts[i]:
                return None
        return params if len(parts) == len(segs) else None


def split_path(path: str) -> list[str]:
    return [p for p in path.split("/") if p != ""] if path not in ("", "/") else []


class RouteError(ValueError):
    pass


@dataclass(frozen=True)
class Match:
    route: Route
    params: dict[str, str]


@dataclass(frozen=True)
class Miss:
    """No route for a request: 404 (no path matches), 405 (the path matches, the method
    does not) or 426 (only a WebSocket upgrade route has this path)."""

    status: int
    reason: str


class Router:
    """Routes in registration order; the first matching path wins."""

    METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"})

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Any, origin: Any = None) -> Route:
        route = self.make(method, pattern, handler, origin)
        # Registering the same method and path again replaces the handler in place, keeping
        # its precedence (REPL-friendly).
        for i, existing in enumerate(self.routes):
            if existing.key == route.key:
                self.routes[i] = route
                return route
        self.routes.append(route)
        return route

    def make(self, method: str, pattern: str, handler: Any, origin: Any = None) -> Route:
        """A checked route, not yet in the table."""
        method = method.upper()
        if method not in self.METHODS:
            raise RouteError(f"unknown HTTP method '{method}'")
        if not pattern.startswith("/"):
            raise RouteError(f"route path must start with '/', got '{pattern}'")
        segments = tuple(split_path(pattern))
        if "*" in segments[:-1]:
            raise RouteError("'*' may only be the last segment of a route path")
        return Route(method, pattern, segments, handler, origin)

    def replace(self, old: Callable[[Route], bool], new: Sequence[Route]) -> None:
        """Remove the routes `old` selects and put `new` (in its order, a later one replacing
        an earlier one with the same key) where the first of them was, or where the first
        route with one of their keys was, else at the end. Other routes keep their order;
        one with the key of a new route is replaced."""
        fresh: dict[tuple[str, tuple[str, ...]], Route] = {}
        for route in new:
            fresh[route.key] = route
        kept: list[Route] = []
        at: int | None = None
        for route in self.routes:
            if old(route) or route.key in fresh:
                if at is None:
                    at = len(kept)
                continue
            kept.append(route)
        if at is None:
            at = len(kept)
        self.routes = kept[:at] + list(fresh.values()) + kept[at:]

    def websocket_routes(self) -> list[Route]:
        return [r for r in self.routes if r.is_websocket]

    def match(self, method: str, path: str) -> Match | Miss:
        parts = split_path(path)
        if not any(r.match(parts) is not None for r in self.routes if not r.is_websocket) and any(
            r.match(parts) is not None for r in self.websocket_routes()
        ):
            return Miss(426, "this path accepts WebSocket connections only")
        path_matched = False
        for route in self.routes:
            if route.is_websocket:
                continue
            params = route.match(parts)
            if params is None:
                continue
            path_matched = True
            if route.method in (method, "*") or (method == "HEAD" and route.method == "GET"):
                return Match(route, params)
        if path_matched:
            return Miss(405, f"method {method} not allowed for {path}")
        return Miss(404, f"no route for {path}")

    def websocket_allowed(self, path: str) -> bool:
        """SPEC §7: at registered upgrade paths, or anywhere when none is registered."""
        ws = self.websocket_routes()
        if not ws:
            return True
        parts = split_path(path)
        return any(r.match(parts) is not None for r in ws)

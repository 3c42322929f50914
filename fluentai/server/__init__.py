"""The HTTP and WebSocket server behind the HttpServer and WebSocket effects.

Plain classes own the logic and are tested without sockets: `routes` (method and path
matching), `connections` (the connection registry, per-connection outbound buffers with
back-pressure, rate limits). `app` is the ASGI application that drives them and calls into
FluentAI through the `Dispatch` interface it is given; `listener` serves it with uvicorn.
"""

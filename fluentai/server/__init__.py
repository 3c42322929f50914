"""Layer 5, the server: HTTP and WebSocket transport behind the HttpServer and WebSocket
effects. It never sees a FluentAI value: what the program registered (route and event
handlers) is opaque here and goes to the `app.Dispatch` the effects hand it.

Plain classes own the logic and are tested without sockets: `routes` (method and path
matching), `connections` (the connection registry, per-connection outbound buffers with
back-pressure, rate limits). `app` is the ASGI application that drives them; `listener`
serves it with uvicorn; `cluster` and `cluster_state` make several processes one server
through Redis; `workers` starts and supervises `--workers N` processes.
"""

"""fluentai: an interpreter for a subset of the FluentAI language (`.flc` programs), with an
effect runtime whose HTTP/WebSocket server runs user functions for every event."""

__version__ = "0.1.0"

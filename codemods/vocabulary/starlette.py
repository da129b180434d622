"""Starlette's names the tool knows: what FastAPI re-exports from it."""

from __future__ import annotations

# Runs a blocking function in AnyIO's worker threads (fastapi.concurrency re-exports it).
THREADPOOL = frozenset({"starlette.concurrency.run_in_threadpool"})
# Registration methods Starlette's routers have; FastAPI's inherit them.
REGISTRATION_ATTRS = frozenset({"add_websocket_route", "add_route"})
WEBSOCKET_REGISTRATIONS = frozenset({"add_websocket_route"})

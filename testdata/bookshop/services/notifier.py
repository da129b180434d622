"""Outbound domain events.

Events are kept in an in-process outbox; a deployment forwards them to the
message bus from there.
"""

import asyncio
import logging
from typing import Any

logger = logging.getLogger("bookshop.events")

_outbox: list[dict[str, Any]] = []


async def send(event: str, payload: dict[str, Any]) -> None:
    """Publish ``event`` without blocking the caller's request."""
    await asyncio.sleep(0)
    _outbox.append({"event": event, "payload": payload})
    logger.info("event %s: %s", event, payload)


def sent_events() -> list[dict[str, Any]]:
    return list(_outbox)


def clear() -> None:
    _outbox.clear()

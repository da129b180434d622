"""Outbound notifications (a stand-in for the message bus the service publishes to)."""

import asyncio
from typing import Any

SENT: list[tuple[str, dict[str, Any]]] = []


async def publish(topic: str, payload: dict[str, Any]) -> None:
    # The real bus client is asynchronous; yielding keeps the same scheduling behaviour.
    await asyncio.sleep(0)
    SENT.append((topic, payload))


async def recent(limit: int = 20) -> list[dict[str, Any]]:
    await asyncio.sleep(0)
    return [{"topic": topic, "payload": payload} for topic, payload in SENT[-limit:]]


def clear() -> None:
    SENT.clear()

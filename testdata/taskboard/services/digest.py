"""Project digests, assembled on the event loop right after the response goes out."""

import asyncio

QUEUED: list[tuple[int, int]] = []
BUILT: list[tuple[int, int]] = []


def schedule(project_id: int, user_id: int) -> None:
    """Queue a digest; must be called on the event loop thread (it uses the running loop)."""
    loop = asyncio.get_running_loop()
    QUEUED.append((project_id, user_id))
    loop.call_soon(BUILT.append, (project_id, user_id))


def clear() -> None:
    QUEUED.clear()
    BUILT.clear()

import asyncio

from fastapi import APIRouter, Query

from services import notifier

router = APIRouter(tags=["system"])


@router.get("/health")
async def health() -> dict[str, str]:
    # Answering after one trip through the loop shows the loop is not stuck.
    await asyncio.sleep(0)
    return {"status": "ok"}


@router.get("/notifications")
async def notifications(limit: int = Query(default=20, ge=1, le=100)):
    return await notifier.recent(limit)

"""Back-office reports."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from core.dependencies import session_dependency
from db.engine import get_db_session
from schemas.report import AuthorSales, InventoryStats, SlowReport, TopRatedReport
from services import notifier, stats_helper

router = APIRouter(prefix="/reports", tags=["reports"])

# Strong references to fire-and-forget tasks so they are not garbage collected early.
_background_tasks: set[asyncio.Task] = set()


@router.get("/inventory", response_model=InventoryStats)
async def inventory():
    return stats_helper.compute_inventory_stats()


@router.get("/slow", response_model=SlowReport)
async def slow_report(
    session: session_dependency,
    size: Annotated[int, Query(ge=1, le=10_000_000)] = stats_helper.DEFAULT_REPORT_SIZE,
):
    rows = stats_helper.run_heavy_report(session, size)
    return {"size": size, "rows": rows}


# async-migrate: ignore[blocking-session] times itself on the event loop and starts the notification task
@router.get("/top-rated", response_model=TopRatedReport)
async def top_rated(session: session_dependency, limit: Annotated[int, Query(ge=1, le=50)] = 5):
    loop = asyncio.get_running_loop()
    started = loop.time()
    items = stats_helper.top_rated_books(session, limit)
    elapsed_ms = (loop.time() - started) * 1000
    task = asyncio.create_task(notifier.send("report.top_rated", {"items": len(items)}))
    _background_tasks.add(task)
    task.add_done_callback(_background_tasks.discard)
    return {"items": items, "elapsed_ms": round(elapsed_ms, 3)}


@router.get("/sales", response_model=list[AuthorSales])
async def sales_report(top: Annotated[int, Query(ge=1, le=100)] = 10, session: Session = Depends(get_db_session)):
    def best_sellers() -> list[dict]:
        return stats_helper.sales_by_author(session)[:top]

    return best_sellers()

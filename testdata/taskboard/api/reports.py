import asyncio

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

import crud
from api.deps import get_current_user, get_db, require_admin
from models.user import User
from schemas.report import SlowReport, StatusCounts, WorkloadRow
from services.reports import DEFAULT_REPORT_SIZE, Reports

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/slow", response_model=SlowReport)
async def slow_report(size: int = Query(default=DEFAULT_REPORT_SIZE, ge=1, le=10_000_000)):
    return {"size": size, "rows": Reports.heavy_count(size)}


@router.get("/workload", response_model=list[WorkloadRow])
async def workload(db: Session = Depends(get_db), admin: User = Depends(require_admin)):
    return crud.task.workload(db)


@router.get("/status-counts", response_model=StatusCounts)
async def status_counts(user: User = Depends(get_current_user)):
    return await asyncio.to_thread(Reports.status_counts)

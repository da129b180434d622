from pydantic import BaseModel


class SlowReport(BaseModel):
    size: int
    rows: int


class WorkloadRow(BaseModel):
    user_id: int
    name: str
    open_tasks: int
    done_tasks: int


class StatusCounts(BaseModel):
    todo: int = 0
    doing: int = 0
    done: int = 0

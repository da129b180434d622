"""Taskboard API application."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

import models  # noqa: F401 - registers the tables on Base.metadata
from api import comments, labels, live, projects, reports, system, tasks, users
from db.base import Base
from db.engine import engine
from db.scoped import ScopedSession, enter_request_scope, request_scope
from services.errors import ConflictError, NotFoundError


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    Base.metadata.create_all(engine)
    yield
    engine.dispose()


app = FastAPI(title="Taskboard", lifespan=lifespan)

for module in (projects, tasks, comments, labels, users, reports, live, system):
    app.include_router(module.router)


@app.middleware("http")
async def scoped_session_per_request(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    token = enter_request_scope()
    try:
        return await call_next(request)
    finally:
        # closing the request's Session rolls its connection back: I/O, so in the threadpool, which
        # runs it in this request's context (the registry's scope)
        await run_in_threadpool(ScopedSession.remove)
        request_scope.reset(token)


@app.exception_handler(NotFoundError)
async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
    return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": str(exc)})


@app.exception_handler(ConflictError)
async def conflict(request: Request, exc: ConflictError) -> JSONResponse:
    return JSONResponse(status_code=status.HTTP_409_CONFLICT, content={"detail": str(exc)})

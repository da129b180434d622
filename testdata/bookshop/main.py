"""Bookshop API application."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from fastapi_pagination import add_pagination

import models  # noqa: F401 - registers the tables on Base.metadata
from api import assets, authors, books, live, orders, reports, reviews
from db.base import Base
from db.engine import engine
from services.errors import ConflictError, NotFoundError

logger = logging.getLogger("bookshop")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    Base.metadata.create_all(engine)
    yield
    engine.dispose()


app = FastAPI(title="Bookshop", lifespan=lifespan)

app.include_router(books.router)
app.include_router(authors.router)
app.include_router(reviews.router)
app.include_router(orders.router)
app.include_router(reports.router)
app.include_router(assets.router)
app.include_router(live.router)
add_pagination(app)


@app.exception_handler(NotFoundError)
async def not_found_handler(request: Request, exc: NotFoundError) -> JSONResponse:
    return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": str(exc)})


@app.exception_handler(ConflictError)
async def conflict_handler(request: Request, exc: ConflictError) -> JSONResponse:
    return JSONResponse(status_code=status.HTTP_409_CONFLICT, content={"detail": str(exc)})


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}

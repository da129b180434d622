"""AM251 deferred-column-read: a deferred column read on an object whose query phase two cannot
give an `undefer` option blocks the route; on a query it rewrites, the option is added."""

from __future__ import annotations

from test_phase2_rules import MODELS

DEFERRED_MODELS = MODELS.replace(
    "    title: Mapped[str]\n", "    title: Mapped[str]\n    blurb: Mapped[str] = mapped_column(deferred=True, default=\"\")\n"
)

ROUTER = """
from fastapi import Depends
from sqlalchemy.orm import undefer


def current_book(session: session_dependency) -> Book:
    return session.get(Book, 1)


@router.get("/blurb")
def blurb(session: session_dependency, {param}):
    count = session.scalar(select(func.count()).select_from(Book))
    {load}
    return {{"blurb": book.blurb, "count": count}}
"""


def test_a_deferred_column_read_on_a_dependency_result_gets_the_undefer_in_the_dependency_twin(phase2, entry):
    # The dependency moves with the route (its async twin), and its query with it: the option
    # goes there, as a relationship's eager load does. It blocked while the read named no
    # dependency.
    document = phase2(ROUTER.format(param="book: Book = Depends(current_book)", load="pass"),
                      {"models.py": DEFERRED_MODELS})
    found = entry(document, "blurb")
    assert found["action"] == "migrate" and "AM251" not in found["codes"], found
    assert (
        "+async def current_book_async(session: async_session_dependency) -> Book:\n"
        "+    return (await session.scalars(select(Book).where(Book.id == 1).options(undefer(Book.blurb)))).one_or_none()"
    ) in document["diff"]


def test_near_miss_the_route_loading_the_object_itself_gets_the_undefer_option(phase2, entry):
    document = phase2(ROUTER.format(param="book_id: int", load="book = session.get(Book, book_id)"),
                      {"models.py": DEFERRED_MODELS})
    found = entry(document, "blurb")
    assert found["action"] == "migrate" and "AM251" not in found["codes"], found
    assert "await session.scalars(select(Book).where(Book.id == book_id).options(undefer(Book.blurb)))" in document["diff"]


def test_near_miss_an_undeferred_column_migrates_without_a_second_option(phase2, entry):
    document = phase2(ROUTER.format(param="book_id: int",
                                    load="book = session.get(Book, book_id, options=[undefer(Book.blurb)])"),
                      {"models.py": DEFERRED_MODELS})
    found = entry(document, "blurb")
    assert found["action"] == "migrate" and "AM251" not in found["codes"], found
    assert document["diff"].count("undefer(Book.blurb)") == 2  # the line removed and the line added


HELPER = """
from pydantic import BaseModel


class BookIn(BaseModel):
    title: str
    blurb: str = ""


def describe(session, data) -> dict:
    count = session.scalar(select(func.count()).select_from(Book))
    return {{"blurb": data.blurb, "count": count}}


@router.post("/describe")
def describe_book(session: session_dependency, {param}):
    return describe(session, {passed})
"""


def test_a_helper_parameter_every_caller_fills_with_a_model_reads_its_deferred_column(phase2, entry):
    document = phase2(HELPER.format(param="book_id: int", passed="session.get(Book, book_id)"),
                      {"models.py": DEFERRED_MODELS})
    found = entry(document, "describe_book")
    assert found["action"] == "blocked" and "AM251" in found["codes"], found


def test_near_miss_a_helper_parameter_every_caller_fills_with_a_payload_reads_no_deferred_column(phase2, entry):
    """`describe(session, payload)` with `payload: BookIn`: `data.blurb` in the untyped helper
    is the payload's field, not Book's deferred column."""
    document = phase2(HELPER.format(param="payload: BookIn", passed="payload"), {"models.py": DEFERRED_MODELS})
    found = entry(document, "describe_book")
    assert found["action"] == "migrate" and "AM251" not in found["codes"], found


def test_a_helper_also_named_as_a_value_keeps_the_read_by_name(phase2, entry):
    """Called elsewhere through a reference (`run_in_threadpool(describe, ...)`), the helper may
    be handed a model where no call edge shows it."""
    router = HELPER.format(param="payload: BookIn", passed="payload") + (
        "\n\nLATER = describe\n"
    )
    document = phase2(router, {"models.py": DEFERRED_MODELS})
    found = entry(document, "describe_book")
    assert found["action"] == "blocked" and "AM251" in found["codes"], found


NARROWED = """
from sqlalchemy.orm import defer, load_only


@router.get("/titles")
def titles(session: session_dependency):
    books = session.scalars(select(Book).options({option}).order_by(Book.id)).all()
    return [{{"id": b.id, "read": b.{read}}} for b in books]
"""


def test_a_column_a_load_only_leaves_out_or_a_defer_names_blocks_the_route(phase2, entry):
    for option, read in (("load_only(Book.title)", "author_id"), ("defer(Book.title)", "title")):
        found = entry(phase2(NARROWED.format(option=option, read=read)), "titles")
        assert found["action"] == "blocked" and found["codes"] == ["AM251"], found
        assert f"`{option}` in titles leaves it unloaded" in found["reasons"][0], found


def test_near_miss_a_column_the_load_only_names_or_the_key_migrates(phase2, entry):
    for option, read in (("load_only(Book.title)", "title"), ("load_only(Book.title)", "id"),
                         ("defer(Book.title)", "author_id")):
        found = entry(phase2(NARROWED.format(option=option, read=read)), "titles")
        assert found["action"] == "migrate" and "AM251" not in found["codes"], found

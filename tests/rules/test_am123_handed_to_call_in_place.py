"""AM123 / AM301: a method of a project object or class, or a project function, handed as a value
to what calls it in the caller's own thread (`sorted(skus, key=view.units_of)`, `min(...)`,
`rows.sort(key=self.rank)`, `map(crud.count, ids)`, `functools.reduce`, `itertools.groupby`) runs
there, as `key=lambda s: view.units_of(s)` does: the handler reaches its Session work. Handed to
what the analysis cannot read, it is no call edge."""

from __future__ import annotations

import pytest

STOCK = """
import functools
import itertools

from fastapi import Depends
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker, get_db_session


class StockView:
    def __init__(self, session: Session) -> None:
        self.session = session

    def units_of(self, sku: str) -> int:
        return self.session.execute(text("select 1")).scalar_one()

    def label_of(self, sku: str) -> str:
        return sku.upper()


def get_stock_view(db: Session = Depends(get_db_session)) -> StockView:
    return StockView(db)


def count_open(sku: str) -> int:
    with database_sessionmaker() as s:
        return s.execute(text("select 1")).scalar_one()


def add_units(total: int, sku: str) -> int:
    with database_sessionmaker() as s:
        return total + s.execute(text("select 1")).scalar_one()


def length(sku: str) -> int:
    return len(sku)


class Ranker:
    def __init__(self, view: StockView) -> None:
        self.view = view

    def rank(self, sku: str) -> int:
        return self.view.units_of(sku)

    def ranked(self, skus: list[str]) -> list[str]:
        skus.sort(key=self.rank)
        return skus
"""


@pytest.mark.parametrize(("body", "target"), [
    ("return sorted(skus, key=view.units_of)", "stock.StockView.units_of"),
    ("return min(skus, key=view.units_of)", "stock.StockView.units_of"),
    ("return max(skus, key=view.units_of, default=None)", "stock.StockView.units_of"),
    ("skus.sort(key=view.units_of); return skus", "stock.StockView.units_of"),
    ("return dict(zip(skus, map(view.units_of, skus)))", "stock.StockView.units_of"),
    ("return list(filter(view.units_of, skus))", "stock.StockView.units_of"),
    ("units = view.units_of; return sorted(skus, key=units)", "stock.StockView.units_of"),
    ("return Ranker(view).ranked(skus)", "stock.Ranker.ranked"),
    ("return sorted(skus, key=count_open)", "stock.count_open"),
    ("return functools.reduce(add_units, skus, 0)", "stock.add_units"),
    ("return [k for k, _ in itertools.groupby(skus, key=count_open)]", "stock.count_open"),
])
def test_a_function_handed_to_what_calls_it_in_place_is_a_call_edge(app, reported, findings, body, target):
    root = app(
        f"""
        import functools
        import itertools

        from fastapi import Depends

        from stock import Ranker, StockView, add_units, count_open, get_stock_view


        @router.get("/stock/sorted")
        async def stock_sorted(skus: list[str], view: StockView = Depends(get_stock_view)):
            {body}
        """,
        {"stock.py": STOCK},
    )
    entry = reported(root, "stock_sorted", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM123"]), entry
    assert entry["reasons"][0].startswith(f"calls {target} "), entry
    assert [f["code"] for f in findings(root, "stock_sorted")] == ["AM301"]


@pytest.mark.parametrize("body", [
    "return sorted(skus, key=view.label_of)",  # a method doing no Session work
    "return sorted(skus, key=length)",
    "return min(skus, key=len)",
    "return sorted([view.units_of], key=repr)",  # handed as what is sorted, not as the key
])
def test_near_miss_a_function_doing_no_session_work_handed_in_place_keeps_with_am105(app, reported, findings, body):
    root = app(
        f"""
        from fastapi import Depends

        from stock import StockView, get_stock_view, length


        @router.get("/stock/sorted")
        async def stock_sorted(skus: list[str], view: StockView = Depends(get_stock_view)):
            {body}
        """,
        {"stock.py": STOCK},
    )
    assert reported(root, "stock_sorted", "phase1")["codes"] == ["AM105"]
    assert findings(root, "stock_sorted") == []


@pytest.mark.parametrize(("body", "handed"), [
    ("return sorted(skus, key=count_open)", "`count_open` uncalled to `sorted()`"),
    ("return list(map(view.units_of, skus))", "`view.units_of` uncalled to `map()`"),
])
def test_phase_two_blocks_a_def_route_handing_session_work_to_what_calls_it_in_place(phase2, entry, body, handed):
    # the call runs what it is handed without `await`: no call phase two could await
    found = entry(phase2(
        f"""
        from fastapi import Depends

        from stock import StockView, count_open, get_stock_view


        @router.get("/stock/sorted")
        def stock_sorted(skus: list[str], view: StockView = Depends(get_stock_view)):
            {body}
        """,
        {"stock.py": STOCK},
    ), "stock_sorted")
    assert (found["action"], found["codes"]) == ("blocked", ["AM215"]), found
    assert f"hands {handed}, which calls it in place without `await`" in found["reasons"][0], found

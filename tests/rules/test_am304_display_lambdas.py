"""AM304 unverified-session: a value out of a display of lambdas a function builds runs the lambdas'
bodies, whose calls are the function's own: read with them, never unverified for being lambdas."""

from __future__ import annotations

HELPERS = """
from sqlalchemy import text

from db.engine import database_sessionmaker


def count(_value):
    with database_sessionmaker() as session:
        return session.execute(text("select 1")).scalar()


def convert(params: dict) -> dict:
    def parse(value):
        return value.strip()

    roots = {
        "format": lambda x: parse(x),
        "think": lambda x: x,
        "seed": int,
    }
    for key, value in roots.items():
        if (param := params.get(key)) is not None:
            params[key] = value(param)
    return params


def convert_counting(params: dict) -> dict:
    roots = {"format": lambda x: count(x), "think": lambda x: x}
    for key, value in roots.items():
        if (param := params.get(key)) is not None:
            params[key] = value(param)
    return params
"""


def test_a_dispatch_table_of_lambdas_doing_no_session_work_is_no_finding(app, findings):
    root = app(
        """
        from helpers import convert


        @router.post("/a")
        async def local_table(params: dict):
            return convert(params)


        @router.post("/b")
        async def inline_display(params: dict):
            for key, fn in (("a", lambda x: x.strip()), ("b", lambda x: x)):
                params[key] = fn(params[key])
            return params
        """,
        {"helpers.py": HELPERS},
    )
    assert findings(root, "local_table") == []
    assert findings(root, "inline_display") == []


def test_near_miss_a_lambda_of_the_table_doing_session_work_is_a_blocking_finding(app, findings):
    root = app(
        """
        from helpers import convert_counting


        @router.post("/a")
        async def local_table(params: dict):
            return convert_counting(params)
        """,
        {"helpers.py": HELPERS},
    )
    assert [f["code"] for f in findings(root, "local_table")] == ["AM301"]


def test_phase_one_reads_the_lambdas_too(app, reported):
    root = app(
        """
        from helpers import convert


        @router.post("/a")
        async def local_table(params: dict):
            return convert(params)
        """,
        {"helpers.py": HELPERS},
    )
    entry = reported(root, "local_table", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM105"]), entry


TWO_LOOPS = """
def two_loops(params: dict, custom: dict) -> dict:
    for key, value in custom.items():
        params[key] = value
    roots = {"a": lambda x: x.strip(), "b": lambda x: x}
    for key, value in roots.items():
        params[key] = value(params[key])
    return params


def one_loop(params: dict, custom: dict) -> dict:
    for key, value in custom.items():
        params[key] = value(params[key])
    return params
"""


def test_a_call_in_a_loop_runs_that_loops_values_not_another_loops_of_the_same_name(app, findings):
    # open_webui's apply_model_params_to_body_ollama: `value` from a table it cannot read in one
    # loop, called only in the next loop, over a display of lambdas
    root = app(
        """
        from helpers import one_loop, two_loops


        @router.post("/a")
        async def second(params: dict, custom: dict):
            return two_loops(params, custom)


        @router.post("/b")
        async def first(params: dict, custom: dict):
            return one_loop(params, custom)
        """,
        # a function doing Session work handed on: a table the analysis cannot read may hold it
        {"helpers.py": HELPERS + TWO_LOOPS + "\n\nHANDED = [count]\n"},
    )
    assert findings(root, "second") == []
    # near miss: the loop over the table it cannot read calls its values
    assert [f["code"] for f in findings(root, "first")] == ["AM304"]

"""AM318 library-session-middleware: fastapi-sqlalchemy's DBSessionMiddleware ends each request's
Session in its own `async def dispatch`, which the analysis never reads: `check` reports the
registration, never an all-clear for it."""

from __future__ import annotations

import textwrap

MAIN = """\
from fastapi import FastAPI
from fastapi_sqlalchemy import DBSessionMiddleware, db
from sqlalchemy import text
from starlette.middleware.base import BaseHTTPMiddleware

app = FastAPI()
app.add_middleware(
    {middleware},{pragma}
    db_url="sqlite://",
    commit_on_exit=True,
)


class Timing(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        return await call_next(request)


app.add_middleware(Timing)


@app.get("/n")
def count():
    return {{"n": db.session.execute(text("select 1")).scalar_one()}}
"""


def build(tmp_path, middleware="DBSessionMiddleware", pragma=""):  # type: ignore[no-untyped-def]
    root = tmp_path / "app"
    root.mkdir()
    text = textwrap.dedent(MAIN).format(middleware=middleware, pragma=pragma)
    (root / "main.py").write_text(text, encoding="utf-8")
    return root


def test_the_registered_middleware_is_a_finding(cli, tmp_path):
    root = build(tmp_path)
    document = cli.json("check", root)
    assert [(f["code"], f["line"], f["function"]) for f in document["findings"]] == [
        ("AM318", 7, "DBSessionMiddleware"),
    ]
    assert "closes each request's synchronous Session" in document["findings"][0]["message"]
    assert cli("check", root).exit_code == 1


def test_a_pragma_on_the_registration_silences_it(cli, tmp_path):
    root = build(tmp_path, pragma="  # async-migrate: ignore[AM318] one ROLLBACK per request, accepted")
    document = cli.json("check", root)
    assert document["findings"] == []
    assert [(s["code"], s["reason"]) for s in document["silenced"]] == [("AM318", "one ROLLBACK per request, accepted")]


def test_near_miss_a_project_middleware_is_analysed_as_code(cli, tmp_path):
    root = build(tmp_path, middleware="Timing")
    assert [f["code"] for f in cli.json("check", root)["findings"]] == []

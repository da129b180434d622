"""An application factory keeping its sessionmaker on the state of the application it builds:
`app = FastAPI()` in `create_app(settings)`, `app.state.sessionmaker = sessionmaker(bind=engine)`,
handed on to a mounted application (`admin_app.state.sessionmaker = app.state.sessionmaker`), and a
route opening `with request.app.state.sessionmaker() as db`. Before, only a module-level
application or a parameter annotated as one counted as an application whose state this is, so the
route was unverified (AM125, `check` AM304) and kept on the loop; it does synchronous Session work
and converts. A state the analysis cannot read (a factory's call, a local bound twice) stays
unverified."""

from __future__ import annotations

import json
import os

import pytest
from sample import run_python

MAIN = """
from fastapi import FastAPI, Request
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

admin_app = FastAPI()


@admin_app.get("/ping")
async def ping(request: Request):
    with request.app.state.sessionmaker() as db:
        return {"one": db.execute(text("SELECT 1")).scalar_one()}


async def health(request: Request):
    with request.app.state.sessionmaker() as db:
        db.execute(text("SELECT 1"))
    return {"status": "ok"}


def create_app(url: str) -> FastAPI:
    app = FastAPI()
    engine = create_engine(url)
    app.state.sessionmaker = {maker}
    admin_app.state.sessionmaker = app.state.sessionmaker
    app.add_api_route("/health", health, methods=["GET"])
    app.mount("/admin", admin_app)
    return app
"""


def build(project, maker: str = "sessionmaker(bind=engine)", extra: str = ""):  # type: ignore[no-untyped-def]
    text = MAIN.replace("{maker}", maker).replace("    return app\n", extra + "    return app\n")
    return project({"main.py": text})


def decisions(cli, root) -> dict[str, tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    document = cli.json("scan", root)
    return {h["function"]: (h["action"], h["codes"]) for h in document["handlers"] if h["kind"] == "route"}


def test_a_sessionmaker_the_factory_keeps_on_its_application_converts_and_runs(cli, project):
    root = build(project)
    assert decisions(cli, root) == {"health": ("convert", ["AM124"]), "ping": ("convert", ["AM124"])}
    found = {f["function"]: f["code"] for f in cli.json("check", root)["findings"]}
    assert found == {"health": "AM301", "ping": "AM301"}, found
    assert cli("phase1", root, "--apply").exit_code == 0
    text = (root / "main.py").read_text(encoding="utf-8")
    assert "\ndef health(request: Request):" in text and "\ndef ping(request: Request):" in text, text
    script = """
import json, os
from fastapi.testclient import TestClient
from main import create_app

with TestClient(create_app(os.environ["DATABASE_URL"])) as client:
    print(json.dumps([client.get("/health").json(), client.get("/admin/ping").json()]))
"""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(root),
           "DATABASE_URL": f"sqlite:///{root / 'app.db'}"}
    result = run_python(script, cwd=root, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [{"status": "ok"}, {"one": 1}]


@pytest.mark.parametrize(
    ("maker", "extra"),
    [("make_maker(engine)", ""), ("sessionmaker(bind=engine)", "    app = wrap(app)\n")],
    ids=["unread_factory", "local_bound_twice"],
)
def test_near_miss_a_state_the_analysis_cannot_read_stays_unverified(cli, project, maker, extra):
    root = build(project, maker, extra)
    assert decisions(cli, root)["health"] == ("keep", ["AM125"])
    found = {f["function"]: f["code"] for f in cli.json("check", root)["findings"]}
    assert found.get("health") == "AM304", found


@pytest.mark.parametrize(
    ("aliased", "expected"),
    [
        ("    state = request.app.state\n    with state.sessionmaker() as db:\n", ("convert", ["AM124"])),
        ("    application = request.app\n    with application.state.sessionmaker() as db:\n", ("convert", ["AM124"])),
        # bound twice: which one runs is not read, so the work stays unverified
        ("    state = request.app.state\n    if request.query_params:\n        state = other.state\n"
         "    with state.sessionmaker() as db:\n", ("keep", ["AM125"])),
    ],
    ids=["state", "application", "bound_twice"],
)
def test_a_local_standing_for_the_applications_state_reads_as_the_state(cli, project, aliased, expected):
    root = build(project)
    text = (root / "main.py").read_text(encoding="utf-8")
    text = text.replace("    with request.app.state.sessionmaker() as db:\n        db.execute", aliased.replace(
        "as db:\n", "as db:\n        db.execute"), 1).replace("admin_app = FastAPI()\n", "admin_app = FastAPI()\nother = admin_app\n")
    assert "request.app.state.sessionmaker() as db:\n        db.execute" not in text
    (root / "main.py").write_text(text, encoding="utf-8")
    assert decisions(cli, root)["health"] == expected

"""A dependency override, `app.dependency_overrides[verify_client] = get_root_client`, written at
module level or in an application factory (`create_app()`, `configure(app)`).

FastAPI calls the override in place of the dependency, as it calls any dependency: an
`async def get_root_client` doing synchronous Session work blocks the event loop on every
request to the routes naming `verify_client`. It is listed as a dependency, `check` reports it
(AM301, not as a job a worker runs), and phase one converts it. The key, `verify_client`, is
only compared with the dependencies the routes name: no value anything calls, so it does not
keep `verify_client` async. The converted application is RUN with TestClient, with and without
the override. An override that awaits (the near miss) stays `async def`.
"""

from __future__ import annotations

import json

from test_phase2_rules import function, handler
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

AUTH = """
import asyncio

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import User


async def verify_client(db: Session = Depends(get_db_session)) -> str:
    return db.scalars(select(User.name).where(User.id == 2)).one()


async def get_root_client(db: Session = Depends(get_db_session)) -> str:
    return db.scalars(select(User.name).where(User.id == 1)).one()


async def verify_other() -> str:
    return "other"


async def awaited_client() -> str:
    await asyncio.sleep(0)
    return "awaited"


async def get_module_client(db: Session = Depends(get_db_session)) -> str:
    return db.scalars(select(User.name).where(User.id == 1)).one() + " (module)"
"""

ROUTES = """
from auth import verify_client, verify_other


@router.get("/whoami")
async def whoami(client: str = Depends(verify_client), other: str = Depends(verify_other)):
    return {"client": client, "other": other}
"""

MAIN = """
import os

from fastapi import FastAPI

import auth
from api.items import router


def configure(app: FastAPI) -> None:
    if os.environ.get("SECURITY_ENV") == "dev":
        app.dependency_overrides[auth.verify_client] = auth.get_root_client
        app.dependency_overrides[auth.verify_other] = auth.awaited_client


def create_app() -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    configure(app)
    return app


app = create_app()
other = FastAPI()
other.dependency_overrides[auth.verify_client] = auth.get_module_client
"""


def test_an_override_is_a_dependency_reported_and_converted(cli, service):
    root = service({"auth.py": AUTH, "main.py": MAIN, SUBSYSTEM: routes(ROUTES)})
    checked = cli("check", root, "--format", "json")
    assert checked.exit_code == 1, checked.stdout
    findings = {f["function"]: f["code"] for f in json.loads(checked.stdout)["findings"]}
    assert findings == {"verify_client": "AM301", "get_root_client": "AM301", "get_module_client": "AM301"}, findings
    document = json.loads(cli("phase1", root, "--apply", "--format", "json").stdout)
    for name in ("verify_client", "get_root_client", "get_module_client"):
        assert handler(document, name)["kind"] == "dependency", handler(document, name)
        assert handler(document, name)["action"] == "convert", handler(document, name)
        assert function(root, "auth.py", name).startswith(f"def {name}("), name
    # near miss: an override that awaits stays a coroutine
    assert handler(document, "awaited_client")["action"] == "keep"
    assert function(root, "auth.py", "awaited_client").startswith("async def awaited_client(")
    assert cli("check", root, "--format", "json").exit_code == 0
    script = """
        print(json.dumps(client.get("/whoami").json()))
    """
    assert serve(root, "sqlite", script) == {"client": "Bob", "other": "other"}
    # the factory again, with the overrides it sets in development
    dev = """
        import os

        import main

        os.environ["SECURITY_ENV"] = "dev"
        with TestClient(main.create_app()) as dev_client:
            print(json.dumps(dev_client.get("/whoami").json()))
    """
    assert serve(root, "sqlite", dev) == {"client": "Ann", "other": "awaited"}

"""Engine keywords bound to a module-level name reach the async engine, or block.

`connect_args = {...}` then `create_engine(URL, connect_args=connect_args)` (the SQLModel
tutorial's form) set up every connection of the synchronous engine: a PostgreSQL search_path, a
MariaDB session variable, SQLite's busy timeout. The async engine phase two writes must get the
same, or the migrated routes read other tables than the rest of the application; where the tool
cannot read the value, phase two blocks naming the keyword (AM341) instead of dropping it.
"""

from __future__ import annotations

import json
import os
import textwrap

import pytest
from sample import database, run_python
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import KINDS

# Per database: connect_args the driver applies to each connection, the query showing it, and
# what the query answers when it got there (SQLite's default busy timeout is 5000 ms).
PROBES = {
    "sqlite": ('{"check_same_thread": False, "timeout": 7}', "PRAGMA busy_timeout", 7000),
    "postgres": ('{"options": "-csearch_path=tenant_a"}', "SELECT current_setting('search_path')", "tenant_a"),
    "mariadb": ('{"init_command": "SET @tenant = \'tenant_a\'"}', "SELECT @tenant", "tenant_a"),
}

APP = """
import os
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlmodel import Field, Session, SQLModel, create_engine, select

connect_args = {connect_args}
engine = create_engine(os.environ["DATABASE_URL"], connect_args=connect_args)


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)


def get_session():
    with Session(engine) as session:
        yield session


app = FastAPI()


@app.get("/heroes")
def heroes(session: Annotated[Session, Depends(get_session)]):
    probe = session.execute(text({probe!r})).scalar()
    return {{"probe": probe, "names": [h.name for h in session.exec(select(Hero)).all()]}}
"""

SCRIPT = """
import asyncio
import json
import os

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlmodel import Session, SQLModel

plain = create_engine(os.environ["DATABASE_URL"])
if plain.dialect.name == "postgresql":
    with plain.begin() as connection:  # the tenant's schema, and a table of the same name outside it
        connection.execute(text("CREATE SCHEMA tenant_a"))
        connection.execute(text("CREATE TABLE public.hero (id serial PRIMARY KEY, name varchar(50))"))
        connection.execute(text("INSERT INTO public.hero (name) VALUES ('public')"))

import main

SQLModel.metadata.create_all(main.engine)
with Session(main.engine) as s:
    s.add(main.Hero(name="tenant"))
    s.commit()
with TestClient(main.app) as client:
    answer = client.get("/heroes")
asyncio.run(main.async_engine.dispose())
SQLModel.metadata.drop_all(main.engine)
print(json.dumps({"status": answer.status_code, "body": answer.json()}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_connect_args_bound_to_a_module_level_name_reach_the_async_engines_driver(cli, project, kind):
    literal, probe, expected = PROBES[kind]
    root = project({"main.py": APP.format(connect_args=literal, probe=probe)})
    document = apply(cli, root, subsystem="main.py")
    assert handler(document, "heroes")["action"] == "migrate", document
    with database(kind) as url:
        env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": url or f"sqlite:///{root / 'app.db'}"}
        result = run_python(textwrap.dedent(SCRIPT), cwd=root, env=env, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"status": 200, "body": {"probe": expected, "names": ["tenant"]}}
    text = read(root, "main.py")
    assert "connect_args=" in text[text.index("async_engine = create_async_engine("):]


SETTINGS = """
import os

CONNECT_ARGS = {"options": "-csearch_path=tenant_a"}
COMPUTED = {"options": f"-csearch_path={os.environ.get('TENANT', 'public')}"}
"""


def _blocked(document: dict) -> str:
    found = handler(document, "heroes")
    assert found["action"] == "blocked", found
    return found["reasons"][0]


def test_connect_args_imported_from_a_project_module_are_carried_as_their_literal(cli, project):
    app = APP.format(connect_args="CONNECT_ARGS", probe="SELECT 1").replace(
        "import os\n", "import os\n\nfrom settings import CONNECT_ARGS\n", 1
    )
    root = project({"main.py": app, "settings.py": SETTINGS})
    run(cli, root, "--apply", "--allow-dirty", subsystem="main.py")
    text = read(root, "main.py")
    assert 'connect_args={"options": "-csearch_path=tenant_a"},' in text[text.index("create_async_engine("):]


@pytest.mark.parametrize("value, why", [
    ("COMPUTED", "`connect_args=connect_args` is not a literal dict"),  # a name bound to an f-string
    ('{"options": "-csearch_path=a"}\nconnect_args["options"] = "-csearch_path=b"', "is not a literal dict"),
])
def test_connect_args_the_tool_cannot_read_block_the_route_naming_the_keyword(cli, project, value, why):
    app = APP.format(connect_args=value, probe="SELECT 1").replace(
        "import os\n", "import os\n\nfrom settings import COMPUTED\n", 1
    )
    root = project({"main.py": app, "settings.py": SETTINGS})
    document = run(cli, root, subsystem="main.py")
    line = read(root, "main.py").splitlines().index('engine = create_engine(os.environ["DATABASE_URL"], connect_args=connect_args)')
    reason = _blocked(document)
    assert handler(document, "heroes")["codes"] == ["AM341"]
    assert f"main.py:{line + 1}: {why}" in reason or (f"main.py:{line + 1}: " in reason and why in reason), reason


def test_near_miss_connect_args_holding_only_check_same_thread_are_dropped_with_a_note(cli, project):
    app = APP.format(connect_args='{"check_same_thread": False} if os.environ["DATABASE_URL"].startswith("sqlite") else {}',
                     probe="SELECT 1")
    root = project({"main.py": app})
    assert handler(apply(cli, root, subsystem="main.py"), "heroes")["action"] == "migrate"
    text = read(root, "main.py")
    assert "connect_args" not in text[text.index("async_engine = create_async_engine("):text.index("async def heroes")]


# A new-user trial's engine module: the tutorial's check_same_thread dict under a name, chosen by
# a conditional written in the keyword itself; it blocked every subsystem (AM341).
NAMED_IN_CONDITIONAL = """
import os
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlmodel import Field, Session, SQLModel, create_engine, select

DATABASE_URL = os.environ["DATABASE_URL"]
_sqlite_args = {sqlite_args}
engine = create_engine(DATABASE_URL, pool_pre_ping=True,
                       connect_args=_sqlite_args if DATABASE_URL.startswith("sqlite") else {{}})


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)


def get_session():
    with Session(engine) as session:
        yield session


app = FastAPI()


@app.post("/heroes")
def add_hero(name: str, session: Annotated[Session, Depends(get_session)]):
    session.add(Hero(name=name))
    session.commit()
    return {{"names": [h.name for h in session.exec(select(Hero)).all()]}}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_named_check_same_thread_dict_chosen_by_a_conditional_is_dropped_and_the_route_runs(cli, project, kind):
    with database(kind) as url:
        root = project({"main.py": NAMED_IN_CONDITIONAL.format(sqlite_args='{"check_same_thread": False}')})
        document = apply(cli, root, subsystem="main.py")
        assert handler(document, "add_hero")["action"] == "migrate", handler(document, "add_hero")
        text = read(root, "main.py")
        assert "connect_args" not in text[text.index("async_engine = create_async_engine("):text.index("class Hero")]
        script = textwrap.dedent("""
            from fastapi.testclient import TestClient
            from sqlmodel import SQLModel
            import main
            SQLModel.metadata.drop_all(main.engine)
            SQLModel.metadata.create_all(main.engine)
            with TestClient(main.app) as client:
                assert client.post("/heroes", params={"name": "ada"}).json() == {"names": ["ada"]}
                assert client.post("/heroes", params={"name": "bo"}).json() == {"names": ["ada", "bo"]}
            print("ok")
        """)
        env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": url or f"sqlite:///{root / 'app.db'}"}
        result = run_python(script, cwd=root, env=env, timeout=180)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stdout + result.stderr


def test_near_miss_a_named_dict_with_other_keys_chosen_by_a_conditional_still_blocks(cli, project):
    root = project({"main.py": NAMED_IN_CONDITIONAL.format(sqlite_args='{"check_same_thread": False, "timeout": 7}')})
    document = run(cli, root, subsystem="main.py")
    found = handler(document, "add_hero")
    assert found["action"] == "blocked" and found["codes"] == ["AM341"], found

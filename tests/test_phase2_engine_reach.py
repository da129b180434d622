"""Engine options that change what a Session reaches. A reused async engine on the sync engine's
URL but with another schema_translate_map or isolation level (AM266): the routes stay synchronous
and their writes land where they did; one with the same options is reused and the migrated
route's write lands. A generated async engine derived from a sync engine whose keywords the tool
cannot read (`create_engine(url).execution_options(schema_translate_map=...)`) keeps its
execution options, and the migrated routes read and write the tables they did.

As in test_phase2_soundness: the application is migrated with `phase2 --apply`, then RUN with
TestClient, and the database is read back through a separate synchronous session.
"""

from __future__ import annotations

import json
import os
from textwrap import dedent

from sample import run_python
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import SUBSYSTEM, routes, serve, service
from test_phase2_soundness_stack import COUNT_ITEMS, CREATE_ITEM, existing_async

__all__ = ["service"]  # the fixture, used by name

SAME_URL = 'os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://")'


def test_a_reused_engine_on_another_schema_blocks_and_the_write_lands_in_the_routes_tables(cli, service):
    # migrated onto it, the route would write `reports.items`: on SQLite an error, on a server
    # another schema's table, answered 200
    root = service({
        "db/engine.py": existing_async(f'{SAME_URL}).execution_options(schema_translate_map={{None: "reports"}}'),
        SUBSYSTEM: routes(CREATE_ITEM),
    })
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked" and "AM266" in found["codes"], found
    assert "schema_translate_map" in found["reasons"][found["codes"].index("AM266")]
    assert "async def create_item" not in read(root, SUBSYSTEM)
    assert serve(root, "sqlite", COUNT_ITEMS) == {"status": 200, "items": ["pen"]}


def test_a_reused_engine_in_autocommit_blocks(cli, service):
    root = service({
        "db/engine.py": existing_async(f'{SAME_URL}, isolation_level="AUTOCOMMIT"'),
        SUBSYSTEM: routes(CREATE_ITEM),
    })
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked" and "AM266" in found["codes"], found
    assert serve(root, "sqlite", COUNT_ITEMS) == {"status": 200, "items": ["pen"]}


def test_near_miss_a_reused_engine_with_only_other_options_is_reused_and_the_write_lands(cli, service):
    root = service({
        "db/engine.py": existing_async(f'{SAME_URL}, echo=False).execution_options(logging_token="api"'),
        SUBSYSTEM: routes(CREATE_ITEM),
    })
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "migrate", found
    assert "Depends(get_async_session)" in read(root, "core/dependencies.py")
    assert serve(root, "sqlite", COUNT_ITEMS) == {"status": 200, "items": ["pen"]}


TENANT_APP = """
import os

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Note(Base):
    # the tenant's schema is chosen by the engine: `per_tenant` is a placeholder
    __tablename__ = "notes"
    __table_args__ = {"schema": "per_tenant"}
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]


engine = create_engine(os.environ["DATABASE_URL"]).execution_options(schema_translate_map={"per_tenant": None})
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)
app = FastAPI()


def get_db():
    with SessionLocal() as db:
        yield db


@app.post("/notes", status_code=201)
def create_note(title: str, db: Session = Depends(get_db)):
    db.add(Note(title=title))
    db.commit()
    return {"ok": True}


@app.get("/notes")
def list_notes(db: Session = Depends(get_db)):
    return [n.title for n in db.scalars(select(Note)).all()]
"""
TENANT_RUN = """
import json

from fastapi.testclient import TestClient
from sqlalchemy import text

from main import Base, app, engine

Base.metadata.create_all(engine)
with TestClient(app, raise_server_exceptions=False) as client:
    created = client.post("/notes", params={"title": "pen"}).status_code
    listed = client.get("/notes").json()
with engine.connect() as conn:
    rows = [r[0] for r in conn.execute(text("SELECT title FROM notes"))]
print(json.dumps({"created": created, "listed": listed, "rows": rows}))
"""


def test_a_generated_engine_keeps_the_schema_translate_map_of_an_engine_built_out_of_sight(cli, project, tmp_path):
    root = project({"main.py": dedent(TENANT_APP)})
    document = cli.json("phase2", root, "-s", "main.py", "--apply")
    assert handler(document, "create_note")["action"] == "migrate", document
    source = read(root, "main.py")
    assert "execution_options=engine.get_execution_options()" in source, source
    assert "async def create_note" in source
    (note,) = [f for f in document["subsystem"]["follow_ups"] if "call the tool does not follow" in f]
    assert "schema_translate_map" in note, note
    environment = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'tenant.db'}")
    result = run_python(dedent(TENANT_RUN), cwd=root, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    # without the map the async engine looked for `per_tenant.notes`: 500 on both routes
    assert json.loads(result.stdout.splitlines()[-1]) == {"created": 201, "listed": ["pen"], "rows": ["pen"]}


def test_an_engine_updated_in_place_blocks_and_the_routes_keep_their_tenant_schema(cli, project, tmp_path):
    # the generated async engine would not have the map: `per_tenant.notes`, a 500, on both routes
    app = TENANT_APP.replace(
        '.execution_options(schema_translate_map={"per_tenant": None})',
        '\nengine.update_execution_options(schema_translate_map={"per_tenant": None})',
    )
    root = project({"main.py": dedent(app)})
    document = cli.json("phase2", root, "-s", "main.py", "--apply")
    found = handler(document, "create_note")
    assert found["action"] == "blocked" and "AM269" in found["codes"], found
    assert "async def" not in read(root, "main.py")
    environment = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'tenant.db'}")
    result = run_python(dedent(TENANT_RUN), cwd=root, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {"created": 201, "listed": ["pen"], "rows": ["pen"]}


TENANT_ENGINE = """
import os

from sqlalchemy import create_engine

TENANT_SCHEMAS = {"per_tenant": None}
engine = create_engine(os.environ["DATABASE_URL"], execution_options={"schema_translate_map": TENANT_SCHEMAS})
"""


def test_execution_options_given_in_another_module_are_taken_from_the_engine(cli, project, tmp_path):
    # the options name `TENANT_SCHEMAS`, which the sessionmaker's module does not: not written
    # again there, and once dropped with a follow-up, the async engine without the map
    app = TENANT_APP.replace(
        'engine = create_engine(os.environ["DATABASE_URL"]).execution_options(schema_translate_map={"per_tenant": None})',
        "from db_engine import engine",
    )
    root = project({"main.py": dedent(app), "db_engine.py": dedent(TENANT_ENGINE)})
    document = cli.json("phase2", root, "-s", "main.py", "--apply")
    assert handler(document, "create_note")["action"] == "migrate", document
    assert "execution_options=engine.get_execution_options()" in read(root, "main.py")
    environment = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'tenant.db'}")
    result = run_python(dedent(TENANT_RUN), cwd=root, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {"created": 201, "listed": ["pen"], "rows": ["pen"]}

"""`astcollect/lifecycle.py`: which `@contextmanager` bodies are only their Session's lifecycle."""

from __future__ import annotations

import ast
import textwrap

import pytest

from async_migrate.codemods.astcollect import lifecycle


def _read(source: str) -> str:
    node = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(node, ast.FunctionDef)
    return lifecycle.read(node, lambda n: getattr(n, "lineno", 0))


@pytest.mark.parametrize("body", [
    """
    session = SessionLocal()
    try:
        yield session
        session.commit()
    except (ValueError, sqlalchemy.exc.SQLAlchemyError) as error:
        session.rollback()
        raise
    finally:
        session.close()
    """,
    "with SessionLocal() as session:\n    yield session",
    "with db.SessionLocal.begin() as session:\n    yield session",
    '"""Doc."""\nwith SessionLocal() as session:\n    with session.begin():\n        yield session',
])
def test_lifecycle_only(body):
    assert _read("def scope():\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")) == ""


@pytest.mark.parametrize(("body", "named"), [
    ("session = SessionLocal()\nyield session\nlog.info('done')\nsession.close()", "line 4: `log.info('done')`"),
    # an opening taking arguments, marked as such (the body otherwise only yields it: `lifecycle.describe`)
    ("with SessionLocal(bind=engine) as session:\n    yield session",
     lifecycle.ARGUED + "line 2: `with SessionLocal(bind=engine) as session:`"),
    ("with SessionLocal(bind=engine) as session:\n    log.info('x')\n    yield session", "line 3: `log.info('x')`"),
    ("with SessionLocal() as session:\n    with session.begin() as tx:\n        yield tx", "line 3: `with session.begin() as tx:`"),
    ("session = SessionLocal()\ntry:\n    yield session\nfinally:\n    yield session", "line 6: `yield session`"),
    ("session = SessionLocal()\nsession.execute(text('SET x'))\nyield session", "line 3: `session.execute(text('SET x'))`"),
    ("session = SessionLocal()", "no single `yield` of the Session it opens"),
])
def test_anything_else_is_named(body, named):
    assert _read("def scope():\n" + textwrap.indent(body, "    ")) == named

"""Phase two and the database URL's driver. A sync driver the generated `_async_url` did not map
(`mariadb+pymysql`, the MariaDB dialect's own spelling) stayed on the async engine, and the
migrated application failed at import ("The asyncio extension requires an async driver"): the
route is RUN on MariaDB through such a URL. And aiomysql, the asyncio driver of MySQL and
MariaDB, cannot send bytes with PyMySQL 1.2 or newer: a project whose models store bytes is told
so, unless its engine's URL is written out naming another database."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, handler, run
from test_phase2_soundness import ENGINE, MODELS, SUBSYSTEM, routes, serve, service

from async_migrate.codemods.phase2 import drivers

__all__ = ["service"]  # the fixture, used by name

ROUTES = """
@router.post("/items")
def add_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"count": db.scalar(select(func.count()).select_from(Item))}
"""
MARIADB_ENGINE = ENGINE.replace(
    'create_engine(os.environ["DATABASE_URL"])',
    'create_engine(os.environ["DATABASE_URL"].replace("mysql+pymysql://", "mariadb+pymysql://"))',
)
BYTES_MODELS = MODELS.replace("from sqlalchemy import ForeignKey, String", "from sqlalchemy import ForeignKey, LargeBinary, String").replace(
    "    owner_id: Mapped[int]", "    scan: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)\n    owner_id: Mapped[int]"
)


@pytest.mark.mariadb
def test_a_mariadb_dialect_url_gets_its_asyncio_driver_and_the_migrated_route_writes(cli, service):
    assert MARIADB_ENGINE != ENGINE
    root = service({"db/engine.py": dedent(MARIADB_ENGINE), SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate"
    assert '"mariadb+pymysql": "mariadb+aiomysql"' in (root / "db/engine.py").read_text(encoding="utf-8")
    result = serve(root, "mariadb", """
        answers = [client.post("/items", params={"name": n}).json() for n in ("pen", "ink")]
        with Sync() as s:
            names = s.scalars(select(Item.name).order_by(Item.id)).all()
        print(json.dumps({"answers": answers, "names": names, "driver": stack.async_engine.url.drivername}))
    """)
    assert result == {"answers": [{"count": 1}, {"count": 2}], "names": ["pen", "ink"], "driver": "mariadb+aiomysql"}


@pytest.mark.parametrize(("models", "engine", "noted"), [
    (BYTES_MODELS, ENGINE, True),
    (MODELS.replace("from sqlalchemy import", "import sqlalchemy as sa\nfrom sqlalchemy import").replace(
        "    owner_id: Mapped[int]", "    scan = mapped_column(sa.BLOB, nullable=True)\n    owner_id: Mapped[int]"), ENGINE, True),
    (BYTES_MODELS, ENGINE.replace('os.environ["DATABASE_URL"]', '"mysql+pymysql://root@db/shop"'), True),
    # near misses: no column holds bytes; the engine's URL names another database
    (MODELS, ENGINE, False),
    (BYTES_MODELS, ENGINE.replace('os.environ["DATABASE_URL"]', '"postgresql+psycopg://u@db/shop"'), False),
])
def test_models_storing_bytes_are_told_of_aiomysql_and_pymysql(cli, service, models, engine, noted):
    root = service({"models.py": dedent(models), "db/engine.py": dedent(engine), SUBSYSTEM: routes(ROUTES)})
    follow_ups = run(cli, root)["subsystem"]["follow_ups"]
    assert (drivers.MYSQL_BYTES_FOLLOW_UP in follow_ups) is noted, follow_ups


def test_the_premise_aiomysql_cannot_escape_bytes_with_the_pymysql_it_gets():
    connection = pytest.importorskip("aiomysql.connection")
    with pytest.raises(TypeError, match="not callable"):
        connection.Connection.escape(None, b"\x00scan")

"""Routes wired with dependency-injector: `Depends(Provide[Container.x])` is what the container's
provider `x` makes, followed to the project class or function it calls; a provider the analysis
cannot read (a string name, a resource, a callable it cannot see) leaves the route unverified,
never 'does no synchronous Session work'. `@inject` keeps a plain function plain.

The tool never imports the target: dependency-injector need not be installed.
"""

from __future__ import annotations

import pytest
from test_reach_carriers import findings
from test_reach_objects import app as app  # noqa: F401  (the fixture)
from test_reach_objects import handler as entry
from test_reach_objects import route

CONTAINERS = """
from dependency_injector import containers, providers

from db.engine import database_sessionmaker


class UserRepository:
    def __init__(self, session_factory):
        self.session_factory = session_factory

    def count(self):
        with database_sessionmaker() as session:
            return session.execute("select count(*) from users").scalar()

    def name(self):
        return "users"


class Clock:
    def now(self):
        return 0


def init_thing():
    yield object()


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()
    repo = providers.Factory(UserRepository, session_factory=database_sessionmaker)
    clock = providers.Singleton(Clock)
    thing = providers.Resource(init_thing)
"""

HEAD = """\
from dependency_injector.wiring import Closing, Provide, Provider, inject

from core.containers import Container, UserRepository
"""


def _app(app, body: str):  # type: ignore[no-untyped-def]
    return app({"core/containers.py": CONTAINERS, "api/items.py": route(body, HEAD)})


@pytest.mark.parametrize(
    "body",
    [
        "async def read(repo=Depends(Provide[Container.repo])):\n    return repo.count()",
        "async def read(repo=Depends(Closing[Provide[Container.repo]])):\n    return repo.count()",
        "async def read(make=Depends(Provide[Container.repo.provider])):\n    return make().count()",
        "async def read(make=Depends(Provider[Container.repo])):\n    return make().count()",
        "async def read():\n    return Container.repo().count()",
        "async def read():\n    repo = Container().repo()\n    return repo.count()",
    ],
)
def test_a_service_the_container_provides_is_followed_to_its_session_work(cli, app, body):
    root = _app(app, f'@router.get("/a")\n{body}\n')
    found = entry(cli.json("phase1", root), "read")
    assert found["action"] == "convert", found
    assert [f["code"] for f in findings(cli, root, "read")] == ["AM301"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('async def read(repo=Depends(Provide["repo"])):\n    return repo.count()',
         "`repo.count()` runs on what `Provide[\"repo\"]` provides"),
        ("async def read(thing=Depends(Provide[Container.thing])):\n    return thing.count()",
         "`thing.count()` runs on what `Provide[Container.thing]` provides"),
        ("async def read():\n    return Container.thing().count()",
         "runs on what `Container.thing` provides"),
    ],
)
def test_a_provider_the_analysis_cannot_read_leaves_the_route_unverified(cli, app, body, fragment):
    root = _app(app, f'@router.get("/a")\n{body}\n')
    found = entry(cli.json("phase1", root), "read")
    assert found["action"] == "keep"
    assert found["reasons"][0].startswith("unverified: ") and fragment in found["reasons"][0], found["reasons"]
    assert [f["code"] for f in findings(cli, root, "read")] == ["AM304"]
    migrated = entry(cli.json("phase2", root, "--subsystem", "api/items.py"), "read")
    assert migrated["action"] == "blocked" and "AM272" in migrated["codes"], migrated


def test_near_miss_provided_objects_doing_no_session_work(cli, app):
    root = _app(app, (
        '@router.get("/a")\n'
        "async def read(clock=Depends(Provide[Container.clock]), repo=Depends(Provide[Container.repo])):\n"
        "    return clock.now(), repo.name()\n"
    ))
    found = entry(cli.json("phase1", root), "read")
    assert found["reasons"] == ["does no synchronous Session work"]
    assert findings(cli, root, "read") == []


def test_inject_keeps_a_plain_function_plain_so_the_route_converts_under_it(cli, app):
    root = _app(app, (
        '@router.get("/a")\n@inject\n'
        "async def read(repo: UserRepository = Depends(Provide[Container.repo])):\n    return repo.count()\n"
    ))
    found = entry(cli.json("phase1", root), "read")
    assert found["action"] == "convert", found
    cli("phase1", str(root), "--apply")
    assert "@inject\ndef read(" in (root / "api/items.py").read_text()


HELD = """
from dependency_injector import containers, providers
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker


class UserRepository:
    def __init__(self, session: Session):
        self.session = session

    def count(self):
        return self.session.execute(text("select 1")).scalar()


class Container(containers.DeclarativeContainer):
    session = providers.Factory(database_sessionmaker)
    repo = providers.Factory(UserRepository, session=session)
"""


@pytest.mark.parametrize("param", ["repo", "repo: UserRepository"])
def test_phase_two_blocks_a_class_holding_the_session_the_container_builds(cli, app, param):
    # Moving UserRepository to an AsyncSession (its methods awaited) while the container still
    # builds it with a synchronous Session would await a plain result at run time.
    root = app({
        "core/containers.py": HELD,
        "api/items.py": route(
            f'@router.get("/a")\nasync def read({param} = Depends(Provide[Container.repo])):\n    return repo.count()\n',
            HEAD,
        ),
    })
    before = (root / "core/containers.py").read_text()
    found = entry(cli.json("phase2", root, "--subsystem", "api/items.py"), "read")
    assert found["action"] == "blocked" and found["codes"] == ["AM253"], found
    assert "built by the dependency-injector provider `Container.repo`" in found["reasons"][0]
    cli("phase2", str(root), "--subsystem", "api/items.py", "--apply")
    assert (root / "core/containers.py").read_text() == before


@pytest.mark.parametrize(
    "body",
    ["return request.app.container.repo().count()", "c = request.app.container\n    return c.repo().count()"],
)
def test_a_container_the_application_keeps_leaves_the_route_unverified(cli, app, body):
    root = _app(app, f'@router.get("/a")\nasync def read(request: Request):\n    {body}\n')
    (root / "api/items.py").write_text("from fastapi import Request\n" + (root / "api/items.py").read_text())
    found = entry(cli.json("phase1", root), "read")
    assert found["action"] == "keep"
    assert "runs on `request.app.container`, which the project sets" in found["reasons"][0], found["reasons"]
    assert [f["code"] for f in findings(cli, root, "read")] == ["AM304"]


def test_near_miss_fastapi_s_own_application_attributes(cli, app):
    root = _app(app, '@router.get("/a")\nasync def read(request: Request):\n    return request.app.router.url_path_for("x")\n')
    (root / "api/items.py").write_text("from fastapi import Request\n" + (root / "api/items.py").read_text())
    found = entry(cli.json("phase1", root), "read")
    assert found["reasons"] == ["does no synchronous Session work"]

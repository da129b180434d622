"""AM304 per call chain: a helper whose parameter one caller hands what a dependency-injector
provider gives (which the analysis cannot follow) and another a plain string (mlrun's
`is_store_uri(url)`) is unverified on the first caller's chains only. The values callers hand a
parameter are joined over every call site (`received.py`); a route reaching the helper through
a chain that hands it none of those values gets no finding from them (`chain_params.py`), a
route whose chain does (through any number of calls, or from its own dependency) keeps it.
"""

from __future__ import annotations

from test_reach_carriers import findings
from test_reach_objects import app as app  # noqa: F401  (the fixture)
from test_reach_objects import handler as entry
from test_reach_objects import route

CONTAINERS = """
from dependency_injector import containers, providers


def init_thing():
    yield object()


class Container(containers.DeclarativeContainer):
    thing = providers.Resource(init_thing)
"""

HELPERS = """
from core.containers import Container


def is_store(url):
    return url.startswith("store://")


def parse(uri):
    return is_store(uri)


def from_thing():
    return parse(Container.thing())
"""

ROUTES = """
@router.get("/plain")
async def read_plain():
    return parse("store://x")


@router.get("/thing")
async def read_thing():
    return from_thing()


@router.get("/handed")
async def read_handed(thing=Depends(Provide[Container.thing])):
    return parse(thing)
"""

HEAD = """\
from dependency_injector.wiring import Provide

from core.containers import Container
from core.helpers import from_thing, parse
"""


def _root(app):  # type: ignore[no-untyped-def]
    return app({"core/containers.py": CONTAINERS, "core/helpers.py": HELPERS, "api/items.py": route(ROUTES, HEAD)})


def test_a_chain_handing_the_parameter_a_string_gets_no_finding_from_another_callers_provider(cli, app):
    root = _root(app)
    assert findings(cli, root, "read_plain") == []
    found = entry(cli.json("phase1", root), "read_plain")
    assert found["reasons"] == ["does no synchronous Session work"], found


def test_near_miss_chains_handing_it_the_provided_value_keep_the_finding(cli, app):
    root = _root(app)
    # the route's own dependency, handed on two calls down
    found = findings(cli, root, "read_handed")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "parse -> is_store -> `url.startswith()` runs on what " in (
        found[0]["message"]
    ), found
    # a helper calling the provider itself and handing on what it gives
    assert [f["code"] for f in findings(cli, root, "read_thing")] == ["AM304"]


TAINTED_ROUTES = """
from core.dependencies import session_dependency


def get_pair(db: session_dependency):
    return db, 1


class Counter:
    def count(self):
        return 0


def use(thing):
    return thing.count()


@router.get("/pair")
async def read_pair(pair=Depends(get_pair)):
    return use(pair)


@router.get("/counter")
async def read_counter():
    return use(Counter())
"""


def test_a_value_built_from_the_session_is_the_finding_of_the_chain_handing_it_alone(cli, app):
    root = app({"api/items.py": route(TAINTED_ROUTES)})
    assert findings(cli, root, "read_counter") == []
    found = findings(cli, root, "read_pair")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "`thing.count()` is called on `thing`, built from the Session" in found[0]["message"], found


UNREAD_ROUTES = """
from vendor_sdk import lookup


@router.get("/unread")
async def read_unread():
    thing = lookup("thing")
    return parse(thing)


@router.get("/worded")
async def read_worded():
    thing = "store://x"
    return parse(thing)
"""


def test_a_chain_handing_the_parameter_a_local_the_flow_cannot_evaluate_keeps_the_finding(cli, app):
    # what a library call returned may be what the provider gives as well as anything else: never
    # read as handing the parameter nothing
    root = app({
        "core/containers.py": CONTAINERS, "core/helpers.py": HELPERS,
        "api/items.py": route(UNREAD_ROUTES + ROUTES, HEAD),
    })
    assert [f["code"] for f in findings(cli, root, "read_unread")] == ["AM304"]
    assert findings(cli, root, "read_worded") == []

"""A unit of work opening its own Session from an annotated factory parameter
(`session_factory: sessionmaker = SessionLocal`).

Its asynchronous copy defaults the factory to the async sessionmaker, and rewrites the
annotation with it (`sessionmaker` -> `async_sessionmaker`, `sessionmaker[Session]` ->
`async_sessionmaker[AsyncSession]`, `Callable[[], Session]` -> `Callable[[], AsyncSession]`):
left as written, it declared the Session it opens synchronous, and the routes entering it were
blocked by a self-check naming `UnitOfWorkAsync.__aexit__`, a class the user never wrote. An
annotation phase two cannot rewrite blocks with a reason naming the parameter and its line, and a
self-check reason about a copy names the function it was copied from.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve
from test_phase2_uow_opening import ADMIN, ROUTES, RUN, TWO_ROUTERS, UOW

service = test_phase2_soundness.service

PLAIN = "    def __init__(self, session_factory=database_sessionmaker):\n"
IMPORTS = "from sqlalchemy.orm import Session\n"


def annotated(annotation: str) -> str:
    text = UOW.replace(PLAIN, f"    def __init__(self, session_factory: {annotation} = database_sessionmaker):\n")
    return text.replace(
        IMPORTS, "from collections.abc import Callable\n\n" + IMPORTS.replace("Session\n", "Session, sessionmaker\n")
    )


CASES = [
    pytest.param("sessionmaker", "async_sessionmaker", kind, id=f"sessionmaker-{kind if isinstance(kind, str) else kind.values[0]}")
    for kind in KINDS
] + [
    pytest.param("sessionmaker[Session]", "async_sessionmaker[AsyncSession]", "sqlite", id="parametrised"),
    pytest.param("Callable[[], Session]", "Callable[[], AsyncSession]", "sqlite", id="callable"),
]


@pytest.mark.parametrize(("annotation", "rewritten", "kind"), CASES)
def test_an_annotated_factory_is_rewritten_with_its_default_and_the_routes_run(
    cli, service, annotation, rewritten, kind
):
    # `admin_add` stays synchronous on the class: the migrated routes get its parallel copy.
    root = service({
        SUBSYSTEM: routes(*ROUTES), "uow.py": annotated(annotation), "api/admin.py": ADMIN, "main.py": TWO_ROUTERS,
    })
    document = apply(cli, root)
    for name in ("create_item", "create_inline", "count_items"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = read(root, "uow.py")
    assert f"    def __init__(self, session_factory: {annotation} = database_sessionmaker):\n" in text, text
    assert (
        f"class SqlAlchemyUnitOfWorkAsync:\n    def __init__(self, session_factory: {rewritten} = "
        "async_database_sessionmaker):\n"
    ) in text, text
    assert "from sqlalchemy.ext.asyncio import " in text
    result = serve(root, kind, RUN + """
    admin = client.post("/admin/items", params={"name": "cap"})
    print(json.dumps(admin.status_code))
    """)
    assert result == 200
    result = serve(root, kind, RUN)
    assert result == [200, 200, ["boom"] * 3, {"n": 2}, ["ink", "pen"]]


PROTOCOL = """
from typing import Protocol


class SessionFactory(Protocol):
    def __call__(self) -> Session: ...
"""


def test_an_annotation_phase_two_cannot_rewrite_blocks_naming_the_parameter(cli, service):
    uow = UOW.replace(PLAIN, "    def __init__(self, session_factory: SessionFactory = database_sessionmaker):\n")
    uow = uow.replace("\n\nclass ItemRepository", PROTOCOL + "\n\nclass ItemRepository")
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": uow})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked" and "AM241" in found["codes"], found
    assert "AM223" not in found["codes"], found
    line = read(root, "uow.py").splitlines().index(
        "    def __init__(self, session_factory: SessionFactory = database_sessionmaker):"
    ) + 1
    assert (
        f"its `__init__` annotates `session_factory` (`SessionFactory`, uow.py:{line}), which the copy defaults to "
        "the async sessionmaker, and phase two cannot tell what `SessionFactory` stands for there"
    ) in " ".join(found["reasons"]), found["reasons"]
    assert handler(document, "count_items")["action"] == "migrate"


def test_a_self_check_reason_about_a_copy_names_the_function_it_was_copied_from(cli, service, monkeypatch):
    # Without the annotation's rewrite the self-check refuses the copy: its reason names the
    # user's `SqlAlchemyUnitOfWork.__exit__` beside the copy's `SqlAlchemyUnitOfWorkAsync.__aexit__`.
    from async_migrate.codemods.phase2 import unit_of_work

    monkeypatch.setattr(unit_of_work, "factory_annotation", lambda project, init: unit_of_work.FactoryAnnotation())
    root = service({
        SUBSYSTEM: routes(*ROUTES), "uow.py": annotated("sessionmaker"), "api/admin.py": ADMIN, "main.py": TWO_ROUTERS,
    })
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked" and "AM223" in found["codes"], found
    reasons = [r for r in found["reasons"] if "self-check:" in r]
    assert reasons and all("(phase two's async version of SqlAlchemyUnitOfWork." in r for r in reasons), reasons

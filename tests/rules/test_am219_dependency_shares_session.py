"""AM219 dependency-shares-session: a router-level dependency that receives the same synchronous
Session blocks the routes it guards while another route of the router stays synchronous, naming it."""

from __future__ import annotations

ROUTES = """
from fastapi import Depends

from db.engine import get_db_session


def get_current_user(db: Session = Depends(get_db_session)) -> int:
    return db.scalar(select(func.count(Book.id)))


{router}


@router.get("/titles")
def read_titles(session: session_dependency):
    return list(session.scalars(select(Book.title)))
"""


def test_a_router_level_dependency_on_the_session_blocks_while_a_route_of_the_router_stays(phase2, entry):
    # The websocket stays on the synchronous Session: pointing the router's list at the async
    # twin would give its requests two Sessions, so the HTTP route is blocked too.
    router = "router = APIRouter(dependencies=[Depends(get_current_user)])"
    source = ROUTES.replace("{router}", router) + """

@router.websocket("/feed")
async def feed(websocket, session: session_dependency):
    await websocket.send_json(session.scalar(select(func.count(Book.id))))
"""
    found = entry(phase2(source), "read_titles")
    assert found["action"] == "blocked" and "AM219" in found["codes"], found
    reasons = " ".join(found["reasons"])
    assert "dependency api.items.get_current_user receives the synchronous Session too" in reasons
    assert "api.items.feed stays on the synchronous Session" in reasons
    # Said the right way round: one Session per request that every dependency shares.
    assert "FastAPI caches a dependency per request, so the route and its dependency share one Session" in reasons


def test_near_miss_a_router_level_dependency_on_the_session_gets_a_twin_with_every_route(phase2, entry):
    router = "router = APIRouter(dependencies=[Depends(get_current_user)])"
    found = entry(phase2(ROUTES.replace("{router}", router)), "read_titles")
    assert found["action"] == "migrate" and "AM219" not in found["codes"], found


def test_near_miss_a_router_level_dependency_without_the_session_migrates(phase2, entry):
    router = "def get_request_id() -> str:\n    return 'r'\n\n\nrouter = APIRouter(dependencies=[Depends(get_request_id)])"
    found = entry(phase2(ROUTES.replace("{router}", router)), "read_titles")
    assert found["action"] == "migrate" and "AM219" not in found["codes"], found


AUDIT = (
    "from fastapi import Depends\n\nfrom api.items import get_current_user\n\n"
    "TenantDep = Depends(get_current_user)\n"
)


def test_a_module_level_depends_value_used_where_the_tool_cannot_follow_it_blocks_naming_the_use(phase2, entry):
    # Handed to a call, the value may end up in any route's (or application's) dependencies.
    audit = AUDIT + "\nCHECKS = list([TenantDep])\n"
    router = "router = APIRouter()"
    found = entry(phase2(ROUTES.replace("{router}", router), {"api/audit.py": audit}), "read_titles")
    assert found["action"] == "blocked" and "AM219" in found["codes"], found
    assert "`TenantDep = Depends(get_current_user)` (api/audit.py:5) is used where the tool cannot tell which " \
        "routes it applies to: `list([TenantDep])` (api/audit.py:7)" in " ".join(found["reasons"])


def test_near_miss_a_module_level_depends_value_given_only_as_parameter_defaults_blocks_no_other_route(
    phase2, entry
):
    # Written as the default of a function's parameter (here one no route injects), it is that
    # function's dependency alone: the routes not naming it migrate (run in
    # tests/test_phase2_depends_values.py).
    audit = AUDIT + "\n\ndef tenant(current: int = TenantDep) -> int:\n    return current\n"
    router = "router = APIRouter()"
    found = entry(phase2(ROUTES.replace("{router}", router), {"api/audit.py": audit}), "read_titles")
    assert found["action"] == "migrate" and "AM219" not in found["codes"], found


SERVICE = """
from fastapi import Depends

from db.engine import get_db_session


class BookRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def titles(self) -> list[str]:
        return list(self.session.scalars(select(Book.title)))


class BookService:
    def __init__(self, db: Session = Depends(get_db_session)) -> None:
        {init}

    def titles(self) -> list[str]:
        return self.repo.titles()


@router.get("/titles")
def read_titles(svc: BookService = Depends()):
    return svc.titles()
"""


def test_near_miss_a_class_dependency_building_a_repository_without_keeping_the_session_moves_with_it(phase2, entry):
    # The service reaches the Session only through the repository it composes: both move (run in
    # tests/test_phase2_layered_services.py).
    found = entry(phase2(SERVICE.replace("{init}", "self.repo = BookRepository(db)")), "read_titles")
    assert found["action"] == "migrate" and "AM219" not in found["codes"], found


def test_near_miss_a_class_dependency_keeping_the_session_moves_with_its_repository(phase2, entry):
    init = "self.db = db\n        self.repo = BookRepository(db)"
    found = entry(phase2(SERVICE.replace("{init}", init)), "read_titles")
    assert found["action"] == "migrate", found


def test_a_route_of_the_same_subsystem_blocked_on_its_own_is_named_with_its_reason_not_migrate_together(phase2, entry):
    # Both routes are in the subsystem: "migrate them together" is what the run tried; the other
    # route's own blocker (a commit looked up by a string) is what keeps both.
    router = "router = APIRouter(dependencies=[Depends(get_current_user)])"
    source = ROUTES.replace("{router}", router) + """

@router.post("/titles")
def save(session: session_dependency):
    session.add(Book(title="t"))
    getattr(session, "commit")()
"""
    found = entry(phase2(source), "read_titles")
    assert found["action"] == "blocked" and "AM219" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM219")]
    assert "api.items.save stays on the synchronous Session, blocked by its own reason (api.items.save: " in reason
    assert "passes the Session to `getattr()`" in reason and "(AM215)" in reason, reason
    assert "migrate them together" not in reason, reason

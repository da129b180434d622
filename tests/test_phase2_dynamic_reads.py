"""`getattr(obj, name)` with a name known only at run time, on an object a project method loads.

Through a repository (generic or not, injected or built in the route), a CRUD instance or a
service, the flow cannot follow the object to its query: phase two reports the read unverified
(AM247), as it does on an object of `db.get(User, id)`, since the name may be a relationship that
would load lazily and raise MissingGreenlet. The blocked code stays as it is and still runs. The
near miss (a constant name on the same object, a run-time name on an object no Session loaded)
migrates, and the migrated code is run on the three databases.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from phase2_kit import KINDS
from phase2_models import user_item_models
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import routes, serve

service = test_phase2_soundness.service  # the small application on the sync stack
SUBSYSTEM = "api/items.py"
MODELS = user_item_models(user='items: Mapped[list["Item"]] = relationship()')

REPOSITORY = """
from types import SimpleNamespace
from typing import Annotated, Generic, TypeVar

T = TypeVar("T")
OPTIONS = SimpleNamespace(colour="blue")


class Repository(Generic[T]):
    def __init__(self, session: Session, model: type[T]):
        self.session = session
        self.model = model

    def get(self, obj_id: int):
        return self.session.get(self.model, obj_id)

    def save(self) -> None:
        self.session.commit()


class CRUDBase(Generic[T]):
    def __init__(self, model: type[T]):
        self.model = model

    def get(self, db: Session, obj_id: int):
        return db.get(self.model, obj_id)


crud_user = CRUDBase(User)


class UserService:
    def __init__(self, session: Session):
        self.users = Repository(session, User)

    def find(self, user_id: int):
        return self.users.get(user_id)


def get_users(session: session_dependency) -> Repository[User]:
    return Repository(session, User)


UsersDep = Annotated[Repository[User], Depends(get_users)]
"""

BLOCKED = {
    "generic repository dependency": """
        @router.get("/count/{user_id}/{rel}")
        def count(user_id: int, rel: str, users: UsersDep):
            return len(getattr(users.get(user_id), rel))
    """,
    "repository built in the route": """
        @router.get("/count/{user_id}/{rel}")
        def count(user_id: int, rel: str, db: session_dependency):
            user = Repository(db, User).get(user_id)
            return len(getattr(user, rel))
    """,
    "crud instance": """
        @router.get("/count/{user_id}/{rel}")
        def count(user_id: int, rel: str, db: session_dependency):
            user = crud_user.get(db, user_id)
            return len(getattr(user, rel))
    """,
    "service": """
        @router.get("/count/{user_id}/{rel}")
        def count(user_id: int, rel: str, db: session_dependency):
            found = [UserService(db).find(user_id)]
            return len(getattr(found[0], rel))
    """,
}


@pytest.mark.parametrize("shape", sorted(BLOCKED))
def test_a_run_time_attribute_of_an_object_a_project_method_loads_is_unverified(cli, service, shape):
    root = service({SUBSYSTEM: routes(REPOSITORY, BLOCKED[shape]), "models.py": MODELS})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "count")
    assert found["action"] == "blocked", found
    assert "AM247" in found["codes"], found
    assert "the attribute `rel` names at run time: the analysis cannot see which attribute" in " ".join(
        found["reasons"]
    ), found["reasons"]
    assert read(root, SUBSYSTEM) == before
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=1)])
            s.commit()
        print(json.dumps(client.get("/count/1/items").json()))
    """)
    assert result == 2


NEAR_MISS = """
@router.post("/rename/{user_id}")
def rename(user_id: int, name: str, field: str, users: UsersDep):
    user = users.get(user_id)
    user.name = name
    users.save()
    return {"name": getattr(user, "name"), "option": getattr(OPTIONS, field, None)}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_constant_name_or_an_object_no_session_loaded_migrates_and_runs(cli, service, kind):
    root = service({SUBSYSTEM: routes(REPOSITORY, NEAR_MISS), "models.py": MODELS})
    document = apply(cli, root)
    assert handler(document, "rename")["action"] == "migrate", handler(document, "rename")
    assert "await users.get(user_id)" in read(root, SUBSYSTEM)
    result = serve(root, kind, """
        answer = client.post("/rename/2", params={"name": "Bea", "field": "colour"}).json()
        with Sync() as s:
            stored = s.get(User, 2).name
        print(json.dumps({"answer": answer, "stored": stored}))
    """)
    assert result == {"answer": {"name": "Bea", "option": "blue"}, "stored": "Bea"}

"""AM219 for a callable instance dependency whose instances code outside the routes calls: a
script's `__main__` block (`checker(1, db)` on a module-level instance, `Quota(limit=1)(db)` built
in place), a unit test or a fixture. Phase two moved `__call__` in place to `async def`, so that
code got a coroutine back: a permission check silently became a no-op. Those callers are read
(the files name the class or the instance) and block the routes, as a direct call in a route does."""

from __future__ import annotations

import pytest

from rules.test_am267_callable_dependency_moves import ROUTES

HEAD = "from api.items import Quota, quota\nfrom db.engine import database_sessionmaker\n"
CALLERS = {
    "main-imported-instance": ("scripts/report.py", HEAD + """
if __name__ == "__main__":
    with database_sessionmaker() as db:
        quota(db)
        print("within quota")
"""),
    "main-built-in-place": ("scripts/report.py", HEAD + """
if __name__ == "__main__":
    with database_sessionmaker() as db:
        Quota(limit=1)(db)
"""),
    "main-module-global": ("scripts/report.py", HEAD + """
checker = Quota(limit=1)

if __name__ == "__main__":
    with database_sessionmaker() as db:
        checker(db)
"""),
    # a test module holding no marker (no Session, sessionmaker or engine named): read for the class
    "unit-test": ("tests/test_quota.py", "from api.items import Quota\n" + """

def test_quota(db):
    assert Quota(limit=3)(db) is None
"""),
    "fixture-local": ("tests/conftest.py", "import pytest\n\nfrom api.items import Quota\n" + """

@pytest.fixture
def checked(db):
    checker = Quota(limit=3)
    checker(db)
    return db
"""),
}


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_an_instance_called_by_a_script_or_a_test_blocks_the_routes(phase2, entry, caller):
    path, text = CALLERS[caller]
    document = phase2(ROUTES, {path: text})
    found = entry(document, "add_book")
    assert found["action"] == "blocked" and "AM219" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM219")]
    assert "api.items.Quota.__call__ is also called directly (" in reason and "hand them a coroutine" in reason
    where = "module-level code at scripts/report.py:" if path.startswith("scripts") else "tests."
    assert where in reason, reason
    assert document["files_changed"] == [] and document["diff"] == ""


NEAR = {
    # built, never called: FastAPI is the only caller of `__call__`
    "built-never-called": ("scripts/report.py", HEAD + """
checker = Quota(limit=1)

if __name__ == "__main__":
    print(checker.limit, Quota(limit=2).limit)
"""),
    # an instance of another class, without `__call__`, called through a method
    "class-without-call": ("scripts/report.py", HEAD + """
class Counter:
    def count(self, db):
        return 0


counter = Counter()

if __name__ == "__main__":
    with database_sessionmaker() as db:
        counter.count(db)
        Counter().count(db)
"""),
}


@pytest.mark.parametrize("caller", sorted(NEAR))
def test_near_miss_an_instance_nobody_calls_leaves_the_dependency_free_to_move(phase2, entry, caller):
    path, text = NEAR[caller]
    document = phase2(ROUTES, {path: text})
    assert entry(document, "add_book")["action"] == "migrate"
    assert entry(document, "Quota.__call__", "helpers")["codes"] == ["AM267"]

"""AM212 await-in-generator-expression: a Session call inside a generator expression blocks the route."""

from __future__ import annotations

from test_phase2_rules import apply, function
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name


def test_a_session_call_in_a_generator_expression_blocks_with_am212(phase2, entry):
    document = phase2(
        """
        @router.get("/total")
        def total(session: session_dependency):
            return sum(session.scalar(select(func.count(Book.id))) for _ in range(2))
        """
    )
    found = entry(document, "total")
    assert (found["action"], found["codes"]) == ("blocked", ["AM212"])
    assert "generator expression" in found["reasons"][0]


def test_near_miss_the_same_call_in_a_list_comprehension_migrates(phase2, entry):
    document = phase2(
        """
        @router.get("/total")
        def total(session: session_dependency):
            return sum([session.scalar(select(func.count(Book.id))) for _ in range(2)])
        """
    )
    assert entry(document, "total")["action"] == "migrate"


def test_near_miss_a_session_call_in_the_outermost_iterable_migrates_and_runs(cli, service):
    # The outermost iterable is evaluated in the enclosing function, where `await` may stand.
    root = service({SUBSYSTEM: routes("""
        @router.get("/names")
        def names(db: session_dependency):
            return sorted(n for (n,) in db.execute(select(User.name)).all())
    """)})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"names": "migrate"}
    assert "sorted(n for (n,) in (await db.execute(select(User.name))).all())" in function(root, SUBSYSTEM, "names")
    result = serve(root, "sqlite", """
        print(json.dumps(client.get("/names").json()))
    """)
    assert result == ["Ann", "Bob"]


REPOSITORY = """
class BookRepo:
    def __init__(self, session: Session):
        self.session = session

    def get(self, book_id: int):
        return self.session.get(Book, book_id)


"""


def test_a_repository_method_in_a_generator_expression_blocks_with_am212(phase2, entry):
    # `repo.get()` moves to `async def` with its class: awaited there, the genexp is an async generator
    document = phase2(REPOSITORY + """
@router.get("/missing")
def missing(session: session_dependency):
    repo = BookRepo(session)
    return any(repo.get(i) is None for i in (1, 2))
""")
    found = entry(document, "missing")
    assert (found["action"], found["codes"]) == ("blocked", ["AM212"])
    assert "`repo.get()` calls api.items.BookRepo.get, which moves to `async def`" in found["reasons"][0]


def test_near_miss_the_repository_method_in_a_list_comprehension_migrates(phase2, entry):
    document = phase2(REPOSITORY + """
@router.get("/missing")
def missing(session: session_dependency):
    repo = BookRepo(session)
    return any([repo.get(i) is None for i in (1, 2)])
""")
    assert entry(document, "missing")["action"] == "migrate"

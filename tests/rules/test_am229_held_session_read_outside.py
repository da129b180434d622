"""AM229 held-session-read-outside: a function outside a class holding the Session reads that
Session through an instance; the routes reaching it are blocked. Run end to end in
tests/test_phase2_reached_held_session.py."""

from __future__ import annotations

ROUTE = """
def count_titled(db: Session, title: str) -> int:
    return db.scalar(select(func.count(Book.id)).where(Book.title == title))


class BookRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count(self, title: str) -> int:
        return count_titled(self.session, title)


def titled(repo: BookRepo, title: str) -> int:
    db = repo.session
    return count_titled(db, title)


@router.get("/books/count")
def books(title: str, session: session_dependency):
    return {"n": titled(BookRepo(session), title)}


@router.get("/books/count2")
def books2(title: str, session: session_dependency):
    return {"n": BookRepo(session).count(title)}
"""


def test_the_held_session_read_through_an_instance_blocks_with_am229(phase2, entry):
    document = phase2(ROUTE)
    found = entry(document, "books")
    assert found["action"] == "blocked" and "AM229" in found["codes"], found
    assert "reads the Session BookRepo holds (`repo.session`) from outside the class" in " ".join(found["reasons"])


def test_near_miss_the_class_using_its_own_session_moves(phase2, entry):
    # Without the read from outside, BookRepo and the route using its method move.
    near = ROUTE[: ROUTE.index("def titled")] + ROUTE[ROUTE.index('@router.get("/books/count2")') :]
    found = entry(phase2(near), "books2")
    assert found["action"] == "migrate" and "AM229" not in found["codes"], found


def test_a_route_binding_the_session_a_class_dependency_holds_blocks_with_am229(app, cli, bound_held):
    # `db = shelf.db` then `count_books(db)`: Session work, not "does no synchronous Session work"
    # (AM205); what else the route does with the name is not followed, so it is blocked.
    for route in (bound_held, bound_held.replace("async def count(", "def count(")):
        document = cli.json("phase2", app(route), "--subsystem", "api/items.py")
        (found,) = [h for h in document["handlers"] if h["function"] == "count"]
        assert (found["action"], found["codes"]) == ("blocked", ["AM229"]), found
        assert "reads the Session Shelf holds (`shelf.db`) from outside the class" in found["reasons"][0]


def test_near_miss_another_attribute_of_the_class_bound_to_a_name_is_left_alone_with_am205(app, cli, bound_held):
    near = bound_held.replace("    db = shelf.db\n    return {\"n\": count_books(db)}",
                              "    db = shelf.label\n    return {\"n\": count_label(db)}")
    assert near != bound_held
    document = cli.json("phase2", app(near.replace("async def count(", "def count(")), "--subsystem", "api/items.py")
    (found,) = [h for h in document["handlers"] if h["function"] == "count"]
    assert (found["action"], found["codes"]) == ("unchanged", ["AM205"]), found

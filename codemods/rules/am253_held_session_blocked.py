"""AM253 held-session-blocked: a class holding the Session on its instances cannot move safely

A class whose instances hold the Session (`self.db`) moves as a whole. The routes that
use it are blocked, naming the line, when it cannot: the Session attribute is assigned
anywhere but from an `__init__` parameter (reassigned, or opened by the class), the
class inherits from a class the tool cannot see into or is part of a class hierarchy,
an instance is kept at module level (its Session outlives the request), a moving
method is named where the tool cannot see how it is called (a callback, `getattr`),
the held Session is rebound, handed out or used where `await` cannot stand (`__init__`
querying with the Session it receives: Python never awaits `__init__`), or the class is a
class-based view declaring the Session as a class attribute beside an `__init__` of its own
(fastapi-utils merges the two; a `@cbv` view of class attributes alone moves like one whose
`__init__` takes the Session). A view's routes move together: while one of them is blocked,
so are the others, since they share the one Session attribute, and the async twins of the
view's other dependencies (AM226) its class attributes would name for all of them: phase two
writes no parallel view, whose routes would be registered again on the same paths. A hierarchy that would get
parallel async classes (AM255) while defining a class of it runs a registration (a base's
`__init_subclass__`, a class decorator other than `@dataclass` and the like, a project
metaclass) is not copied either: the copy would register itself in the original's place, and
synchronous code looking the class up (`REGISTRY[Item](db).add(item)`) would get coroutine
methods it never awaits, its rows never written; the reason names the code staying synchronous
that uses the class. A class-based view that no such code uses moves in place, its class
decorator running once as before (a decorator reading `cls.__init__` uncalled to wrap it, as a
`@cbv` of the project's own does, is no such use).

Before:

    class UserRepo:
        def __init__(self, db: Session):
            self.db = db

        def reset(self):
            self.db = SessionLocal()   # the Session is reassigned

After:

    # unchanged; the routes using UserRepo are blocked

    class UserRepo:
        def __init__(self, db: Session):
            self.db = db
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM253",
    name="held-session-blocked",
    summary="a class holding the Session on its instances cannot move safely",
    fix="store only the request's Session, from `__init__`; keep instances per request; or migrate the class by hand",
    doc=__doc__,
)

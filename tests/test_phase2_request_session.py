"""Starlette's cookie session (`request.session`, a dict SessionMiddleware keeps in the scope)
read by a route or by a helper the route hands its request: no SQLAlchemy Session, so the route
migrates and the dict's `get()` is left as it is, proved by running. A helper's parameter some
caller hands something other than the request stays unverified."""

from __future__ import annotations

from test_phase2_rules import apply, dedent, handler, run
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]

# SessionMiddleware's part that matters here, without its signed cookie (itsdangerous).
MAIN = """
from fastapi import FastAPI

from api.items import router

app = FastAPI()
app.include_router(router)


class CookieSession:
    def __init__(self, inner):
        self.inner = inner
        self.store = {}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            scope["session"] = self.store
        await self.inner(scope, receive, send)


app.add_middleware(CookieSession)
"""
ROUTES = """
from fastapi import Request


def remember(request, db):
    request.session["seen"] = db.get(User, 1).name
    return request.session.get("seen")


def visits(req, db):
    req.session["visits"] = req.session.get("visits", 0) + db.scalar(select(func.count()).select_from(User))
    return req.session["visits"]


@router.get("/remember")
def rem(request: Request, db: Session = Depends(get_db_session)):
    return {"seen": remember(request, db), "visits": visits(req=request, db=db), "own": request.session.get("seen")}
"""


def test_a_route_reading_request_session_migrates_and_runs(cli, service):
    root = service({"main.py": MAIN, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    assert handler(document, "rem")["action"] == "migrate", document
    migrated = (root / SUBSYSTEM).read_text(encoding="utf-8")
    assert "await request.session" not in migrated and "await req.session" not in migrated, migrated
    result = serve(root, "sqlite", dedent(
        """
        print(json.dumps([client.get("/remember").json(), client.get("/remember").json()]))
        """
    ))
    assert result == [{"seen": "Ann", "visits": 2, "own": "Ann"}, {"seen": "Ann", "visits": 4, "own": "Ann"}]


def test_a_helper_parameter_handed_something_else_stays_unverified(cli, service):
    other = ROUTES + dedent(
        """


        class Holder:
            session = None


        @router.get("/other")
        def other(db: Session = Depends(get_db_session)):
            return {"seen": remember(Holder(), db)}
        """
    )
    root = service({"main.py": MAIN, SUBSYSTEM: routes(other)})
    document = run(cli, root)
    assert handler(document, "rem")["action"] == "blocked", document
    assert "request.session.get()" in " ".join(handler(document, "rem")["reasons"]), document

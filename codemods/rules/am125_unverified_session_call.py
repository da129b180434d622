"""AM125 unverified-session-call: the handler's only Session evidence is a call the analysis cannot resolve

The Session (or a Session factory) is handed to code outside the project, a method is called
on an object that unseen code built from the Session, the implementations of an abstract
method disagree about Session work, or a Session method is called on (or a carrier named like
a Session is handed on from) an attribute the analysis cannot type: `request.state.db`,
`request.app.state.session`, a global bag like `g.db`; or the handler calls, awaits or
depends on project code outside PATH (PATH one level too deep: `from services import x`
with `services/` beside PATH), which the analysis never reads, or a module under PATH that
could not be read (a syntax error; also when `--exclude` leaves its error out); or a function is taken out of
a container the analysis cannot read whole (`HOOKS[kind]()`, `for hook in HOOKS: hook()` with
`HOOKS` built at run time, changed or handed on elsewhere, or imported from outside the
project; a dict, list or tuple display of project functions is read, and each may run), or out
of a table an instance holds beside a Session or a unit of work (`self.handlers[type(cmd)](cmd)`
on a message bus whose handlers close over its `self.uow`). Phase one cannot tell whether the handler blocks, so it
keeps it `async def` and says so; `check` reports it as AM304 `unverified-session`, never as
"no findings".

Before:

    def get_repo(db: Session = Depends(get_db)):
        return make_repository(db)  # third-party, untyped

    @router.get("/items")
    async def list_items(repo=Depends(get_repo)):
        return repo.list()

After:

    def get_repo(db: Session = Depends(get_db)) -> ItemRepository:  # now the analysis follows it
        return make_repository(db)

Also unverified: `request.state.db.scalars(select(Item))` in a route, where middleware put
the Session on the request: inject it through a dependency annotated to return it
(`def get_db(request: Request) -> Session: return request.state.db`).
"""

from async_migrate.codemods.rules.am304_unverified_session import RULE as AM304
from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM125",
    name="unverified-session-call",
    summary="the handler's only Session evidence is a Session-carrying call the analysis cannot resolve",
    fix=AM304.fix,  # the same gap, found by phase one: the same way out
    doc=__doc__,
)

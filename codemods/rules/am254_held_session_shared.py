"""AM254 held-session-shared: a class holding the Session is also used by code that stays synchronous

A class moved in place would hand coroutines to its synchronous users. When code that
does not migrate (another subsystem's routes, a shared helper, a dependency other routes
use) builds the class or calls its moving methods, the class cannot move in place; the
routes that use it are blocked, naming the other users.

Before:

    def get_repo(db: Session = Depends(get_db)) -> UserRepo:
        return UserRepo(db)

    # api/admin.py, not migrated
    @router.get("/admin/users")
    def admin_users(repo: UserRepo = Depends(get_repo)):
        return repo.list()

After:

    # unchanged; the migrating routes using UserRepo are blocked

    def get_repo(db: Session = Depends(get_db)) -> UserRepo:
        return UserRepo(db)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM254",
    name="held-session-shared",
    summary="a class holding the Session is also used by code that stays synchronous",
    fix="migrate the other users first (their subsystem), or keep the route as it is",
    doc=__doc__,
)

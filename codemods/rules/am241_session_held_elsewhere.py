"""AM241 session-held-elsewhere: Session work on a Session the function does not receive as a parameter

Phase two replaces the request's Session parameter and sessions opened from the
sessionmaker. A Session held by an instance (`self.db`, set in `__init__` or by a
class-based view), a module-level `scoped_session` global, or one opened by another opener
(`with get_db() as db` for a `contextmanager`) is not replaced, so the work would stay
synchronous on the event loop; the routes that reach it are blocked, naming the line.
Model code the route runs on an object its Session loaded counts too (`user.save()` from a
mixin committing the `scoped_session` global): migrated, the AsyncSession's object would be
changed there and another Session committed, so the change is never saved.

Before:

    class ProjectRepo:
        def __init__(self, db: Session):
            self.db = db

        def get(self, project_id):
            return self.db.get(Project, project_id)

After:

    class ProjectRepo:
        async def get(self, db: AsyncSession, project_id):
            return await db.get(Project, project_id)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM241",
    name="session-held-elsewhere",
    summary="Session work on a Session the function does not receive as a parameter",
    fix="pass the request's Session as a parameter (or migrate the class by hand)",
    doc=__doc__,
)

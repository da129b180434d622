"""AM211 await-in-nested-function: a call that needs `await` sits inside a nested function or lambda

`await` cannot stand in a lambda, and a nested `def` would have to become a coroutine
its caller does not await. The Session handed to one as a parameter default
(`lambda s=session: s.scalar(q)`) counts as used there, under the parameter's name.

Before:

    def titles(session: Session):
        return sorted(ids, key=lambda i: session.get(Book, i).title)

After:

    def titles(session: Session):
        books = [session.get(Book, i) for i in ids]
        return sorted(books, key=lambda b: b.title)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM211",
    name="await-in-nested-function",
    summary="a call that needs `await` sits inside a nested function or lambda",
    fix="move the call into the function body itself",
    doc=__doc__,
)

"""AM212 await-in-generator-expression: a call that needs `await` sits inside a generator expression

With `await` inside, a generator expression becomes an async generator, which `sum()`,
`list()` and their kind cannot consume. Any call the rewrite awaits counts: a Session method,
a helper handed the Session, and a method that moves with its class (`repo.get(i)` on a
repository, built in the route or injected), in the element, a condition, or an iterable after
the first (the first runs in the enclosing function, where `await` may stand). Inside `any()` or
`all()` the list comprehension makes every call, where the generator stopped at the first that
decided.

Before:

    total = sum(session.scalar(q) for q in queries)

After:

    total = sum([session.scalar(q) for q in queries])
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM212",
    name="await-in-generator-expression",
    summary="a call that needs `await` sits inside a generator expression",
    fix="use a list comprehension",
    doc=__doc__,
)

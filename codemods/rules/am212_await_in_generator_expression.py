"""AM212 await-in-generator-expression: a call that needs `await` sits inside a generator expression

With `await` inside, a generator expression becomes an async generator, which `sum()`,
`list()` and their kind cannot consume.

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

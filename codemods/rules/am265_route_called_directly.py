"""AM265 route-called-directly: code calls the route function itself, handing its own object for a parameter FastAPI injects

A unit test (or any code phase two does not migrate with the route) calls the route function
directly and passes its own value where FastAPI would inject one: a fake service for
`svc: CustomerService = Depends(get_customer_service)`, a Session for `db: Session =
Depends(get_db)`. Phase two moves the route onto the AsyncSession: it awaits what it calls on
that parameter (the async form of the service, an AsyncSession), so the value the caller hands
it (a synchronous fake, a Session) raises TypeError on `await`, and the caller breaks without
any change of its own. The route is blocked, naming the call; phase one keeps such a route for
the same reason (AM113, AM130).

Before:

    @router.get("/customers/{customer_id}")
    async def get_customer(customer_id: int, svc: CustomerService = Depends(get_customer_service)):
        return svc.get_or_404(customer_id)

    # tests/test_customers.py
    def test_get_customer_handler_unit():
        assert asyncio.run(get_customer(7, svc=FakeService()))["name"] == "Fake"

After:

    # unchanged; the route is blocked naming the test's call. Make the test go through the
    # application (TestClient), or hand the route the async form (a fake whose methods are
    # `async def`), then run phase two again.
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM265",
    name="route-called-directly",
    summary="code calls the route function itself, handing its own object for a parameter FastAPI injects",
    fix=(
        "call the route through the application (TestClient), or hand it the async form of what it is "
        "injected (a fake with `async def` methods, an AsyncSession), then run phase two again"
    ),
    doc=__doc__,
)

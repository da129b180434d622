"""Phase one: `async def` handlers that only do synchronous Session work become `def`."""

"""Phase two: a real async stack (engine, `async_sessionmaker`, dependency) and its users."""

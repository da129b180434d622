"""Request-facing routers."""

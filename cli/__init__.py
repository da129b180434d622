"""The `async-migrate` command line."""

"""Cross-cutting concerns: dependencies, decorators."""

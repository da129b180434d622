"""Libraries whose classes no SQLAlchemy mapping makes: a project class deriving from one (a
pydantic schema, settings, a LangChain document or loader, an exception) is no ORM model, so its
instances are never loaded by a Session, never expired by a commit, and load nothing on a read.

By top-level package; the standard library and the builtins count as well
(`model_members.Members.outside`). SQLModel is not one: its `table=True` classes are mapped.
"""

from __future__ import annotations

PACKAGES = frozenset({
    "pydantic", "pydantic_core", "pydantic_settings", "typing_extensions", "attrs", "attr", "msgspec",
    "marshmallow", "fastapi", "starlette", "httpx", "requests", "aiohttp", "redis", "strawberry", "graphene",
    "ariadne", "langchain", "langgraph", "llama_index", "openai", "anthropic", "tiktoken",
})
# Package families published under one prefix (`langchain_core`, `langchain_community`, `langchain_openai`).
PREFIXES = ("langchain_",)

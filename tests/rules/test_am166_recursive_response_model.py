"""AM166 recursive-response-model: a schema nesting itself through a relationship is read to any
depth while serialising; an eager load covers a fixed one, so the route blocks."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS

CATEGORY = MODELS + """

class Category(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    children: Mapped[list["Category"]] = relationship({lazy})
"""

SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class CategoryBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    children: list[{child}] = []
"""

ROUTE = """
from models import Category
from schemas import CategoryOut


@router.get("/categories/{category_id}", response_model=CategoryOut)
def read_category(session: session_dependency, category_id: int):
    return session.get(Category, category_id)
"""


def _files(child: str, lazy: str = "") -> dict[str, str]:
    return {"models.py": CATEGORY.replace("{lazy}", lazy), "schemas.py": SCHEMAS.replace("{child}", child)}


# `lazy="selectin"` on a self-referential relationship stops at one level without `join_depth`.
@pytest.mark.parametrize("lazy", ["", 'lazy="selectin"'])
def test_a_schema_nesting_itself_through_a_relationship_blocks_with_am166(phase2, entry, lazy):
    found = entry(phase2(ROUTE, _files('"CategoryOut"', lazy)), "read_category")
    assert found["action"] == "blocked" and "AM166" in found["codes"], found
    reason = " ".join(found["reasons"])
    assert "CategoryOut.children nests CategoryOut again through relationship Category.children" in reason, reason


def test_near_miss_a_nested_schema_of_another_class_gets_its_eager_load(phase2, entry):
    document = phase2(ROUTE, _files("CategoryBrief"))
    found = entry(document, "read_category")
    assert found["action"] == "migrate" and "AM166" not in found["codes"], found
    assert "selectinload(Category.children)" in document["diff"], document["diff"]


def test_near_miss_immediate_loading_reaches_every_level(phase2, entry):
    found = entry(phase2(ROUTE, _files('"CategoryOut"', 'lazy="immediate"')), "read_category")
    assert found["action"] == "migrate" and "AM166" not in found["codes"], found


def test_read_by_name_where_the_flow_cannot_follow_the_object_blocks_too(phase2, entry):
    # a dict lookup: the returned object is judged by the response model's field names
    route = ROUTE.replace(
        "return session.get(Category, category_id)",
        "found = {c.id: c for c in session.scalars(select(Category))}\n    return found[category_id]",
    )
    found = entry(phase2(route, _files('"CategoryOut"')), "read_category")
    assert found["action"] == "blocked" and "AM166" in found["codes"], found


NODES = MODELS + """

class Node(Base):
    __tablename__ = "nodes"
    id: Mapped[int] = mapped_column(primary_key=True)
    links: Mapped[list["Link"]] = relationship(foreign_keys="Link.parent_id")


class Link(Base):
    __tablename__ = "links"
    parent_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)
    child: Mapped[Node] = relationship(foreign_keys=[child_id])
"""

NODE_SCHEMAS = """
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class NodeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    links: list[LinkOut] = []


class LinkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    child: NodeOut
"""


def test_a_tree_through_an_association_object_blocks_too(phase2, entry):
    # Node.links -> Link.child -> Node.links ...: no relationship is self-referential, and no
    # chain of options reaches every level
    route = ROUTE.replace("Category", "Node").replace("category", "node").replace("/categories/", "/nodes/")
    found = entry(phase2(route, {"models.py": NODES, "schemas.py": NODE_SCHEMAS}), "read_node")
    assert found["action"] == "blocked" and "AM166" in found["codes"], found
    assert "nests NodeOut again through relationship Link.child" in " ".join(found["reasons"]), found["reasons"]

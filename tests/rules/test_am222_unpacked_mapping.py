"""AM222 on a schema built from an unpacked mapping (`Project(**data)`) whose nested model takes
only a dict or an instance of its own. mlrun: `mlrun.common.schemas.Project(**json.loads(...))`
and `Project(**project_record.full_object)` blocked create_project with "response model
Project.metadata.labels reads relationship Project.labels or ...": `metadata` is no relationship,
and ProjectMetadata (no `orm_mode`) is validated from `data["metadata"]` as a dict: an ORM object
there fails validation, no `labels` attribute of it is read. A nested model reading attributes
(`from_attributes=True`, `orm_mode = True`) is still judged by its fields' names."""

from __future__ import annotations

import pytest

SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class Meta(BaseModel):
    name: str = ""
    author: dict = {}


class MetaFromAttributes(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str = ""
    author: dict = {}


class MetaOrmMode(BaseModel):
    name: str = ""
    author: dict = {}

    class Config:
        orm_mode = True


class ProjectOut(BaseModel):
    metadata: Meta


class ProjectFromAttributesOut(BaseModel):
    metadata: MetaFromAttributes


class ProjectOrmModeOut(BaseModel):
    metadata: MetaOrmMode
"""

ROUTES = """
import json

from schemas import ProjectFromAttributesOut, ProjectOrmModeOut, ProjectOut


@router.get("/plain", response_model=ProjectOut)
def plain(session: session_dependency, raw: str):
    session.get(Book, 1)
    data = json.loads(raw)
    return ProjectOut(**data)


@router.get("/from-attributes", response_model=ProjectFromAttributesOut)
def from_attributes(session: session_dependency, raw: str):
    session.get(Book, 1)
    data = json.loads(raw)
    return ProjectFromAttributesOut(**data)


@router.get("/orm-mode", response_model=ProjectOrmModeOut)
def orm_mode(session: session_dependency, raw: str):
    session.get(Book, 1)
    data = json.loads(raw)
    return ProjectOrmModeOut(**data)
"""


def test_a_nested_model_taking_only_a_dict_reads_no_relationship(phase2, entry):
    found = entry(phase2(ROUTES, {"schemas.py": SCHEMAS}), "plain")
    assert found["action"] == "migrate" and "AM222" not in found["codes"], found


@pytest.mark.parametrize("function", ["from_attributes", "orm_mode"])
def test_near_miss_a_nested_model_reading_attributes_is_still_judged_by_its_fields(phase2, entry, function):
    found = entry(phase2(ROUTES, {"schemas.py": SCHEMAS}), function)
    assert found["action"] == "blocked" and "AM222" in found["codes"], found
    assert "metadata.author reads relationship Book.author" in " ".join(found["reasons"]), found

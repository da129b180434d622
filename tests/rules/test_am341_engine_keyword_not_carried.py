"""AM341 engine-keyword-not-carried: an engine keyword changing what the database does, that the
async engine cannot be given, blocks phase two; one that does not (echo, pool sizing) is noted."""

from __future__ import annotations

from test_async_stack import ENGINE, only_blocker, plan_for  # the async stack's tiny application
from test_async_stack import app as stack_app

SESSION_MODULE = ENGINE.replace(
    "from core.settings import DATABASE_URL\n\nengine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)",
    "from db.base import engine",
)


def _base(arguments: str, above: str = "") -> str:
    return (
        "import json\nimport os\n\nfrom sqlalchemy import create_engine\nfrom sqlalchemy.pool import QueuePool\n\n"
        f"from core.settings import DATABASE_URL\n\n\nclass TenantPool(QueuePool):\n    pass\n\n\n{above}"
        f"engine = create_engine(DATABASE_URL, {arguments})\n"
    )


def _line(text: str) -> int:
    return text.splitlines().index(next(line for line in text.splitlines() if line.startswith("engine = "))) + 1


def test_a_serializer_named_in_the_engines_own_module_blocks(tmp_path):
    base = _base("json_serializer=dumps", above="def dumps(value):\n    return json.dumps(value, sort_keys=True)\n\n\n")
    message = only_blocker(plan_for(stack_app(tmp_path, SESSION_MODULE, db__base=base)), "AM341")
    assert message.startswith(f"db/base.py:{_line(base)}: `json_serializer=dumps` names something in db/base.py")


def test_a_project_pool_class_blocks(tmp_path):
    base = _base("poolclass=TenantPool")
    message = only_blocker(plan_for(stack_app(tmp_path, SESSION_MODULE, db__base=base)), "AM341")
    assert "`poolclass=TenantPool` is not one of SQLAlchemy's pools" in message


def test_connect_args_passed_on_some_paths_only_block(tmp_path):
    engine = ENGINE.replace(
        "engine = create_engine(DATABASE_URL, pool_size=5, pool_pre_ping=True)",
        'if DATABASE_URL.startswith("postgresql"):\n'
        '    engine = create_engine(DATABASE_URL, connect_args={"options": "-csearch_path=tenant_a"})\n'
        "else:\n"
        "    engine = create_engine(DATABASE_URL)",
    )
    message = only_blocker(plan_for(stack_app(tmp_path, engine)), "AM341")
    assert "is passed to create_engine only conditionally" in message


def test_connect_args_bound_to_a_name_of_the_engines_module_are_carried_as_their_literal(tmp_path):
    base = _base("connect_args=CONNECT_ARGS", above='CONNECT_ARGS = {"options": "-csearch_path=tenant_a"}\n')
    plan = plan_for(stack_app(tmp_path, SESSION_MODULE, db__base=base))
    assert plan.ok, plan.blockers
    assert ("connect_args", '{"options": "-csearch_path=tenant_a"}') in plan.engine_edit[1].engine_kwargs


def test_near_miss_logging_and_pool_sizing_named_elsewhere_are_noted_not_blocked(tmp_path):
    base = _base("echo=ECHO, pool_size=SIZE", above='ECHO = os.environ.get("ECHO") == "1"\nSIZE = int(os.environ.get("SIZE", "5"))\n')
    plan = plan_for(stack_app(tmp_path, SESSION_MODULE, db__base=base))
    assert plan.ok, plan.blockers
    notes = "\n".join(plan.notes)
    assert "`echo=ECHO` names something in db/base.py" in notes and "`pool_size=SIZE` names something" in notes

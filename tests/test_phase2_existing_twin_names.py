"""Phase two beside a function that merely bears the twin's name: `send_email_async`, the
project's own async sender, next to `send_email`, a plain def that records what it sent on a
synchronous Session, both taking `*, email_to, subject`. Such a function is an earlier run's
twin only when it does the original's Session work on the async stack: it takes an
AsyncSession where the original takes a Session, or opens a Session where the original opens
one. Otherwise the migrated route called the project's sender, and the row the original
wrote was never written. The migrated code is RUN and what it wrote is read back.

The twin then gets the next free name, `send_email_async_2`; a later run for another
subsystem calling `send_email` reuses it, where it looked at `send_email_async` only and
added `send_email_async_3`."""

from __future__ import annotations

import test_phase2_soundness
from test_phase2_rules import apply, dedent, function, handler, helper, read
from test_phase2_soundness import SUBSYSTEM, routes, serve

service = test_phase2_soundness.service

MAILER = """
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Item

SENT: list[str] = []


def send_email(*, email_to: str, subject: str) -> None:
    with database_sessionmaker() as session:
        session.add(Item(name=f"{email_to}:{subject}", owner_id=1))
        session.commit()


async def send_email_async(*, email_to: str, subject: str) -> None:
    SENT.append(email_to)


def log_email(session: Session, email_to: str) -> None:
    session.add(Item(name=f"log:{email_to}", owner_id=1))


async def log_email_async(session, email_to: str) -> None:
    SENT.append(email_to)
"""

NOTIFY = """
@router.post("/notify")
def notify(db: session_dependency):
    user = db.get(User, 1)
    send_email(email_to=user.name, subject="hello")
    log_email(db, user.name)
    db.commit()
    return {"ok": True}
"""


def test_a_namesake_that_does_no_session_work_is_no_twin(cli, service):
    root = service({
        "mailer.py": dedent(MAILER),
        SUBSYSTEM: routes(NOTIFY).replace(
            "from models import Item, User", "from mailer import log_email, send_email\nfrom models import Item, User"
        ),
    })
    document = apply(cli, root)
    assert handler(document, "notify")["action"] == "migrate", handler(document, "notify")
    for name in ("send_email", "log_email"):
        found = helper(document, name)
        assert found["action"] in ("migrate", "twin"), found
        assert not any("exists already" in reason for reason in found["reasons"]), found
    # the project's own functions are untouched
    assert function(root, "mailer.py", "send_email_async") == dedent(
        """
        async def send_email_async(*, email_to: str, subject: str) -> None:
            SENT.append(email_to)
        """
    )
    assert "await send_email_async(" not in read(root, SUBSYSTEM)
    result = serve(root, "sqlite", """
        import mailer

        response = client.post("/notify")
        with Sync() as s:
            names = sorted(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": response.status_code, "names": names, "sent": mailer.SENT}))
    """)
    assert result == {"status": 200, "names": ["Ann:hello", "log:Ann"], "sent": []}


def test_a_later_run_reuses_the_numbered_twin_an_earlier_run_wrote(cli, service):
    root = service({
        "mailer.py": dedent(MAILER),
        SUBSYSTEM: routes(NOTIFY).replace(
            "from models import Item, User", "from mailer import log_email, send_email\nfrom models import Item, User"
        ),
        "api/other.py": routes(NOTIFY.replace("/notify", "/other").replace("def notify", "def other")).replace(
            "from models import Item, User", "from mailer import log_email, send_email\nfrom models import Item, User"
        ),
    })
    apply(cli, root)
    assert "async def send_email_async_2(" in read(root, "mailer.py")
    document = apply(cli, root, subsystem="api/other.py")
    assert handler(document, "other")["action"] == "migrate", handler(document, "other")
    assert any("`send_email_async_2` exists already" in r for r in helper(document, "send_email")["reasons"])
    text = read(root, "mailer.py")
    assert "send_email_async_3" not in text and "log_email_async_3" not in text
    assert "await send_email_async_2(" in read(root, "api/other.py")

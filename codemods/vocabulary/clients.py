"""Other libraries' objects that code bases name `session` or `db` (HTTP clients, key-value
stores, cloud SDK sessions): an instance of one of these classes is never a SQLAlchemy Session,
so its `get()`, `delete()` or `execute()` is no Session work to verify."""

from __future__ import annotations

NON_SESSION_CLASSES = frozenset({
    # HTTP clients: `session = requests.Session()`, `session = httpx.Client()`
    "requests.Session", "requests.sessions.Session", "requests.session",
    "httpx.Client", "httpx.AsyncClient",
    "aiohttp.ClientSession", "aiohttp.client.ClientSession",
    "urllib3.PoolManager",
    # key-value stores: `db = redis.Redis(...)`
    "redis.Redis", "redis.StrictRedis", "redis.client.Redis", "redis.from_url", "redis.Redis.from_url",
    "redis.asyncio.Redis", "redis.asyncio.from_url", "redis.asyncio.client.Redis",
    "pymemcache.client.base.Client",
    # cloud SDKs: `session = boto3.Session()`
    "boto3.Session", "boto3.session.Session", "aioboto3.Session", "botocore.session.Session",
    "botocore.session.get_session",
})
# The synchronous ones among them: a method called on an instance blocks the calling thread.
BLOCKING_CLIENT_CLASSES = NON_SESSION_CLASSES - frozenset({
    "httpx.AsyncClient", "aiohttp.ClientSession", "aiohttp.client.ClientSession", "redis.asyncio.Redis",
    "redis.asyncio.from_url", "redis.asyncio.client.Redis", "aioboto3.Session",
})
# Functions that block the calling thread on I/O or time: on the event loop, every request waits.
BLOCKING_FUNCTIONS = frozenset({
    *(f"requests.{verb}" for verb in ("get", "post", "put", "patch", "delete", "head", "options", "request")),
    *(f"httpx.{verb}" for verb in ("get", "post", "put", "patch", "delete", "head", "options", "request", "stream")),
    "urllib.request.urlopen", "time.sleep",
    "subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
    "socket.create_connection", "smtplib.SMTP", "smtplib.SMTP_SSL",
})
# `request.session`: Starlette's SessionMiddleware's dict of the signed cookie, read-only as an
# attribute, so it never holds a SQLAlchemy Session.
REQUEST_SESSION = "session"

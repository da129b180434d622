"""Reporting queries, each on a Session of its own (dashboards call them outside requests too)."""

from sqlalchemy import func, select, text

from db.engine import SessionLocal
from models.task import Task

DEFAULT_REPORT_SIZE = 1_500_000

_SQLITE_SERIES = (
    "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < :n) "
    "SELECT count(*) FROM cnt"
)
_POSTGRES_SERIES = "SELECT count(*) FROM generate_series(1, :n) AS g WHERE length(g::text) > 0"


class ReportQueries:
    def heavy_count(self, size: int) -> int:
        """Scan a synthetic series of ``size`` rows: a stand-in for the nightly rollup query."""
        with SessionLocal() as db:
            sql = _POSTGRES_SERIES if db.get_bind().dialect.name == "postgresql" else _SQLITE_SERIES
            return db.execute(text(sql), {"n": size}).scalar_one()

    def status_counts(self) -> dict[str, int]:
        with SessionLocal() as db:
            return dict(db.execute(select(Task.status, func.count(Task.id)).group_by(Task.status)).all())


Reports = ReportQueries()

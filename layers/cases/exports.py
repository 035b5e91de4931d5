"""Exports of a filtered case list (CSV, XLSX) as background jobs with progress.

A job is a row (``export_jobs``: state, rows done of total) and, when done, a file under
``var/exports``. The rows are read in pages of ``PAGE`` in the list's order; the reporter
columns show what the job's owner may see (``privacy.reporter_view``: masked phones for
most staff, names only with consent), and an export that shows personal data is audited.
A job still running when the server stopped is marked failed at the next start: it says
so, and the user starts it again (the file is written under a temporary name and renamed,
so a half-written file is never served).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select, true, update

from geo.errors import Forbidden, NotFound
from layers.accounts import audit
from layers.accounts.actors import Actor
from layers.cases import privacy, worktime
from layers.cases.queries import CASE_ROW, INC, SORTS, Filters, conditions
from layers.db.models import EXPORT_JOBS, INCIDENT_REPORTERS
from layers.db.vocabulary import SOURCE_NAMES, STATUS_NAMES
from layers.io.tables import csv_bytes, xlsx_bytes

PAGE = 2000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = (
    "number", "category", "category_name", "status", "status_name", "source", "received_at", "deadline",
    "overdue", "street", "community", "grid", "unit", "unit_name", "address", "description",
    "reporter_name", "reporter_phone",
)  # fmt: skip
HEADERS = (
    "编号", "类别代码", "类别", "状态代码", "状态", "来源", "受理时间", "处置时限", "超期",
    "街道", "社区", "网格", "处置单位代码", "处置单位", "地址", "描述", "反映人", "联系电话",
)  # fmt: skip
JOBS = EXPORT_JOBS.c


def start(conn: Connection, actor: Actor, fmt: str, query: str, filters: Filters) -> dict[str, Any]:
    """A new job for ``actor`` (its total counted now); the caller runs ``run`` in the background."""
    total = conn.execute(select(func.count()).select_from(INC).where(*conditions(filters))).scalar_one()
    job_id = secrets.token_hex(8)
    conn.execute(
        insert(EXPORT_JOBS).values(id=job_id, user_name=actor.name, format=fmt, query=query, total=total)
    )
    return get(conn, job_id, actor)


def get(conn: Connection, job_id: str, actor: Actor) -> dict[str, Any]:
    """A job as its owner (or an admin) sees it."""
    row = conn.execute(select(EXPORT_JOBS).where(JOBS.id == job_id)).mappings().first()
    if row is None:
        raise NotFound(f"no export {job_id}", field="id")
    if row["user_name"] != actor.name and actor.role != "admin":
        raise Forbidden(f"export {job_id} is another user's")
    return dict(row)


def path_of(var_dir: Path, job: dict[str, Any]) -> Path:
    return var_dir / "exports" / f"{job['id']}.{job['format']}"


def interrupted(conn: Connection) -> int:
    """Mark the jobs a stopped server left running as failed; answers how many."""
    done = conn.execute(
        update(EXPORT_JOBS)
        .where(JOBS.state == "running")
        .values(state="failed", error="the server restarted during the export; start it again")
    )
    return done.rowcount


def _rows(conn: Connection, filters: Filters, sort: str, actor: Actor) -> Iterator[dict[str, Any]]:
    r = INCIDENT_REPORTERS.c
    first = (
        select(r.name, r.phone, r.consent, r.source, r.received_at, r.merged_from, r.anonymised_at)
        .where(r.incident_id == INC.c.id)
        .order_by(r.id)
        .limit(1)
        .lateral("first_reporter")
    )
    query = (
        CASE_ROW.add_columns(*(c.label(f"reporter_{c.name}") for c in first.c))
        .outerjoin(first, true())
        .where(*conditions(filters))
        .order_by(*SORTS[sort])
    )
    after = 0
    while True:
        page = conn.execute(query.limit(PAGE).offset(after)).mappings().all()
        for row in page:
            yield _shown(dict(row), actor)
        if len(page) < PAGE:
            return
        after += PAGE


def _shown(row: dict[str, Any], actor: Actor) -> dict[str, Any]:
    reporter = {k.removeprefix("reporter_"): row.pop(k) for k in list(row) if k.startswith("reporter_")}
    view = privacy.reporter_view(reporter, actor, row["unit"]) if reporter.get("source") else None
    row["reporter_name"] = view["name"] if view else None
    row["reporter_phone"] = view["phone"] if view else None
    row["status_name"] = STATUS_NAMES.get(row["status"], (row["status"],))[0]
    row["source"] = SOURCE_NAMES.get(row["source"], (row["source"],))[0]
    row["address"] = (row.get("location_input") or {}).get("address")
    for key in ("received_at", "deadline"):
        row[key] = row[key].astimezone(worktime.BEIJING).strftime("%Y-%m-%d %H:%M") if row[key] else None
    row["overdue"] = {"red": "超期", "amber": "预警"}.get(row["overdue"] or "", "")
    return row


class Connections(Protocol):
    """The database as the API's ``Database`` offers it: autocommit reads and transactions."""

    def read(self) -> AbstractContextManager[Connection]: ...
    def transaction(self) -> AbstractContextManager[Connection]: ...


def run(db: Connections, var_dir: Path, job_id: str, actor: Actor, filters: Filters, sort: str) -> None:
    """Write the job's file, reporting progress every page; on any error the job says why."""
    with db.read() as conn:
        job = get(conn, job_id, actor)
    path = path_of(var_dir, job)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        rows: list[dict[str, Any]] = []
        revealed = False
        with db.read() as conn:
            for row in _rows(conn, filters, sort, actor):
                rows.append(row)
                revealed = revealed or bool(row["reporter_name"]) or _full(row["reporter_phone"])
                if len(rows) % PAGE == 0:
                    with db.transaction() as tick:
                        tick.execute(update(EXPORT_JOBS).where(JOBS.id == job_id).values(done=len(rows)))
        if job["format"] == "csv":
            data = csv_bytes(COLUMNS, rows)
        else:
            data = xlsx_bytes(COLUMNS, rows, sheet="cases", headers=HEADERS)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(path)
        with db.transaction() as conn:
            if revealed:
                audit.record(conn, actor, "personal.read", f"export:{job_id}", rows=len(rows))
            conn.execute(
                update(EXPORT_JOBS)
                .where(JOBS.id == job_id)
                .values(state="done", done=len(rows), total=len(rows), finished_at=func.now())
            )
    except Exception as exc:  # the job must end in a state the user sees, whatever went wrong
        with db.transaction() as conn:
            conn.execute(
                update(EXPORT_JOBS)
                .where(JOBS.id == job_id)
                .values(state="failed", error=str(exc)[:500], finished_at=func.now())
            )
        raise


def _full(phone: str | None) -> bool:
    return bool(phone) and "*" not in str(phone)

"""Group commit for intake: the cases of concurrent requests filed in one transaction.

Every intake waits on the same two things: the commit (a WAL flush) and, for its number,
the day's counter row, locked from the moment it is bumped to the commit; and each case
cost a worker about fifteen statements of its own (``docs/scale.md``). Here a request hands
its report to the worker's one ``Filer`` and waits; while the Filer files one batch, the
next requests gather, and it files them together: each report checked, located and routed
(``intake.prepare``), then one statement of each kind for them all (``intake.file_many``),
one commit, and their answers read back in three queries (``queries.get_many``). A request
is answered only after its case has committed.

A batch that fails as a whole for what is in it (a photo swept meanwhile) is filed again
report by report, so that one report's fault stays its own; nothing is filed twice, since a
failed transaction filed nothing. A lost connection is every report's 503: whether the
commit happened is unknown, and a retry with the same ``Idempotency-Key`` finds out. A
request whose client went away still has its case filed; its retry gets that case.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import DBAPIError

from api.db import lost_connection
from geo.errors import WanggeError
from layers.accounts.actors import PUBLIC, Actor
from layers.cases import categories, intake, queries
from layers.cases.intake import Filed, IncidentIn, Prepared
from layers.grid.index import AreaIndex

if TYPE_CHECKING:
    from api.state import WorkerState

Answer = tuple[dict[str, Any], bool]  # the case as ``GET`` shows it to the reporter, and whether it is new
Filing = tuple[Prepared | Filed | None, Filed | BaseException]  # a report prepared, and filed or its error


@dataclass(frozen=True)
class Report:
    """One request's report (its inline photos already stored), who sent it and under what key."""

    report: IncidentIn
    actor: Actor
    key: str | None
    index: AreaIndex


class Filer:
    """One per worker (``WorkerState.filer``): files what concurrent requests hand it, in
    batches of at most ``most``, on the worker's database of the moment."""

    def __init__(self, state: WorkerState, most: int = 64) -> None:
        self._state = state
        self._most = most
        self._waiting: list[tuple[Report, asyncio.Future[Answer]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def file(self, report: Report) -> Answer:
        """``report`` filed and read back; raises its error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        self._waiting.append((report, future))
        if self._writer is None:
            self._writer = loop.create_task(self._write())
        return await future

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._most], self._waiting[self._most :]
                try:
                    answers = await run_in_threadpool(self._batch, [report for report, _ in batch])
                except BaseException:  # stopped (the worker shuts down): none waits for ever
                    for _, future in batch:
                        future.cancel()
                    raise
                for (_, future), answer in zip(batch, answers, strict=True):
                    if future.done():  # its request was cancelled; the case stands
                        continue
                    if isinstance(answer, BaseException):
                        future.set_exception(answer)
                    else:
                        future.set_result(answer)
        finally:
            self._writer = None

    def _batch(self, batch: list[Report]) -> list[Answer | BaseException]:
        """Filed, then read back (the next batch gathers meanwhile)."""
        return self._answers(batch, self._filing(batch))

    def _filing(self, batch: list[Report]) -> list[Filing]:
        try:
            return self._filed(batch)
        except DBAPIError as exc:
            if lost_connection(exc) or len(batch) == 1:
                return [(None, exc)] * len(batch)
        except Exception as exc:
            if len(batch) == 1:
                return [(None, exc)]
        return self._one_by_one(batch)

    def _answers(self, batch: list[Report], filed: list[Filing]) -> list[Answer | BaseException]:
        try:
            return self._answered(batch, filed)
        except Exception as exc:  # stored, but not read back: the retry of its key reads it
            return [f if isinstance(f, BaseException) else exc for _, f in filed]

    def _one_by_one(self, batch: list[Report]) -> list[Filing]:
        done: list[Filing] = []
        for report in batch:  # one report's fault stays its own
            try:
                done += self._filed([report])
            except Exception as exc:
                done.append((None, exc))
        return done

    def _filed(self, batch: list[Report]) -> list[Filing]:
        """Each report prepared and filed in one transaction: (prepared, filed or its error)."""
        state = self._state
        far_m = state.settings.photo_far_m
        with state.db.transaction() as conn:
            catalogue = categories.load(conn)
            ready: list[Prepared | Filed | WanggeError] = []
            for r in batch:
                try:
                    ready.append(
                        intake.prepare(conn, r.index, catalogue, r.report, actor=r.actor,
                                       work_hours=state.work_hours, key=r.key, far_m=far_m)
                    )  # fmt: skip
                except WanggeError as exc:
                    ready.append(exc)
            filed = iter(intake.file_many(conn, [p for p in ready if not isinstance(p, WanggeError)]))
            return [(None, p) if isinstance(p, WanggeError) else (p, next(filed)) for p in ready]

    def _answered(self, batch: list[Report], filed: list[Filing]) -> list[Answer | BaseException]:
        """The committed cases read back as their reporters may see them, with their likely
        duplicates; an error stays the answer of its report."""
        state = self._state
        snap_m = state.settings.public_snap_m
        answers: list[Answer | BaseException] = [
            f if isinstance(f, BaseException) else ({}, False) for _, f in filed
        ]
        done = [(k, f) for k, (_, f) in enumerate(filed) if isinstance(f, Filed)]
        if not done:
            return answers
        with state.db.read() as conn:  # committed already: no transaction to begin and end
            cases = queries.get_many(
                conn, [(f.id, f.received_at) for _, f in done], [batch[k].actor for k, _ in done], snap_m
            )
            for (k, f), case in zip(done, cases, strict=True):
                shown = snap_m if batch[k].actor is PUBLIC else 0.0  # the public's distances are coarse
                ready = filed[k][0]
                if isinstance(ready, Prepared):
                    case["likely_duplicates"] = intake.duplicates_of(conn, ready, f, shown)
                else:
                    case["likely_duplicates"] = intake.likely_duplicates(conn, f.id, shown, f.received_at)
                answers[k] = (case, f.created)
        return answers

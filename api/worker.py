"""``wangge worker``: camera events folded into cases, the outbox's deliveries, overdue
announcements and the photo sweep.

One loop: fold the machine events that arrived (``layers.cases.camera_events``: one
transaction a batch, so a crash folds them later, never twice), lease what is due, send it
on a pool of threads (one kept-alive HTTP client), record the results — retried until the
database takes them, so a PostgreSQL restart neither loses nor repeats a delivery — then
look for newly overdue cases, and once an hour sweep the photo store. Several workers may
run: leases skip what another holds.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from api.auth import secret_key
from api.settings import Settings
from geo.errors import NotFound
from layers.cases import camera_events, categories, partitions
from layers.cases.worktime import BEIJING, WorkHours
from layers.enterprises import digest as enterprise_digest
from layers.grid.holder import IndexHolder
from layers.outbox import delivery, events
from layers.outbox.delivery import Result
from layers.outbox.senders import Config, Senders
from layers.photos import records as photos
from layers.photos.store import FileStore

log = logging.getLogger("wangge.worker")
SWEEP_EVERY_S = 3600.0


def sender_config(settings: Settings) -> Config:
    return Config(
        base_url=settings.public_base_url, secret=secret_key(settings),
        gateway_url=settings.notify_gateway_url, gateway_secret=settings.notify_gateway_secret,
        smtp_host=settings.smtp_host, smtp_port=settings.smtp_port, smtp_user=settings.smtp_user,
        smtp_password=settings.smtp_password, smtp_from=settings.smtp_from, smtp_tls=settings.smtp_tls,
        timeout_s=settings.webhook_timeout_s,
    )  # fmt: skip


@dataclass
class Worker:
    settings: Settings
    engine: Engine
    senders: Senders
    pool: ThreadPoolExecutor
    index: IndexHolder
    work_hours: WorkHours
    unrecorded: list[Result] = field(default_factory=list)
    swept_at: float = 0.0
    sent: int = 0
    folded: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def open(cls, settings: Settings, engine: Engine) -> Worker:
        worker = cls(
            settings,
            engine,
            Senders(sender_config(settings)),
            ThreadPoolExecutor(settings.outbox_senders),
            IndexHolder(
                engine,
                check_s=settings.index_check_s,
                cell_m=settings.locate_cell_m,
                cache=settings.var_dir / "index",
            ),
            WorkHours.parse(settings.work_hours),
        )
        with engine.begin() as conn:
            released = delivery.release_held(conn, worker.senders.config.channels)
        if released:
            log.info("%d held message(s) released: their channel has a sender now", released)
        return worker

    def close(self) -> None:
        self.pool.shutdown()
        self.senders.close()

    def _record(self) -> None:
        s = self.settings
        with self.engine.begin() as conn:
            delivery.record(conn, self.unrecorded, s.delivery_max_attempts, s.webhook_pause_after)
        self.sent += sum(r.ok for r in self.unrecorded)
        self.unrecorded = []

    def round(self) -> int:
        """One round; answers how many deliveries it handled (0: nothing was due)."""
        if self.unrecorded:  # the database was away when these were sent: record them first
            self._record()
        if self.stopping.is_set():
            return 0
        s = self.settings
        folded = self._fold()
        with self.engine.begin() as conn:
            events.announce_overdue(conn)
        with self.engine.begin() as conn:
            due = delivery.lease(conn, s.outbox_batch, s.visit_after_hours)
        if due:  # lines side by side, each in order (a reporter's messages, a case's events)
            self.unrecorded = [
                r for line in self.pool.map(self.senders.send_line, delivery.in_order(due)) for r in line
            ]
            self._record()
        if time.monotonic() - self.swept_at > SWEEP_EVERY_S:
            self.swept_at = time.monotonic()
            with self.engine.begin() as conn:
                rows, files = photos.sweep(conn, FileStore(s.photo_root), s.photo_orphan_hours)
            if rows or files:
                log.info("photo sweep: %d unused upload(s), %d file(s) without a row removed", rows, files)
            with self.engine.begin() as conn:
                kept = partitions.maintain(conn, datetime.now(UTC), s.case_retention_months)
            if kept.made or (kept.retired and kept.retired.months):
                log.info("case partitions: %s", kept.summary())
            self._digest()
        return len(due) + folded

    def _digest(self) -> None:
        """Each morning (07:00 Beijing) the enterprise register's changes of the day before go
        to the streets and departments; a day already pushed is not made again."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            day = enterprise_digest.due(conn, now)
            if day is None:
                return
            made = enterprise_digest.make(conn, day, now.astimezone(BEIJING).date())
        log.info("enterprise digest of %s: %d change(s), %d record(s) to %d recipient(s)", day, made.events,
                 made.records, made.digests)  # fmt: skip

    def _fold(self) -> int:
        """Fold a batch of new camera events into cases (their count; 0 when none wait)."""
        with self.engine.connect() as conn:
            if not camera_events.waiting(conn):
                return 0
        try:
            index = self.index.get()
        except NotFound as exc:  # no active generation: nothing can be located yet; they wait
            log.warning("camera events wait: %s", exc.message)
            return 0
        with self.engine.begin() as conn:
            done = camera_events.fold(
                conn, index, categories.load(conn), self.work_hours, self.settings.events_batch
            )
        self.folded += done.events
        return done.events

    def run(self, once: bool = False) -> None:
        """Rounds until stopped (``once``: until nothing is due); a database away is waited for."""
        while not self.stopping.is_set() or self.unrecorded:
            try:
                handled = self.round()
            except (OperationalError, DBAPIError) as exc:
                log.warning("database unavailable (%s); %d result(s) kept, retrying", exc.__class__.__name__,
                            len(self.unrecorded))  # fmt: skip
                if self.unrecorded:  # sent but not recorded: wait for the database, even when stopping
                    time.sleep(0.5)
                else:
                    self.stopping.wait(1.0)
                continue
            if once and not handled:
                return
            if handled < self.settings.outbox_batch and not once:
                self.stopping.wait(self.settings.outbox_tick_s)

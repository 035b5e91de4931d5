"""Working time on the Chinese official calendar: deadlines and how much of one was used.

Official holidays and the swapped working days (调休) come from the maintained
``chinese-calendar`` package, which covers the years the State Council has published.
For a later year (the schedule is published each November) the calendar falls back to
Monday–Friday and says so through ``official(day)``, so a deadline is never silently
computed on a guessed calendar. Working hours of a working day are one window in
Beijing time (``WANGGE_WORK_HOURS``, default 08:30–17:30).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from geo.errors import InvalidInput

BEIJING = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Today's date in Beijing (the register's days, the daily push)."""
    return datetime.now(BEIJING).date()


@lru_cache(maxsize=4096)
def official(day: date) -> bool:
    """True when the official calendar covers ``day`` (else weekdays stand in for it)."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=4096)
def is_workday(day: date) -> bool:
    """A working day: official holidays off, swapped weekend days on.

    >>> is_workday(date(2025, 10, 1)), is_workday(date(2025, 9, 28)), is_workday(date(2025, 9, 27))
    (False, True, False)
    """
    if official(day):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


@dataclass(frozen=True)
class WorkHours:
    """The daily working window in Beijing time."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> WorkHours:
        """``"08:30-17:30"`` → the window (refused when empty or reversed).

        >>> WorkHours.parse("08:30-17:30").hours
        9.0
        """
        try:
            a, b = (time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError:
            raise InvalidInput(f"work hours {text!r} are not HH:MM-HH:MM", field="work_hours") from None
        if a >= b:
            raise InvalidInput(f"work hours {text!r} end before they start", field="work_hours")
        return cls(a, b)

    @property
    def hours(self) -> float:
        return (datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)).seconds / 3600

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return datetime.combine(day, self.start, BEIJING), datetime.combine(day, self.end, BEIJING)

    def add(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` of working time after ``start``.

        >>> wh = WorkHours.parse("08:30-17:30")
        >>> wh.add(datetime(2025, 9, 30, 16, 30, tzinfo=BEIJING), 2).isoformat()  # National Day week
        '2025-10-09T09:30:00+08:00'
        """
        left = timedelta(hours=hours)
        at = start.astimezone(BEIJING)
        day = at.date()
        while True:
            if is_workday(day):
                open_, close = self._window(day)
                begin = max(at, open_)
                if begin < close:
                    if begin + left <= close:
                        return begin + left
                    left -= close - begin
            day += timedelta(days=1)
            at = datetime.combine(day, time.min, BEIJING)

    def between(self, start: datetime, end: datetime) -> float:
        """Working hours from ``start`` to ``end`` (0 when end is not after start)."""
        a, b = start.astimezone(BEIJING), end.astimezone(BEIJING)
        total = timedelta()
        day = a.date()
        while day <= b.date():
            if is_workday(day):
                open_, close = self._window(day)
                lo, hi = max(a, open_), min(b, close)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 3600


@dataclass(frozen=True)
class Clock:
    """A case's time limits: a warning at 80 %, the deadline, escalation at 200 %."""

    warn_at: datetime
    deadline: datetime
    escalate_at: datetime
    official: bool  # False when a later year's calendar was not published yet


def clock(start: datetime, hours: float, working: bool, work_hours: WorkHours) -> Clock:
    """The limits of a case started at ``start`` with ``hours`` allowed (working or natural)."""

    def add(at: datetime, h: float) -> datetime:
        return work_hours.add(at, h) if working else at + timedelta(hours=h)

    escalate = add(start, 2 * hours)
    covered = all(official(d) for d in _days(start, escalate)) if working else True
    return Clock(add(start, 0.8 * hours), add(start, hours), escalate, covered)


def _days(a: datetime, b: datetime) -> list[date]:
    first, last = a.astimezone(BEIJING).date(), b.astimezone(BEIJING).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]

"""Calendar months, the unit every comparison of the analytics counts in (Beijing dates).

One place for month arithmetic (``dateutil.relativedelta``), and for the edges of the
calendar: a month that would fall before year 1 or after 9999 is an ``InvalidInput``
naming the field, not an ``OverflowError``.

>>> month_range("2025-12")
(datetime.date(2025, 12, 1), datetime.date(2026, 1, 1))
>>> shift(date(2026, 1, 1), -1)
datetime.date(2025, 12, 1)
>>> month_range("9999-12")
Traceback (most recent call last):
...
geo.errors.InvalidInput: month 9999-12 has no next month in the calendar
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from geo.errors import InvalidInput
from layers.cases.worktime import BEIJING

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def first_day(month: str, field: str = "month") -> date:
    """``"2025-07"`` → 2025-07-01; anything else is refused naming ``field``."""
    found = _MONTH.match(month)
    try:
        if found is None:
            raise ValueError
        return date(int(found[1]), int(found[2]), 1)
    except ValueError:
        raise InvalidInput(f"{field} {month!r} is not YYYY-MM", field=field) from None


def shift(first: date, months: int, field: str = "month") -> date:
    """The first day of the month ``months`` after (or before) ``first``'s."""
    try:
        return first.replace(day=1) + relativedelta(months=months)
    except (ValueError, OverflowError):
        where = "next" if months > 0 else "previous"
        raise InvalidInput(
            f"{field} {first:%Y-%m} has no {where} month in the calendar", field=field
        ) from None


def month_range(month: str, field: str = "month") -> tuple[date, date]:
    """(first day, first day of the next month) of ``"YYYY-MM"``."""
    first = first_day(month, field)
    return first, shift(first, 1, field)


def day_window(since: date | None, until: date | None, days: int) -> tuple[datetime, datetime]:
    """[since, until] as Beijing days (until inclusive) → [start, end) instants; by default the
    ``days`` days up to today. Days beyond the calendar are refused naming their field.

    >>> day_window(None, date(2026, 10, 31), 31)[0].isoformat()
    '2026-10-01T00:00:00+08:00'
    """
    last = until or datetime.now(BEIJING).date()
    try:
        first = since or last - timedelta(days=days - 1)
    except OverflowError:
        raise InvalidInput(f"until {last} leaves no room for {days} days before it", field="until") from None
    if first > last:
        raise InvalidInput(f"since {first} is after until {last}", field="since")
    try:
        end = last + timedelta(days=1)
    except OverflowError:
        raise InvalidInput(f"until {last} is the last day of the calendar", field="until") from None
    return (
        datetime.combine(first, datetime.min.time(), BEIJING),
        datetime.combine(end, datetime.min.time(), BEIJING),
    )


def last_complete_month(today: date | None = None) -> str:
    """The month before today's (Beijing), as ``YYYY-MM``."""
    today = today or datetime.now(BEIJING).date()
    return f"{shift(today, -1):%Y-%m}"

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
from datetime import date, datetime

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


def last_complete_month(today: date | None = None) -> str:
    """The month before today's (Beijing), as ``YYYY-MM``."""
    today = today or datetime.now(BEIJING).date()
    return f"{shift(today, -1):%Y-%m}"

"""Case numbers: the Beijing day and that day's serial, ``YYYYMMDD`` + seven digits.

Seven digits hold ten million cases a day (Beijing's 12345 files ~70,000), numbers of a day
sort as they were issued, and the day first keeps every day's numbers after the day
before's. A day past ten million only gets longer numbers: still unique, never refused.
Numbers issued before seven digits (five, ``2026112700042``) stay valid.
"""

from __future__ import annotations

from datetime import date

SERIAL_DIGITS = 7
PATTERN = r"^\d{13,20}$"  # the path parameter: old five-digit serials and wider ones


def case_number(day: date, serial: int) -> str:
    """The number of the ``serial``-th case of ``day``.

    >>> case_number(date(2026, 12, 2), 42)
    '202612020000042'
    >>> case_number(date(2026, 12, 2), 12_345_678)
    '2026120212345678'
    """
    return f"{day:%Y%m%d}{serial:0{SERIAL_DIGITS}d}"

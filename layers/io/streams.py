"""Streamed batch answers: JSON and CSV written a block at a time, in input order."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from geo import points


def json_stream(rows: Iterator[dict[str, Any]], crs: str) -> Iterator[bytes]:
    yield b'{"crs": ' + json.dumps(crs).encode() + b', "results": ['
    first = True
    buffer: list[str] = []
    for row in rows:
        buffer.append(("" if first else ",") + json.dumps(row, ensure_ascii=False))
        first = False
        if len(buffer) >= 10_000:
            yield "".join(buffer).encode()
            buffer = []
    yield ("".join(buffer) + "]}").encode()


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula (OWASP's rule).

    Numbers stay numbers; other text starting with ``= + - @``, a tab or a CR gets a
    leading ``'``, which the importers take off again.

    >>> [spreadsheet_safe(v) for v in ("=HYPERLINK(1)", "-12.5", "@x", "恩县路", 3)]
    ["'=HYPERLINK(1)", '-12.5', "'@x", '恩县路', 3]
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA):
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


def unquote_cell(text: str) -> str:
    """The cell as written before ``spreadsheet_safe`` (for files coming back in).

    >>> unquote_cell("'=1+2"), unquote_cell("'plain")
    ('=1+2', "'plain")
    """
    return text[1:] if text[:1] == "'" and text[1:2] in _FORMULA else text


CSV_COLUMNS = ("inside", "distance_m", "street", "community", "grid", "micro_grid", "error")


def csv_stream(rows: Iterator[dict[str, Any]], batch: points.PointBatch) -> Iterator[bytes]:
    extra = list(batch.extra[0]) if batch.extra else []
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([spreadsheet_safe(c) for c in ("row", *extra, "lon", "lat", *CSV_COLUMNS)])
    for k, row in enumerate(rows):
        error = row.get("error", {}).get("message", "")
        given = [batch.extra[k].get(c, "") for c in extra] if batch.extra else []
        x = "" if np.isnan(batch.x[k]) else repr(float(batch.x[k]))
        y = "" if np.isnan(batch.y[k]) else repr(float(batch.y[k]))
        values = [
            "true" if v is True else "false" if v is False else v
            for v in (row.get(c, "") for c in CSV_COLUMNS[:-1])
        ]
        writer.writerow([spreadsheet_safe(v) for v in (k + 1, *given, x, y, *values, error)])
        if out.tell() > 1 << 20:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()

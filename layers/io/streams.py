"""CSV cells that a spreadsheet shows as text and reads back as written (formula injection)."""

from __future__ import annotations

from typing import Any

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

"""Open311 GeoReport v2 answers: JSON or XML by the path's extension, errors as the spec's list."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any, Literal

from fastapi.responses import JSONResponse, Response

Format = Literal["json", "xml"]
# Characters XML 1.0 forbids (C0 controls but tab, LF, CR; lone surrogates; U+FFFE/FFFF): a
# description holding one must not make the whole feed not well-formed for every reader.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    """``value`` as text that XML 1.0 can hold (forbidden characters dropped).

    >>> xml_text("a\x01b")
    'ab'
    """
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, row: dict[str, Any]) -> None:
    for key, value in row.items():
        child = ET.SubElement(element, key)
        if isinstance(value, list):
            for entry in value:
                _fill(ET.SubElement(child, key.removesuffix("s")), entry)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = xml_text(value)


def answer(
    rows: list[dict[str, Any]] | dict[str, Any], fmt: Format, root: str, item: str, status: int = 200
) -> Response:
    """A GeoReport answer, JSON or XML: a list → ``<root><item>…</item>…</root>``, an object → ``<root>``."""
    if fmt == "json":
        return JSONResponse(rows, status_code=status)
    top = ET.Element(root)
    if isinstance(rows, list):
        for row in rows:
            _fill(ET.SubElement(top, item), row)
    else:
        _fill(top, rows)
    body = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="unicode")
    return Response(body.encode(), status_code=status, media_type="text/xml; charset=utf-8")


def error(status: int, message: str, path: str, headers: dict[str, str] | None = None) -> Response:
    """The GeoReport error list, in the format of the path's extension."""
    fmt: Format = "xml" if path.endswith(".xml") else "json"
    response = answer([{"code": status, "description": message}], fmt, "errors", "error", status)
    response.headers.update(headers or {})
    return response

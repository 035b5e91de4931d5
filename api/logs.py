"""Log lines never carry a secret: keys and tokens in request lines are redacted.

uvicorn's access log writes the full path with its query string; Open311 clients put
``api_key=`` there. The filter rewrites the path argument of every access-log record
(and any message) before a handler sees it.
"""

from __future__ import annotations

import logging
import re

SECRET = re.compile(r"((?:api_key|access_token|token|password)=)[^&\s\"]+", re.IGNORECASE)
BEARER = re.compile(r"(Bearer\s+)[\w.\-~+/]+=*", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with secret query values and bearer tokens replaced.

    >>> redact("GET /open311/v2/requests.json?api_key=wg_abc&x=1")
    'GET /open311/v2/requests.json?api_key=***&x=1'
    """
    return BEARER.sub(r"\1***", SECRET.sub(r"\1***", text))


class RedactSecrets(logging.Filter):
    """A filter for the access log (and any other): secrets out of the message and its args."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Put the filter on uvicorn's loggers and ours (once, however many apps are made)."""
    for name in ("uvicorn.access", "uvicorn.error", "wangge"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())

"""The web map and the pages: templates and static files served by the app (no CDN).

Imports nothing of wangge: ``api`` serves these files, ``layers.analytics.report``
renders its template with ``jinja``.
"""

from pathlib import Path

import jinja2

WEB_DIR = Path(__file__).resolve().parent
jinja = jinja2.Environment(
    loader=jinja2.FileSystemLoader(WEB_DIR / "templates"), autoescape=jinja2.select_autoescape()
)

"""The web map and the asset pages: static files served by the app (no CDN)."""

from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent

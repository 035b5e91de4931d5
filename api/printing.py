"""HTML → PDF with the system's headless Chromium (label sheets now, monthly reports later).

Chromium prints a self-contained HTML file (inline CSS and SVG, nothing fetched) to
PDF; Chinese text needs a CJK font on the server (Debian ``fonts-noto-cjk``). Without
Chromium the platform says what to install instead of failing obscurely.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from geo.errors import SetupError

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--no-pdf-header-footer",
)


def chromium() -> str:
    """The Chromium binary, or ``SetupError`` saying how to get one."""
    found = next((path for name in CHROMIUM if (path := shutil.which(name))), None)
    if found is None:
        raise SetupError("printing PDFs needs Chromium: sudo apt-get install chromium fonts-noto-cjk")
    return found


def capabilities() -> dict[str, dict[str, object]]:
    """What the optional parts of printing need, and whether this machine has it."""
    binary = next((path for name in CHROMIUM if (path := shutil.which(name))), None)
    fonts = shutil.which("fc-list")
    listed = (
        subprocess.run([fonts, ":lang=zh"], capture_output=True, text=True, timeout=10) if fonts else None
    )
    cjk = listed is not None and "Noto Sans CJK" in listed.stdout
    return {
        "pdf": {
            "ready": binary is not None,
            "detail": binary or "install Chromium: sudo apt-get install chromium (or run `make run`)",
        },
        "chinese_fonts": {
            "ready": cjk,
            "detail": "Noto Sans CJK" if cjk else "install fonts-noto-cjk, or PDFs show boxes for Chinese",
        },
    }


def html_to_pdf(html: str, timeout_s: float = 60.0) -> bytes:
    """The PDF Chromium prints of ``html`` (A4, backgrounds on, no header or footer)."""
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="wangge-print-") as tmp:
        page, out = Path(tmp) / "page.html", Path(tmp) / "page.pdf"
        page.write_text(html, encoding="utf-8")
        done = subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={tmp}/profile", f"--print-to-pdf={out}", page.as_uri()],
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
        if done.returncode != 0 or not out.exists():
            reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise SetupError(f"Chromium could not print the page: {reason[0]}")
        return out.read_bytes()

"""The monthly report: figures that add up, rendered to HTML and printed to PDF by real Chromium."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pypdfium2
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, text

from api.settings import Settings
from layers.analytics import report

MONTH = "2026-10"


def test_report_figures_add_up(engine: Engine, demo: int) -> None:
    with engine.connect() as conn:
        data = report.build(conn, MONTH)
        october = conn.execute(
            text(
                "SELECT count(*) FROM incidents WHERE status <> 'duplicate' "
                "AND received_at >= '2026-10-01 00:00+08' AND received_at < '2026-11-01 00:00+08'"
            )
        ).scalar_one()
    assert data["total"] == october == sum(r["count"] for r in data["streets"])
    assert data["summary"][0].startswith(f"{MONTH} 共受理案件 {october:,} 件")
    assert len(data["kpis"]) >= 22 and data["hot"]["hot"] > 0
    assert 0 < data["coverage"][1]["share"] <= data["coverage"][0]["share"] <= 1
    assert "<svg" in data["map_svg"] and "<svg" in data["bars_svg"]


def test_report_pdf_over_http_pages_as_png(client: TestClient, artifacts: Path) -> None:
    html = client.get(f"/api/reports/{MONTH}")
    assert html.status_code == 200 and "市北区网格化治理月度分析" in html.text
    assert not re.search(r"""(src|href)=["']https?:""", html.text)  # nothing is fetched when printed
    pdf = client.get(f"/api/reports/{MONTH}", params={"f": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text_ = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    words = unicodedata.normalize("NFKC", text_)  # the PDF's CJK radicals (⽉) back to characters (月)
    assert "本月要点" in words and "各街道考核指标" in words and "台东街道" in words
    document = pypdfium2.PdfDocument(pdf.content)
    assert len(document) >= 2
    for i in range(len(document)):
        document[i].render(scale=1.2).to_pil().save(artifacts / f"report_{MONTH}_page{i + 1}.png")
    assert client.get("/api/reports/2099-01").status_code == 400


def test_report_command_writes_html_and_pdf(tmp_path: Path, test_settings: Settings, demo: int) -> None:
    env = {"DATABASE_URL": test_settings.sqlalchemy_url(), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "report", "--month", MONTH, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / f"wangge-report-{MONTH}.pdf").stat().st_size > 10_000
    assert "wrote" in done.stdout.splitlines()[-1]

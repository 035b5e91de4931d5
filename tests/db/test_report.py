"""The monthly report: figures that add up, rendered to HTML and printed to PDF by real Chromium."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import unicodedata
from collections import OrderedDict
from pathlib import Path

import pypdfium2
import shapely
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, text

from api.settings import Settings
from layers.analytics import aggregates, report

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
    every, ev = data["coverage"]
    assert ev["facilities"] < every["facilities"] and 0 < ev["share"] < every["share"] <= 1  # not a copy
    assert "<svg" in data["map_svg"] and "<svg" in data["bars_svg"]


def test_every_figure_is_the_months_own(engine: Engine, demo: int) -> None:
    """Car parks finished after a month do not cover it; covers inspected are those of the month."""
    with engine.connect() as conn:
        early, late = report.build(conn, "2024-03"), report.build(conn, MONTH)
        finished = conn.execute(
            text(
                "SELECT count(*) FROM assets WHERE kind = 'parking' AND attributes->>'status' = 'operating' "
                "AND attributes->>'due_date' <= '2024-03-31'"
            )
        ).scalar_one()
    assert early["coverage"][0]["facilities"] == finished < late["coverage"][0]["facilities"]


def test_the_map_has_a_legend_a_scale_bar_and_names_that_do_not_overlap(engine: Engine, demo: int) -> None:
    with engine.connect() as conn:
        hot = aggregates.hotspot_cells(OrderedDict(), conn, report._month_window(MONTH, None), None, 9)
        streets = [
            (name, shapely.from_wkb(bytes(wkb)))
            for name, wkb in conn.execute(
                text("SELECT name, ST_AsBinary(geom) FROM areas a JOIN generations g ON g.id = a.generation "
                     "WHERE g.status = 'active' AND a.level = 'street'")
            )
        ]  # fmt: skip
    fig, labels = report.hotspot_figure(streets, hot["features"])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [label.get_window_extent(renderer) for label in labels]
    assert len(boxes) == 22
    crowded = [
        (labels[i].get_text(), labels[j].get_text())
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if boxes[i].overlaps(boxes[j])
    ]
    assert crowded == []
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[:3] == ["热点 (Gi*, FDR 5%)", "冷点", "不显著"]
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert "1 km" in texts and "N" in texts


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

"""``wangge locate`` and ``wangge report``: locating points and the monthly report."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from api.cli.common import app, engine, load_settings


@app.command()
def locate(
    lon: float = typer.Argument(None, help="Longitude (or x) of one point."),
    lat: float = typer.Argument(None, help="Latitude (or y) of one point."),
    crs: str = typer.Option("wgs84", help="CRS of the input: wgs84, gcj02, bd09, EPSG:4549, …"),
    accuracy_m: float = typer.Option(None, help="GPS accuracy of the point, for the ambiguity flag."),
    file: Path = typer.Option(None, help="CSV with lon,lat columns (UTF-8 or GBK) to locate in bulk."),
    out: Path = typer.Option(None, help="Where to write the bulk answers as CSV (default: stdout)."),
) -> None:
    """Locate one point (JSON answer) or a CSV of points (CSV answer, input order)."""
    import json

    from api.progress import Progress
    from geo import points
    from geo.crs import to_wgs84
    from layers.grid.answers import located_rows, point_answer
    from layers.grid.holder import IndexHolder
    from layers.io.streams import csv_stream

    settings = load_settings()
    if file is None and (lon is None or lat is None):
        raise typer.BadParameter("give LON LAT, or --file points.csv")
    index = IndexHolder(engine(), check_s=settings.index_check_s, cell_m=settings.locate_cell_m).get()
    if file is None:
        wlon, wlat = (float(v) for v in to_wgs84(lon, lat, crs))
        result = point_answer(
            index,
            wlon,
            wlat,
            accuracy_m=accuracy_m,
            min_ambiguous_m=settings.ambiguous_m,
            nearby_assets_m=settings.nearby_assets_m,
        )
        body = {"query": {"lon": lon, "lat": lat, "crs": crs}, **result}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    if not file.is_file():
        raise typer.BadParameter(f"no such file: {file}")
    batch = points.from_csv(file.read_bytes(), limit=settings.file_max_points)
    progress = Progress(f"locating {file.name}")
    rows = located_rows(index, batch, crs, progress=progress)
    sink = out.open("wb") if out else sys.stdout.buffer
    try:
        for chunk in csv_stream(rows, batch):
            sink.write(chunk)
    finally:
        if out:
            sink.close()
    good = len(batch) - len(batch.errors)
    where = f" → {out}" if out else ""
    typer.echo(
        f"wangge: located {good:,} of {len(batch):,} points ({len(batch.errors):,} bad rows) "
        f"in {progress.elapsed:.1f} s{where}",
        err=True,
    )


@app.command()
def report(
    month: str = typer.Option(None, help="YYYY-MM (Beijing); default the last complete month."),
    area: str = typer.Option(None, help="Restrict to an area code (street, community, …)."),
    out: Path = typer.Option(Path("var/reports"), help="Directory to write the HTML and the PDF into."),
    pdf: bool = typer.Option(True, help="Also print the PDF (needs Chromium)."),
) -> None:
    """Write the monthly analysis report: HTML, and a PDF printed by headless Chromium."""
    import time

    from api.printing import html_to_pdf
    from layers.analytics import months
    from layers.analytics import report as monthly

    start = time.monotonic()
    month = month or months.last_complete_month()
    typer.echo(f"wangge: report {month}: computing figures (trends, KPIs, hotspots, coverage) …")
    with engine().connect() as conn:
        data = monthly.build(conn, month, area)
    html = monthly.render_html(data)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"wangge-report-{month}{'-' + area if area else ''}"
    stem.with_suffix(".html").write_text(html, encoding="utf-8")
    written = [stem.with_suffix(".html")]
    if pdf:
        typer.echo(f"wangge: report {month}: printing the PDF …")
        stem.with_suffix(".pdf").write_bytes(html_to_pdf(html))
        written.append(stem.with_suffix(".pdf"))
    typer.echo(
        f"wangge: report {month}: {data['total']:,} cases, {data['hot']['hot']} hot cells; "
        f"wrote {', '.join(str(p) for p in written)} in {time.monotonic() - start:.1f} s"
    )

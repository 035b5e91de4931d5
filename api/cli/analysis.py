"""``wangge locate`` and ``wangge report``: locating points and the monthly report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from api.cli.common import app, engine, load_settings


@app.command()
def locate(
    lon: float = typer.Argument(None, help="Longitude (or x) of one point."),
    lat: float = typer.Argument(None, help="Latitude (or y) of one point."),
    crs: str = typer.Option(None, help="CRS of the input: wgs84 (default), gcj02, bd09, EPSG:4549, …"),
    accuracy_m: float = typer.Option(None, help="GPS accuracy of the point, for the ambiguity flag."),
    file: Path = typer.Option(
        None, help="Points to locate in bulk: .csv (lon,lat; UTF-8 or GBK), .parquet, .geojson."
    ),
    out: Path = typer.Option(
        None, help="Where to write the answers: .csv, .parquet or .json (default: CSV on stdout)."
    ),
    dask: str = typer.Option(None, help="Run on Dask: a scheduler address, or local[:N] for a LocalCluster."),
) -> None:
    """Locate one point (JSON answer) or a file of points (input order, any size, streamed)."""
    import json

    from layers.grid.answers import point_answer
    from layers.grid.holder import IndexHolder

    settings = load_settings()
    if file is None and (lon is None or lat is None):
        raise typer.BadParameter("give LON LAT, or --file points.csv")
    if file is not None:
        _locate_file(settings, file, out, crs, dask)
        return
    from geo.crs import to_wgs84

    index = IndexHolder(engine(), check_s=settings.index_check_s, cell_m=settings.locate_cell_m).get()
    wlon, wlat = (float(v) for v in to_wgs84(lon, lat, crs or "wgs84"))
    result = point_answer(
        index,
        wlon,
        wlat,
        accuracy_m=accuracy_m,
        min_ambiguous_m=settings.ambiguous_m,
        nearby_assets_m=settings.nearby_assets_m,
    )
    body = {"query": {"lon": lon, "lat": lat, "crs": crs or "wgs84"}, **result}
    typer.echo(json.dumps(body, ensure_ascii=False, indent=2))


def _locate_file(settings: Any, file: Path, out: Path | None, crs: str | None, dask: str | None) -> None:
    """``wangge locate --file``: stream ``file`` through the columnar locator into ``out``.

    Arguments are checked before the index is built; the summary gives the index build
    and the locating separately (points/s without the start-up).
    """
    import time

    from geo.crs import parse_crs
    from geo.errors import WanggeError
    from layers.grid.holder import IndexHolder
    from layers.io import pointfiles

    if not file.exists():
        raise typer.BadParameter(f"no such file: {file}")
    try:
        kind = pointfiles.kind_of(file) if file.is_file() else "parquet"
        out_kind = pointfiles.kind_of(out) if out else "csv"
        if dask and (kind != "parquet" or out is None or out_kind != "parquet"):
            raise typer.BadParameter(
                "--dask reads Parquet and writes a Parquet dataset: --file x.parquet --out dir.parquet"
            )
        if crs is not None:
            parse_crs(crs)
        client = _dask_client(dask) if dask else None
        on = f" on {len(client.scheduler_info()['workers'])} Dask workers" if client is not None else ""
        try:
            started = time.monotonic()
            db = engine()
            index = IndexHolder(db, check_s=settings.index_check_s, cell_m=settings.locate_cell_m).get()
            built = time.monotonic() - started
            start = time.monotonic()
            if client is not None:
                assert out is not None
                rows, bad = _on_dask(client, db, settings, index, file, out, crs)
            else:
                rows, bad = _stream_file(settings, index, file, kind, out, out_kind, crs)
        finally:
            if client is not None:
                cluster = getattr(client, "cluster", None)
                client.close()
                if cluster is not None:
                    cluster.close()
    except WanggeError as exc:
        typer.echo(f"wangge: {exc.field or 'file'}: {exc.message}", err=True)
        raise typer.Exit(2) from None
    seconds = time.monotonic() - start
    where = f" → {out}" if out else ""
    typer.echo(
        f"wangge: located {rows - bad:,} of {rows:,} points ({bad:,} bad rows){on} in {seconds:.1f} s "
        f"({rows / max(seconds, 1e-9):,.0f} points/s; the index took {built:.1f} s more){where}",
        err=True,
    )


def _stream_file(
    settings: Any, index: Any, file: Path, kind: str, out: Path | None, out_kind: str, crs: str | None
) -> tuple[int, int]:
    """Read ``file`` in blocks, locate each, write it: bounded memory at any size. (rows, bad rows)"""
    from api.progress import Progress
    from geo import parallel
    from geo.crs import parse_crs
    from layers.io import pointfiles

    progress = Progress(f"locating {file.name}")
    counted = {"rows": 0, "bad": 0}
    with open(file, "rb") as handle:
        if kind == "csv":
            batches = pointfiles.csv_batches(handle)
            used = crs or "wgs84"
            total = max(1, file.stat().st_size)  # rows are not known ahead: bytes stand in for them
        elif kind == "parquet":
            batches, used = pointfiles.parquet_batches(file, crs)
            total = pointfiles.parquet_rows(file)
        else:
            batch, body_crs = pointfiles.geojson_batch(file, settings.batch_max_points)
            batches, used = iter([batch]), crs or body_crs or "wgs84"
            total = len(batch)
        parse_crs(used)

        def tables() -> Any:
            for table in pointfiles.located(index, batches, used, threads=parallel.cores()):
                counted["rows"] += table.num_rows
                counted["bad"] += table.num_rows - table.column("error").null_count
                done = handle.tell() if kind == "csv" else counted["rows"]
                progress(min(done, total), total)
                yield table

        if out_kind == "parquet":
            assert out is not None
            pointfiles.parquet_write(tables(), out)
        else:
            chunks = (
                pointfiles.json_stream(tables(), used)
                if out_kind == "json"
                else pointfiles.csv_stream(tables())
            )
            sink = out.open("wb") if out else sys.stdout.buffer
            try:
                for chunk in chunks:
                    sink.write(chunk)
            finally:
                if out:
                    sink.close()
    return counted["rows"], counted["bad"]


def _dask_client(scheduler: str) -> Any:
    from layers.io import distributed

    typer.echo(f"wangge: connecting to Dask ({scheduler}) …", err=True)
    return distributed.client_for(scheduler)


def _on_dask(
    client: Any, db: Any, settings: Any, index: Any, file: Path, out: Path, crs: str | None
) -> tuple[int, int]:
    from layers.io import distributed

    url = db.url.render_as_string(hide_password=False)
    source = distributed.IndexSource(url, index.generation, settings.locate_cell_m)
    return distributed.locate_dataset(client, source, index, file, out, crs)


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

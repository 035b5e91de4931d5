"""Serving the platform."""

from __future__ import annotations

import typer

from api.cli.common import app, load_settings


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on (WANGGE_HOST)."),
    port: int = typer.Option(None, help="Port to listen on (WANGGE_PORT)."),
    workers: int = typer.Option(None, help="Worker processes (WANGGE_WORKERS)."),
    demo_feed: bool = typer.Option(
        False,
        help="Also run `wangge demo feed` beside the server (`make run`; WANGGE_DEMO_FEED=off stops it).",
    ),
    worker: bool = typer.Option(True, help="Also run `wangge worker` (deliveries, overdue, photo sweep)."),
) -> None:
    """Serve the platform (the database must be up and migrated)."""
    import subprocess
    import sys

    import uvicorn

    from api.cluster import check_port_free
    from api.db import make_engine, require_head
    from layers.cases import exports

    settings = load_settings()
    host, port = host or settings.host, port or settings.port
    check_port_free(host, port, "WANGGE_PORT")
    engine = make_engine(settings, pool_size=1)
    require_head(engine)
    with engine.begin() as conn:  # exports the last run left half done say so (nothing serves them)
        interrupted = exports.interrupted(conn)
    if interrupted:
        typer.echo(f"wangge: {interrupted} export(s) interrupted by the last stop marked failed")
    engine.dispose()
    helpers = []
    if worker:
        helpers.append(subprocess.Popen([sys.executable, "-m", "api.cli", "worker"]))
    if demo_feed and settings.demo_feed == "on":
        helpers.append(subprocess.Popen([sys.executable, "-m", "api.cli", "demo", "feed"]))
    typer.echo(f"wangge: serving on http://{host}:{port}")
    try:
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers or settings.workers,
            log_level="info",
        )
    finally:
        for helper in helpers:
            helper.terminate()
        for helper in helpers:
            helper.wait(timeout=30)


@app.command("worker")
def run_worker(
    once: bool = typer.Option(False, help="Deliver what is due, sweep the photo store, and stop."),
) -> None:
    """Deliver the outbox (webhooks, SMS/WeChat/e-mail), announce overdue cases, sweep photos."""
    import logging
    import signal

    from api.db import make_engine, require_head
    from api.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load_settings()
    engine = make_engine(settings, pool_size=2)
    require_head(engine)
    work = Worker.open(settings, engine)
    for stop in (signal.SIGTERM, signal.SIGINT):  # finish the round: nothing sent goes unrecorded
        signal.signal(stop, lambda *_: work.stopping.set())
    try:
        work.run(once=once)
    finally:
        work.close()
        engine.dispose()
    typer.echo(f"wangge: worker stopped: {work.sent} deliveries sent")

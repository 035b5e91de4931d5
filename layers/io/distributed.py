"""Point files larger than memory, located on Dask: the same answer as ``pointfiles``, per partition.

``dask.dataframe.read_parquet(...).map_partitions(locate_partition)`` runs
``pointfiles.answer_table`` on each partition; each Dask worker builds the micro-grid
index once from the database (``IndexSource``: URL, generation, raster cell) and keeps it
for every partition it is given. The result is a Parquet dataset (a directory of parts,
in input order, named so that they sort in it), the same columns as ``wangge locate --out
x.parquet``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import create_engine

from geo.errors import InvalidInput
from layers.grid.index import AreaIndex
from layers.io import pointfiles


@dataclass(frozen=True)
class IndexSource:
    """Where a Dask worker builds its index from (pickled to the workers, small)."""

    url: str
    generation: int
    cell_m: float


_BUILT: dict[IndexSource, AreaIndex] = {}


def index_of(source: IndexSource) -> AreaIndex:
    """The index of ``source``, built on the first partition a process gets, then kept."""
    index = _BUILT.get(source)
    if index is None:
        engine = create_engine(source.url, pool_size=1)
        try:
            with engine.connect() as conn:
                index = _BUILT[source] = AreaIndex(conn, source.generation, cell_m=source.cell_m)
        finally:
            engine.dispose()
    return index


def locate_partition(
    frame: pd.DataFrame, source: IndexSource, crs: str, geometry: str | None, index: AreaIndex | None = None
) -> pd.DataFrame:
    """One partition located (Arrow-backed columns, the Parquet answer's schema)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    batch = pointfiles.frame_batch(table, 0, geometry)
    answered = pointfiles.answer_table(index or index_of(source), batch, crs).drop_columns(["row"])
    return answered.to_pandas(types_mapper=pd.ArrowDtype)


_LOCAL = re.compile(r"^local(?::(\d+))?$")


def client_for(scheduler: str) -> Any:
    """A Dask client: ``local`` / ``local:N`` starts a ``LocalCluster`` of N processes, else an address."""
    import dask
    from dask.distributed import Client, LocalCluster

    local = _LOCAL.match(scheduler)
    if local:
        workers = int(local.group(1) or 2)
        if not 1 <= workers <= 256:
            raise InvalidInput(f"--dask local:{workers}: give 1 to 256 workers", field="dask")
        # Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536 (against the fragmentation of
        # long-lived workers); set, it also fixes glibc's mmap threshold, so every array of a
        # partition is fresh pages from the kernel: a partition took 530 ms instead of 385. These
        # workers live for one command, so glibc keeps its own (dynamic) thresholds.
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
        return Client(cluster)
    try:
        return Client(scheduler, timeout="5s")
    except (OSError, TimeoutError) as exc:
        raise InvalidInput(f"cannot reach the Dask scheduler at {scheduler}: {exc}", field="dask") from None


def locate_dataset(
    client: Any, source: IndexSource, index: AreaIndex, src: Path, out: Path, crs: str | None
) -> tuple[int, int]:
    """Locate the Parquet file (or dataset) ``src`` on ``client``'s cluster into ``out``; rows, bad rows."""
    import dask.dataframe as dd

    _, used = pointfiles.parquet_batches(src, crs) if src.is_file() else (None, crs or "wgs84")
    geometry = pointfiles.geometry_column(src)
    frame = dd.read_parquet(str(src), dtype_backend="pyarrow", split_row_groups=True)  # a row group a task
    sample = frame._meta_nonempty  # a made-up row or two: only the answer's dtypes are wanted
    meta = locate_partition(sample, source, used, geometry, index).iloc[:0]
    located = frame.map_partitions(locate_partition, source, used, geometry, meta=meta)
    codes = [c for c in pointfiles.ANSWER_COLUMNS if c not in ("inside", "distance_m")]
    located.to_parquet(
        str(out),
        write_index=False,
        name_function=lambda i: f"part.{i:06d}.parquet",  # names sort as the input: read back in order
        use_dictionary=codes,
        write_statistics=False,
    )
    errors = pq.read_table(out, columns=["error"]).column("error")
    return len(errors), len(errors) - errors.null_count

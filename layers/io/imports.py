"""The one way a layer file comes in, for the CLI and the upload route alike.

Grid layers (streets … micro-grids) go into a draft generation; asset collections are
added to the live table. All rows or none: every problem of the file is listed in one
``ImportProblems``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from layers.io import area_files, asset_files


@dataclass(frozen=True)
class Imported:
    """What an import wrote: for grid layers, the draft generation it went into."""

    collection: str
    count: int
    crs: str
    generation: int | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        answer: dict[str, object] = {"collection": self.collection, "count": self.count, "crs": self.crs}
        if self.generation is not None:
            answer.update(generation=self.generation, notes=self.notes, status="draft")
        return answer


def import_file(
    conn: Connection,
    collection: str,
    path: Path,
    *,
    crs: str | None = None,
    id_field: str | None = None,
    **layer_options: Any,
) -> Imported:
    """Import ``path`` into ``collection`` inside ``conn``'s transaction.

    ``layer_options`` go to ``area_files.import_layer`` (generation, code/name/parent
    fields, make_valid); ``id_field`` names an asset file's ID column."""
    if collection in asset_files.COLLECTIONS:
        added = asset_files.import_assets(conn, collection, path, crs=crs, id_field=id_field)
        return Imported(collection, added.count, added.crs)
    result = area_files.import_layer(conn, collection, path, crs=crs, **layer_options)
    return Imported(collection, result.count, result.crs, result.generation, list(result.notes))

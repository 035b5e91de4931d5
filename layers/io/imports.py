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

from geo.errors import InvalidInput
from layers.grid import areas
from layers.io import area_files, asset_files


@dataclass(frozen=True)
class Imported:
    """What an import wrote: for grid layers, the draft generation it went into."""

    collection: str
    count: int
    crs: str
    generation: int | None = None
    notes: list[str] = field(default_factory=list)
    added: int | None = None  # assets: new ones, and existing ones updated by ID
    updated: int | None = None

    def as_dict(self) -> dict[str, object]:
        answer: dict[str, object] = {"collection": self.collection, "count": self.count, "crs": self.crs}
        if self.generation is not None:
            answer.update(generation=self.generation, notes=self.notes, status="draft")
        else:
            answer.update(added=self.added, updated=self.updated, notes=self.notes)
        return answer


def import_file(
    conn: Connection,
    collection: str,
    path: Path,
    *,
    crs: str | None = None,
    id_field: str | None = None,
    update: bool = False,
    extra: str = "keep",
    tolerance_m: float = 30.0,
    district: str | None = None,
    **layer_options: Any,
) -> Imported:
    """Import ``path`` into ``collection`` inside ``conn``'s transaction.

    ``layer_options`` go to ``area_files.import_layer`` (generation, code/name/parent
    fields, make_valid); for assets, ``id_field`` names the ID column, ``update`` updates
    existing assets by ID, ``extra`` keeps or ignores other columns, and points more than
    ``tolerance_m`` outside the district are refused. ``district`` says which district of a city
    the file is for: a grid layer then replaces that district's layer and keeps the others';
    assets need it only when several districts are loaded."""
    if collection in asset_files.COLLECTIONS:
        done = asset_files.import_assets(
            conn, collection, path, crs=crs, id_field=id_field, update=update, extra=extra,
            tolerance_m=tolerance_m, district=loaded_district(conn, district),
        )  # fmt: skip
        return Imported(
            collection, done.count, done.crs, notes=done.notes, added=done.added, updated=done.updated
        )
    if district is not None:
        loaded_district(conn, district)
    result = area_files.import_layer(conn, collection, path, crs=crs, district=district, **layer_options)
    return Imported(collection, result.count, result.crs, result.generation, list(result.notes))


def loaded_district(conn: Connection, district: str | None) -> str:
    """``district`` if the active generation holds it; without one, the only district loaded."""
    known = areas.codes(conn, areas.require_active(conn), "district")
    if district is None:
        if len(known) == 1:
            return known[0]
        raise InvalidInput(
            f"several districts are loaded ({', '.join(sorted(known))}): say which one with --district",
            field="district",
        )
    if district not in known:
        raise InvalidInput(
            f"district {district} is not loaded (the active generation holds {', '.join(sorted(known))})",
            field="district",
        )
    return district

"""Who handles a case: the responsibility matrix, then owner or territory, then 属地兜底.

Pure: it works on a ``Catalogue`` snapshot and the case's area chain, so the rules
are testable without a database. The order, first match wins:

1. the matrix: a rule for this category at the most specific area of the chain
   (micro-grid → … → district), then a rule for every category likewise;
2. components go first to the owner (部件先属主): the asset's owner unit, else the
   category's department; events first to the territory (事件先属地): the street office;
3. the territory takes what nobody owns (属地兜底): the grid when it has a worker, else
   its community, its street, the district. A case outside every grid goes to the district.

The other party (the territory for an owner-first case, the category's department
for a territory-first one) is kept as ``second_unit``: the one-click transfer target.
"""

from __future__ import annotations

from dataclasses import dataclass

from layers.cases.categories import Catalogue, Category


@dataclass(frozen=True)
class Chain:
    """The area codes of a located case (None outside every grid)."""

    district: str
    street: str | None = None
    community: str | None = None
    grid: str | None = None
    micro_grid: str | None = None
    grid_has_worker: bool = False

    def specific_first(self) -> list[str]:
        return [c for c in (self.micro_grid, self.grid, self.community, self.street, self.district) if c]


@dataclass(frozen=True)
class Route:
    unit: str
    second_unit: str | None
    routed_by: str  # matrix | owner | category | territory | fallback | needs_location


def territory(chain: Chain) -> str:
    """The territorial owner: grid (if someone works it) → community → street → district."""
    if chain.grid and chain.grid_has_worker:
        return chain.grid
    return chain.community or chain.street or chain.district


def route(catalogue: Catalogue, category: Category, chain: Chain, asset_owner: str | None = None) -> Route:
    """The unit that handles a case of ``category`` at ``chain`` (and its other party)."""
    areas = chain.specific_first()
    owner = asset_owner if asset_owner in catalogue.departments else None
    default = category.department if category.department in catalogue.departments else None
    if category.first == "owner":
        first, second = owner or default, chain.street
    else:
        first, second = chain.street, default
    for wanted in (category.code, None):
        for area in areas:
            unit = catalogue.rules.get((area, wanted))
            if unit:
                return Route(unit, first if first != unit else second, "matrix")
    if first:
        how = "territory" if category.first == "territory" else ("owner" if first == owner else "category")
        return Route(first, second if second != first else None, how)
    return Route(territory(chain), default, "fallback")

"""Named places of the reference district: what hotline callers say instead of a doorplate.

Real: the names of a few landmarks (青岛啤酒博物馆 on 登州路, the 台东 pedestrian street
on 台东三路, 即墨路小商品市场) and their roads; where they stand follows the generated
road, like every doorplate. Generated, deterministic from the seed, and marked
``generated``: each community's residential compounds (小区, 花园, 苑 …), and per street a
school, a market, a park and an office building, with the aliases people use. A few
compound names repeat across the district as common names do in any Chinese city, so
they belong to two communities: the geocoder offers both and chooses none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import shapely

from layers.addresses.gazetteer import AddressRecord, PlaceRecord
from layers.grid.areas import AreaRecord
from layers.reference.district import district_of

STEMS = (
    "幸福", "和平", "阳光", "康乐", "海景", "青山", "锦绣", "金海", "华城", "丽都", "瑞景", "温馨",
    "翠园", "明珠", "福源", "安居", "嘉和", "海润", "书香", "泰和", "东方", "万福", "长乐", "永安",
    "富润", "春晖", "兴华", "新华", "海湾", "滨海", "紫荆", "玉兰", "桂花", "银杏", "海棠", "丁香",
    "枫林", "松涛", "碧水", "蓝湾", "宏图", "盛世", "繁华", "吉祥", "如意", "鸿运", "天泰", "金色",
    "祥和", "怡景", "润泽", "北岭", "山水", "观海", "望海", "海月", "听涛", "百合", "港湾", "晨曦",
)  # fmt: skip
COMPOUND_SUFFIXES = ("小区", "花园", "苑", "家园", "新村", "公寓")
REPEATED = 0.05  # share of compounds whose name another community's compound has too
# (name, kind, aliases, road, house number): real names; their doorplates are on the generated roads
LANDMARKS = (
    ("青岛啤酒博物馆", "landmark", ("啤酒博物馆", "青啤博物馆"), "登州路", "56"),
    ("台东商业步行街", "landmark", ("台东步行街", "台东三路步行街"), "台东三路", "1"),
    ("即墨路小商品市场", "market", ("即墨路市场",), "即墨路", "1"),
)


def _aliases(name: str, suffix: str) -> tuple[str, ...]:
    """What people also call a compound: ``幸福花园`` is ``幸福花园小区``; ``和平新村`` ``和平村``."""
    stem = name.removesuffix(suffix)
    extra = {"小区": (), "花园": (f"{name}小区",), "苑": (f"{name}小区",), "家园": (f"{stem}家园小区",)}
    return extra.get(suffix, (f"{stem}{suffix[-1]}",) if len(stem) + 1 >= 3 else ())


def places(seed: int, records: list[AreaRecord], addresses: Iterable[AddressRecord]) -> list[PlaceRecord]:
    """A reference district's named places, deterministic from ``seed``."""
    rng = district_of(next(r.code for r in records if r.level == "district")).rng(seed, 11)
    communities = sorted((r for r in records if r.level == "community"), key=lambda r: r.code)
    plates = [a for a in addresses if not a.building]
    compounds: dict[tuple[str, str], list[AddressRecord]] = defaultdict(list)
    for a in addresses:
        if a.building:
            compounds[(a.road, a.house_number)].append(a)
    xy = np.array([(a.lon, a.lat) for a in plates])
    tree = shapely.STRtree([c.geom for c in communities])
    where, which = tree.query(shapely.points(xy), predicate="within")
    by_community: dict[int, list[int]] = defaultdict(list)
    for plate, community in zip(where.tolist(), which.tolist(), strict=True):
        by_community[community].append(plate)
    out: list[PlaceRecord] = []
    by_door = {(a.road, a.house_number): a for a in plates}
    for name, kind, aliases, road, number in LANDMARKS:
        door = by_door.get((road, number)) or next((a for a in plates if a.road == road), None)
        if door is not None:
            out.append(
                PlaceRecord(name, kind, aliases, door.lon, door.lat, door.road, door.house_number, False)
            )
    pool = [(f"{stem}{suffix}", suffix) for stem in STEMS for suffix in COMPOUND_SUFFIXES]
    order = rng.permutation(len(pool)).tolist()
    used: list[tuple[str, str]] = []
    for k in range(len(communities)):
        members = by_community.get(k, [])
        if not members:
            continue
        taken: set[str] = set()
        for _ in range(int(rng.integers(1, 4))):
            door = plates[members[int(rng.integers(len(members)))]]
            if used and rng.random() < REPEATED:  # a name another community's compound has too
                name, suffix = used[int(rng.integers(len(used)))]
            else:
                name, suffix = pool[order.pop()]
                used.append((name, suffix))
            if name in taken:
                continue
            taken.add(name)
            buildings = compounds.get((door.road, door.house_number), [])
            lon = float(np.mean([b.lon for b in buildings])) if buildings else door.lon
            lat = float(np.mean([b.lat for b in buildings])) if buildings else door.lat
            aliases = _aliases(name, suffix)
            out.append(PlaceRecord(name, "compound", aliases, lon, lat, door.road, door.house_number))
    streets = sorted({c.parent_code for c in communities if c.parent_code})
    names = {r.code: r.name for r in records}
    for street in streets:
        members = [
            m for k, c in enumerate(communities) if c.parent_code == street for m in by_community.get(k, [])
        ]
        if not members:  # a street no generated road crosses has no doorplate to stand at
            continue
        base = names[street].removesuffix("街道")
        for name, kind, aliases in (
            (f"{base}小学", "school", ()),
            (f"{base}农贸市场", "market", (f"{base}菜市场",)),
            (f"{base}公园", "park", ()),
            (f"{base}大厦", "building", (f"{base}大楼",)),
        ):
            door = plates[members[int(rng.integers(len(members)))]]
            out.append(PlaceRecord(name, kind, aliases, door.lon, door.lat, door.road, door.house_number))
    return out

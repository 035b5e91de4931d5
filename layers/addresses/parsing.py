"""What people type for an address, taken apart before anything is matched.

Hotline operators and residents write the same door many ways: with or without the
province, city, district and street office; full-width digits; 號 for 号; Chinese
numerals (``六十四号``, ``一百零八号``, rooms read digit by digit ``五零一``); a sub-number
(``64-1号``, ``64之1号``) or a prefix (``甲64号``); building, unit and room
(``3号楼2单元501``, ``3栋2单元501室``, ``3-2-501``). Everything is parsed into road,
number, building, unit and room; nothing typed is dropped silently: what could not be
parsed stays in ``rest``, so a match that ignored part of the input can say so.

Pure functions: no database, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

REGION = ("中华人民共和国", "中国", "山东省", "山东", "青岛市", "青岛")
HOME = "市北区"
# The other districts and county-level cities of Qingdao: an address naming one is not ours.
ELSEWHERE = (
    "市南区",
    "李沧区",
    "崂山区",
    "黄岛区",
    "西海岸新区",
    "城阳区",
    "即墨区",
    "胶州市",
    "平度市",
    "莱西市",
)
ROAD_SUFFIXES = "大道|支路|胡同|路|街|道|巷|里"
_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_UNITS = {"十": 10, "百": 100, "千": 1000}
# Numerals are converted only where they count something of a door: before 号, 栋, 单元 …,
# never inside a road's name (台东一路, 延安三路 keep theirs).
_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千]+(?=号|栋|幢|座|单元|层|室|户|楼|$)")
_ADMIN = re.compile(r"^.{1,8}?(?:街道办事处|街道|社区居委会|社区)")
_NUMBER = r"(?P<prefix>[甲乙丙丁])?(?P<number>\d+)(?:[-之](?P<sub>\d+))?号?(?P<rest>.*)$"
_DOOR = re.compile(rf"^(?P<road>.+?(?:{ROAD_SUFFIXES})){_NUMBER}")
_LOOSE = re.compile(rf"^(?P<road>\D+?){_NUMBER}")  # no road suffix (typos)
_ROAD_ONLY = re.compile(rf"^(?P<road>.+?(?:{ROAD_SUFFIXES}))$")
_DASHED = re.compile(r"^(?P<building>\d+)-(?P<unit>\d+)-(?P<room>\d+)(?:室|户)?$")
_INSIDE = re.compile(
    r"^(?:(?P<building>\d+|[a-z])(?:号楼|栋|幢|座|号|楼|#))?"
    r"(?:(?P<unit>\d+)单元)?(?:(?P<floor>\d+)(?:层|楼))?(?:(?P<room>\d+)(?:室|户|号)?)?$"
)


def numeral(text: str) -> int:
    """A Chinese numeral as a number: positional with 十/百/千, else read digit by digit.

    >>> numeral("六十四"), numeral("十二"), numeral("一百零八"), numeral("五零一"), numeral("两千")
    (64, 12, 108, 501, 2000)
    """
    if not any(c in _UNITS for c in text):
        return int("".join(str(_DIGITS[c]) for c in text))
    total, digit = 0, 0
    for c in text:
        if c in _UNITS:
            total += (digit or 1) * _UNITS[c]
            digit = 0
        else:
            digit = _DIGITS[c]
    return total + digit


def normalize(raw: str, home: bool = True) -> str:
    """The canonical form for matching: NFKC, no spaces, 號→号, #→号, Arabic numbers,
    no province or city, and no ``市北区``.

    >>> normalize(" 山东省青岛市 市北区 恩县路 ６４號 ")
    '恩县路64号'
    >>> normalize("台东一路六十四号三号楼二单元五零一室")
    '台东一路64号3号楼2单元501室'
    """
    s = unicodedata.normalize("NFKC", raw).replace("號", "号").replace("#", "号")
    s = re.sub(r"\s+", "", s).lower()
    s = _NUMERAL.sub(lambda m: str(numeral(m[0])), s)
    changed = True
    while changed:
        changed = False
        for prefix in (*REGION, *((HOME,) if home else ())):
            if s.startswith(prefix) and len(s) > len(prefix):
                s, changed = s[len(prefix) :], True
    return s


@dataclass(frozen=True)
class Parsed:
    """A typed address taken apart. ``number`` is the doorplate's main number as text."""

    text: str  # normalised, without the region and the street office
    road: str | None = None
    number: str | None = None
    prefix: str = ""  # 甲 of 甲64号
    sub: str = ""  # 1 of 64-1号
    building: str = ""
    unit: str = ""
    room: str = ""
    rest: str = ""  # what follows the door and could not be read as building/unit/room
    district: str | None = None  # the district named in front (市南区 …), if one is
    place: str = ""  # the place's name, when the text begins with one

    @property
    def door(self) -> str:
        """The doorplate as typed: ``甲64-1``."""
        if self.number is None:
            return ""
        return f"{self.prefix}{self.number}{'-' + self.sub if self.sub else ''}"


def _inside(rest: str) -> tuple[str, str, str, str]:
    """Building, unit, room and what is left of the part after the doorplate."""
    found = _DASHED.match(rest) or _INSIDE.match(rest)
    if not rest or found is None:
        return "", "", "", rest
    parts = found.groupdict()
    building = f"{parts['building']}号楼" if parts.get("building") else ""
    return building, parts.get("unit") or "", parts.get("room") or "", ""


def parse(raw: str) -> Parsed:
    """Road, doorplate, building, unit and room of a typed address.

    >>> p = parse("即墨路街道恩县路64号3号楼"); p.text, p.road, p.number, p.building
    ('恩县路64号3号楼', '恩县路', '64', '3号楼')
    >>> p = parse("恩县路甲64-1号3栋2单元501室"); p.door, p.building, p.unit, p.room
    ('甲64-1', '3号楼', '2', '501')
    >>> parse("恩县路64号3-2-501").room, parse("恩县略64号").road, parse("恩县路").road
    ('501', '恩县略', '恩县路')
    >>> parse("青岛市市南区香港中路10号").district, parse("香港中路10号").road
    ('市南区', '香港中路')
    >>> parse("市北区恩县路64号").district, parse("恩县路64号").district
    ('市北区', None)
    >>> parse("幸福花园").road is None
    True
    """
    s = normalize(raw, home=False)
    district = next((d for d in (HOME, *ELSEWHERE) if s.startswith(d)), None)
    if district is not None:
        s = s[len(district) :]
    stripped = _ADMIN.sub("", s, count=1)
    if _DOOR.match(stripped) or _ROAD_ONLY.match(stripped):
        s = stripped
    found = _DOOR.match(s) or _LOOSE.match(s)
    if found is None:
        only = _ROAD_ONLY.match(s)
        return Parsed(s, road=only["road"] if only else None, district=district)
    building, unit, room, rest = _inside(found["rest"])
    return Parsed(
        s,
        road=found["road"],
        number=found["number"],
        prefix=found["prefix"] or "",
        sub=found["sub"] or "",
        building=building,
        unit=unit,
        room=room,
        rest=rest,
        district=district,
    )


def search_text(road: str, number: str, building: str = "") -> str:
    """The stored ``search`` column of an address (same normalisation as queries)."""
    return normalize(f"{road}{number}号{building}")


def after_place(text: str, name: str, length: int) -> Parsed:
    """The parse of a query that begins with a place's name (``length`` characters of it):
    building, unit and room read from what follows.

    >>> after_place("幸福花园3号楼2单元501", "幸福花园", 4).room
    '501'
    """
    building, unit, room, rest = _inside(text[length:])
    return Parsed(text, place=name, building=building, unit=unit, room=room, rest=rest)

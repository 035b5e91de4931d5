"""The registry of asset kinds (部件): each kind's GB/T 30428.2 class, subclasses, geometry and attributes.

Adding a kind (street lamp, camera, hydrant) is one entry here: its attribute
schema (pydantic, unknown attributes refused) and its codes; the table, the IDs, the
location and the APIs are shared. Component IDs are 16 digits: 6-digit district code
+ 2-digit major class + 2-digit subclass + 6-digit serial (STANDARDS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from geo.errors import InvalidInput


class CoverAttributes(BaseModel):
    """A manhole cover (窨井盖): CJ/T 214 attributes and the inspection checklist's states."""

    model_config = ConfigDict(extra="forbid")

    material: Literal["cast_iron", "ductile_iron", "concrete", "composite"]
    shape: Literal["round", "square"]
    size_mm: int = Field(ge=200, le=2000)
    load_class: Literal["A15", "B125", "C250", "D400", "E600", "F900"]
    setting: Literal["carriageway", "sidewalk", "green", "compound"]
    owner: str = Field(min_length=1, max_length=100, description="权属单位")
    maintainer: str = Field(min_length=1, max_length=100, description="养护单位")
    status: Literal["normal", "damaged", "missing", "displaced", "sunk_raised", "noisy"] = "normal"
    installed: date | None = None
    last_inspected: date | None = None
    anti_fall_net: bool = False
    smart_sensor: bool = False


class ParkingAttributes(BaseModel):
    """A car park (component 0201): the project's figures and state."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["planned", "under_construction", "operating"]
    progress_pct: float = Field(ge=0, le=100)
    category: Literal["public", "dedicated"] = "public"
    structure: Literal["underground", "surface", "mechanical", "multi_storey"]
    spaces: int = Field(ge=1, le=20_000)
    ev_spaces: int = Field(ge=0, le=20_000)
    accessible_spaces: int | None = Field(default=None, ge=0)
    site_area_m2: float | None = Field(default=None, gt=0)
    floor_area_m2: float | None = Field(default=None, gt=0)
    garage_area_m2: float | None = Field(default=None, gt=0)
    commercial_area_m2: float | None = Field(default=None, ge=0)
    investment_cny: float | None = Field(default=None, ge=0)
    start_date: date | None = None
    due_date: date | None = None
    operator: str | None = Field(default=None, max_length=100)

    @field_validator("ev_spaces")
    @classmethod
    def _ev_within_spaces(cls, value: int, info: ValidationInfo) -> int:
        spaces = info.data.get("spaces")
        if spaces is not None and value > spaces:
            raise ValueError(f"EV spaces ({value}) exceed spaces ({spaces})")
        return value


class CameraAttributes(BaseModel):
    """A surveillance camera (监控电子眼, 0136); with ``ai`` it reports machine events."""

    model_config = ConfigDict(extra="forbid")

    owner: str = Field(min_length=1, max_length=100, description="权属单位")
    ai: bool = False
    heading_deg: float | None = Field(default=None, ge=0, lt=360)
    installed: date | None = None


@dataclass(frozen=True)
class Kind:
    """One kind of asset and how its IDs and attributes look."""

    name: str
    title: str
    major: str
    subclasses: dict[str, str]
    geometry: Literal["Point", "Polygon"]
    attributes: type[BaseModel]

    def validate(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """Checked attributes (JSON-ready), or ``InvalidInput`` naming the first bad one."""
        try:
            return self.attributes.model_validate(attributes).model_dump(mode="json")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "attributes"
            raise InvalidInput(
                f"{self.name} attribute {where}: {first['msg']}", field=f"attributes.{where}"
            ) from None


COVER_SUBCLASSES = {
    "01": "上水",
    "02": "污水",
    "03": "雨水",
    "04": "雨水箅子",
    "05": "电力",
    "06": "路灯",
    "07": "通讯",
    "08": "电视",
    "09": "网络",
    "10": "热力",
    "11": "燃气",
    "12": "公安",
    "14": "无主",
    "27": "中水",
    "28": "公交",
    "29": "输油(气)",
    "30": "特殊",
}

KINDS: dict[str, Kind] = {
    "manhole_cover": Kind("manhole_cover", "窨井盖", "01", COVER_SUBCLASSES, "Point", CoverAttributes),
    "parking": Kind("parking", "停车场", "02", {"01": "停车场"}, "Polygon", ParkingAttributes),
    "camera": Kind("camera", "监控电子眼", "01", {"36": "监控电子眼"}, "Point", CameraAttributes),
}


@dataclass(frozen=True)
class AssetId:
    """A parsed component ID."""

    district: str
    major: str
    sub: str
    serial: str

    @property
    def subclass(self) -> str:
        return self.major + self.sub


def parse_asset_id(value: str, district: str | None = None, field: str = "id") -> AssetId:
    """A 16-digit component ID, checked (and against ``district`` when given).

    >>> parse_asset_id("3702030102000123").subclass
    '0102'
    >>> parse_asset_id("37020301020001").subclass
    Traceback (most recent call last):
    geo.errors.InvalidInput: '37020301020001' is not a component ID: 16 digits (...)
    """
    if not isinstance(value, str) or len(value) != 16 or not value.isdigit():
        raise InvalidInput(
            f"{value!r} is not a component ID: 16 digits (district + class + subclass + serial)",
            field=field,
        )
    parsed = AssetId(value[:6], value[6:8], value[8:10], value[10:])
    if district is not None and parsed.district != district:
        raise InvalidInput(f"{value} belongs to district {parsed.district}, not {district}", field=field)
    if parsed.serial == "000000":
        raise InvalidInput(f"{value} has serial 000000; serials start at 000001", field=field)
    return parsed


def kind_of(asset_id: AssetId) -> Kind:
    """The registered kind whose class and subclass the ID carries."""
    for kind in KINDS.values():
        if kind.major == asset_id.major and asset_id.sub in kind.subclasses:
            return kind
    raise InvalidInput(
        f"no registered asset kind has class {asset_id.major} subclass {asset_id.sub}", field="id"
    )


def kind_named(name: str) -> Kind:
    if name not in KINDS:
        raise InvalidInput(f"unknown asset kind {name!r}; known: {', '.join(KINDS)}", field="kind")
    return KINDS[name]

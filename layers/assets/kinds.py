"""The registry of asset kinds (部件): each kind's GB/T 30428.2 class, subclasses, geometry and attributes.

Adding a kind (street lamp, camera, hydrant) is one entry here: its attribute
schema (pydantic, unknown attributes refused) and its codes; the table, the IDs, the
location and the APIs are shared. Component IDs are 16 digits: 6-digit district code
+ 2-digit major class + 2-digit subclass + 6-digit serial (STANDARDS.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

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
    status: Literal["in_service", "disabled"] = "in_service"  # a disabled camera's events are refused


# Labels: field → Chinese column heading, and per enumerated field value → Chinese label (the
# asset page shows them; imports accept them, with the aliases a data steward's sheet uses).
COVER_LABELS = {
    "material": "材质",
    "shape": "形状",
    "size_mm": "尺寸 (mm)",
    "load_class": "承载等级",
    "setting": "位置类型",
    "owner": "权属单位",
    "maintainer": "养护单位",
    "status": "状态",
    "installed": "安装日期",
    "last_inspected": "最近巡查",
    "anti_fall_net": "防坠网",
    "smart_sensor": "智能传感",
}
COVER_VALUES = {
    "material": {
        "cast_iron": "铸铁",
        "ductile_iron": "球墨铸铁",
        "concrete": "混凝土",
        "composite": "复合材料",
    },
    "shape": {"round": "圆", "square": "方"},
    "setting": {"carriageway": "车行道", "sidewalk": "人行道", "green": "绿地", "compound": "小区"},
    "status": {
        "normal": "完好",
        "damaged": "破损",
        "missing": "丢失",
        "displaced": "移位",
        "sunk_raised": "凹陷/凸起",
        "noisy": "异响",
    },
}
COVER_ALIASES = {
    "material": {
        "灰口铸铁": "cast_iron",
        "球铁": "ductile_iron",
        "水泥": "concrete",
        "钢筋混凝土": "concrete",
        "复合": "composite",
        "树脂": "composite",
    },
    "shape": {"圆形": "round", "方形": "square", "矩形": "square"},
    "setting": {"机动车道": "carriageway", "道路": "carriageway", "庭院": "compound", "院内": "compound"},
    "status": {
        "正常": "normal",
        "缺失": "missing",
        "凹陷": "sunk_raised",
        "凸起": "sunk_raised",
        "沉陷": "sunk_raised",
    },
}
PARKING_LABELS = {
    "status": "状态",
    "progress_pct": "进度 (%)",
    "category": "类别",
    "structure": "结构",
    "spaces": "车位数",
    "ev_spaces": "充电车位",
    "accessible_spaces": "无障碍车位",
    "site_area_m2": "占地面积 (m²)",
    "floor_area_m2": "建筑面积 (m²)",
    "garage_area_m2": "车库面积 (m²)",
    "commercial_area_m2": "商业面积 (m²)",
    "investment_cny": "投资 (元)",
    "start_date": "开工日期",
    "due_date": "竣工日期",
    "operator": "运营单位",
}
PARKING_VALUES = {
    "status": {"planned": "规划", "under_construction": "在建", "operating": "运营"},
    "category": {"public": "公共", "dedicated": "专用"},
    "structure": {"underground": "地下", "surface": "地面", "mechanical": "机械", "multi_storey": "立体"},
}
PARKING_ALIASES = {
    "status": {
        "规划中": "planned",
        "拟建": "planned",
        "建设中": "under_construction",
        "施工中": "under_construction",
        "运营中": "operating",
        "已建成": "operating",
    },
    "category": {"配建": "dedicated"},
    "structure": {"平面": "surface", "机械式": "mechanical", "多层": "multi_storey"},
}
CAMERA_LABELS = {
    "owner": "权属单位",
    "ai": "智能分析",
    "heading_deg": "朝向 (°)",
    "installed": "安装日期",
    "status": "状态",
}
CAMERA_VALUES = {"status": {"in_service": "在用", "disabled": "停用"}}
YES_NO = {"是": True, "有": True, "否": False, "无": False}


def _heading(text: str) -> str:
    """A column heading as compared: no spaces, no unit in brackets.

    >>> _heading("尺寸 (mm)"), _heading("尺寸（mm）"), _heading(" 材质 ")
    ('尺寸', '尺寸', '材质')
    """
    return re.sub(r"\s+|[(（].*?[)）]", "", text)


@dataclass(frozen=True)
class Kind:
    """One kind of asset: its IDs, attributes, and their Chinese labels."""

    name: str
    title: str
    major: str
    subclasses: dict[str, str]
    geometry: Literal["Point", "Polygon"]
    attributes: type[BaseModel]
    labels: dict[str, str]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)

    def field_of(self, heading: str) -> str | None:
        """The attribute a column heading names: the field itself or its Chinese label."""
        if heading in self.attributes.model_fields:
            return heading
        wanted = _heading(heading)
        return next((f for f, label in self.labels.items() if _heading(label) == wanted), None)

    def read(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """Attributes as typed by people: Chinese labels and aliases of enumerations, 是/否 for flags."""
        out = dict(attributes)
        for key, value in attributes.items():
            if not isinstance(value, str):
                continue
            by_label = {label: v for v, label in self.values.get(key, {}).items()}
            by_label.update(self.aliases.get(key, {}))
            if value in by_label:
                out[key] = by_label[value]
            elif (
                value in YES_NO and getattr(self.attributes.model_fields.get(key), "annotation", None) is bool
            ):
                out[key] = YES_NO[value]
        return out

    def problems(self, attributes: dict[str, Any]) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
        """(checked attributes JSON-ready, or None; every (attribute, problem) found). ``extra``, a
        file's other columns, is kept as text beside the schema's attributes."""
        extra = attributes.get("extra")
        if extra is not None and not isinstance(extra, dict):
            return None, [("extra", "must be a mapping of column to text")]
        try:
            known = {k: v for k, v in attributes.items() if k != "extra"}
            checked = self.attributes.model_validate(self.read(known)).model_dump(mode="json")
            if extra:  # the file's other columns, kept as they were written (exports only)
                checked["extra"] = {str(k): str(v) for k, v in extra.items()}
            return checked, []
        except ValidationError as exc:
            found = []
            for error in exc.errors():
                where = ".".join(str(p) for p in error["loc"]) or "attributes"
                message = error["msg"]
                if where in self.values and error["type"] == "literal_error":
                    choices = ", ".join(f"{v} ({label})" for v, label in self.values[where].items())
                    message = f"{attributes.get(where)!r} is not one of {choices}"
                elif error["type"] == "missing":
                    message = f"missing (column {where} or {self.labels.get(where, where)})"
                found.append((where, message))
            return None, found

    def validate(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """Checked attributes (JSON-ready), or ``InvalidInput`` naming every bad one (the first as field)."""
        checked, found = self.problems(attributes)
        if checked is None:
            where = found[0][0]
            said = "; ".join(f"{w}: {m}" for w, m in found)
            raise InvalidInput(f"{self.name} attribute {said}", field=f"attributes.{where}")
        return checked


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
    "manhole_cover": Kind(
        "manhole_cover",
        "窨井盖",
        "01",
        COVER_SUBCLASSES,
        "Point",
        CoverAttributes,
        COVER_LABELS,
        COVER_VALUES,
        COVER_ALIASES,
    ),
    "parking": Kind(
        "parking",
        "停车场",
        "02",
        {"01": "停车场"},
        "Polygon",
        ParkingAttributes,
        PARKING_LABELS,
        PARKING_VALUES,
        PARKING_ALIASES,
    ),
    "camera": Kind(
        "camera",
        "监控电子眼",
        "01",
        {"36": "监控电子眼"},
        "Point",
        CameraAttributes,
        CAMERA_LABELS,
        CAMERA_VALUES,
    ),
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


def _type_of(annotation: Any) -> Any:
    """The type inside ``X | None``."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    return args[0] if get_origin(annotation) in (Union, UnionType) and len(args) == 1 else annotation


TYPE_WORDS = {int: "whole number", float: "number", str: "text", date: "date YYYY-MM-DD"}


def columns_table(kind: Kind) -> str:
    """The import columns of a kind as a Markdown table (docs/assets.md holds these; a test keeps
    it so): column, Chinese heading, required, type and accepted values."""
    lines = ["| column | 中文列名 | required | type / values |", "|---|---|---|---|"]
    for name, info in kind.attributes.model_fields.items():
        typ = _type_of(info.annotation)
        if name in kind.values:
            accepted = ", ".join(f"`{v}` {label}" for v, label in kind.values[name].items())
        elif get_origin(typ) is Literal:
            accepted = ", ".join(f"`{v}`" for v in get_args(typ))
        elif typ is bool:
            accepted = "true/false, 是/否, 有/无"
        else:
            limits = [f"{op} {getattr(m, op)}" for m in info.metadata for op in ("ge", "gt", "le", "lt")
                      if getattr(m, op, None) is not None]  # fmt: skip
            accepted = TYPE_WORDS.get(typ, str(typ)) + (f" ({', '.join(limits)})" if limits else "")
        required = "yes" if info.is_required() else ("no" if info.default is None else f"no ({info.default})")
        lines.append(f"| `{name}` | {kind.labels.get(name, '')} | {required} | {accepted} |")
    return "\n".join(lines)

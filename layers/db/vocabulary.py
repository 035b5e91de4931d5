"""The words of the platform, said once: area levels and code lengths, generation states,
case statuses and sources, roles, inspection results, department and category kinds.

The models build their CHECK constraints from these, the code checks against them and
the web map reads them from ``GET /api/vocabulary``, so a new status or role is added
here and nowhere else (a migration then changes the constraint).

>>> CODE_LENGTH["micro_grid"], level_for_length(12)
(18, 'community')
>>> set(OPEN) < set(STATUSES)
True
"""

from __future__ import annotations

from typing import Final

LEVELS: Final = ("district", "street", "community", "grid", "micro_grid")
CODE_LENGTH: Final = {"district": 6, "street": 9, "community": 12, "grid": 15, "micro_grid": 18}
PLURAL: Final = {
    "district": "districts",
    "street": "streets",
    "community": "communities",
    "grid": "grids",
    "micro_grid": "micro-grids",
}
AREA_NAMES: Final = {
    "district": ("区", "district"),
    "street": ("街道", "street"),
    "community": ("社区", "community"),
    "grid": ("网格", "grid"),
    "micro_grid": ("微网格", "micro-grid"),
}
GENERATION_STATES: Final = ("draft", "active", "retired")

STATUSES: Final = (
    "received", "registered", "dispatched", "in_progress", "verifying", "closed",
    "rejected", "duplicate", "rework",
)  # fmt: skip
OPEN: Final = ("received", "registered", "dispatched", "in_progress", "verifying", "rework")
STATUS_NAMES: Final = {
    "received": ("已受理", "received"),
    "registered": ("已立案", "registered"),
    "dispatched": ("已派遣", "dispatched"),
    "in_progress": ("处置中", "in progress"),
    "verifying": ("核查中", "verifying"),
    "closed": ("已结案", "closed"),
    "rejected": ("不予受理", "rejected"),
    "duplicate": ("重复", "duplicate"),
    "rework": ("返工", "rework"),
}
SOURCES: Final = ("wechat", "hotline", "grid_worker", "camera", "photo_report", "open311")
SOURCE_NAMES: Final = {
    "wechat": ("微信", "WeChat"),
    "hotline": ("热线", "hotline"),
    "grid_worker": ("网格员", "grid worker"),
    "camera": ("视频AI", "camera AI"),
    "photo_report": ("随手拍", "photo report"),
    "open311": ("Open311", "Open311"),
}
APPEAL_TYPES: Final = ("consult", "complaint", "suggestion", "help")

PHOTO_TYPES: Final = ("image/jpeg", "image/png", "image/webp", "image/heif")
CHANNELS: Final = ("webhook", "sms", "wechat", "email")  # how the outbox delivers
DELIVERY_STATES: Final = ("pending", "sending", "sent", "held", "failed")
# a machine event: stored (new), then folded into an open case, made a new one, or refused
EVENT_STATES: Final = ("new", "folded", "created", "rejected")
EVENT_KINDS: Final = (  # what webhooks subscribe to
    "case.created", "case.status_changed", "case.overdue", "asset.status_changed", "inspection.created",
    "enterprise.digest",
)  # fmt: skip
ROLES: Final = ("admin", "dispatcher", "planner", "field", "viewer")
PRIVILEGED: Final = ("admin", "dispatcher")  # who sees personal data (phones, reporters)
DISPATCHERS: Final = ("admin", "dispatcher")
HANDLERS: Final = ("admin", "dispatcher", "field")

INSPECTION_RESULTS: Final = ("ok", "defect")
DEPARTMENT_KINDS: Final = ("district", "owner", "street")
CATEGORY_KINDS: Final = ("event", "component")
FIRST_RESPONDERS: Final = ("territory", "owner")
PLACE_KINDS: Final = ("compound", "building", "school", "market", "park", "landmark")
# How well a typed address matched the gazetteer, best first; only the first two locate a
# case by themselves (a road alone or a fuzzy guess needs a dispatcher to place it).
MATCHES: Final = ("exact", "house_near", "road", "fuzzy")
TRUSTED_MATCHES: Final = ("exact", "house_near")
# An enterprise's address as the geocoder left it: a match above, two places of one name
# (ambiguous), a district not on the platform (outside), or nothing readable (none).
ADDRESS_OUTCOMES: Final = (*MATCHES, "ambiguous", "outside", "none")

ENTERPRISE_STATUSES: Final = ("在营", "注销", "吊销", "迁出")
# What the daily push tells of: a firm founded here, one that moved in or out, one that closed.
ENTERPRISE_EVENT_KINDS: Final = ("registered", "moved_in", "deregistered", "revoked", "moved_out")
ENTERPRISE_EVENT_NAMES: Final = {
    "registered": ("新注册", "registered"),
    "moved_in": ("迁入", "moved in"),
    "deregistered": ("注销", "deregistered"),
    "revoked": ("吊销", "revoked"),
    "moved_out": ("迁出", "moved out"),
}
RECIPIENT_KINDS: Final = ("street", "department")


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """A CHECK expression: ``column`` is one of ``values``.

    >>> sql_in("status", ("a", "b"))
    "status IN ('a', 'b')"
    """
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def level_for_length(length: int) -> str:
    """The level whose codes have ``length`` digits (``KeyError`` for any other length)."""
    return {n: level for level, n in CODE_LENGTH.items()}[length]


def as_json() -> dict[str, object]:
    """The vocabulary for the web map (``GET /api/vocabulary``)."""
    return {
        "levels": [
            {"level": lv, "code_length": CODE_LENGTH[lv], "zh": z, "en": e}
            for lv, (z, e) in AREA_NAMES.items()
        ],
        "statuses": [
            {"status": s, "open": s in OPEN, "zh": z, "en": e} for s, (z, e) in STATUS_NAMES.items()
        ],
        "sources": [{"source": s, "zh": z, "en": e} for s, (z, e) in SOURCE_NAMES.items()],
        "roles": list(ROLES),
        "privileged": list(PRIVILEGED),
        "dispatchers": list(DISPATCHERS),
        "handlers": list(HANDLERS),
    }

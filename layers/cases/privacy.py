"""Personal data of reporters (PIPL): who sees what, and the retention job.

- names: shown only when the reporter agreed (consent), and then only to dispatchers
  and admins; admins also see names without consent (they answer for the audit);
- phones: in full to admins, dispatchers and the staff of the unit handling the case,
  masked (138****1234) to other staff, never to the public or Open311;
- locations: the public sees a case's point snapped to ``WANGGE_PUBLIC_SNAP_M`` (50 m);
- every read that shows a name or a full phone number is written to the audit log;
- retention: reporters of cases closed (or merged into a case closed)
  more than ``WANGGE_RETENTION_DAYS`` ago are anonymised (name, phone and e-mail erased, in the
  outbox's deliveries too; the fact of the report kept).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select, update

from geo.crs import geodesic_m, snap
from layers.accounts.actors import STAFF, Actor
from layers.addresses import gazetteer
from layers.db.models import DELIVERIES, INCIDENT_REPORTERS, INCIDENTS
from layers.db.vocabulary import PRIVILEGED


def mask_phone(phone: str | None) -> str | None:
    """``13812341234`` → ``138****1234`` (short numbers keep only their last two digits).

    >>> mask_phone("13812341234"), mask_phone("12345")
    ('138****1234', '***45')
    """
    if not phone:
        return None
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    return "*" * (len(digits) - 2) + digits[-2:]


def reporter_view(reporter: dict[str, Any], actor: Actor, case_unit: str) -> dict[str, Any] | None:
    """What ``actor`` may see of one reporter of a case handled by ``case_unit`` (None: nothing)."""
    if actor.role not in STAFF:
        return None
    privileged = actor.role in PRIVILEGED
    show_name = actor.role == "admin" or (privileged and reporter["consent"])
    full_phone = privileged or (actor.role == "field" and actor.unit == case_unit)
    return {
        "source": reporter["source"],
        "name": reporter["name"] if show_name else None,
        "phone": reporter["phone"] if full_phone else mask_phone(reporter["phone"]),
        "consent": reporter["consent"],
        "received_at": reporter["received_at"],
        "merged_from": reporter["merged_from"],
        "anonymised": reporter["anonymised_at"] is not None,
    }


def public_address(raw: str | None) -> str:
    """The road of an address as typed, never its door: what the public may see of it.

    >>> public_address("市北区恩县路64号3号楼"), public_address("不知道哪里"), public_address(None)
    ('恩县路', '', '')
    """
    if not raw:
        return ""
    parsed = gazetteer.parse(raw)
    return parsed.road or "" if parsed.number else ""


def shown_distances(
    rows: list[dict[str, Any]], lon: float, lat: float, snap_m: float
) -> list[dict[str, Any]]:
    """Rows with ``lon``/``lat`` of nearby cases → rows with ``distance_m`` only.

    For the public (``snap_m`` > 0) the distance is from the case's *snapped* point to
    ``lon, lat``, rounded to the snap size: three answers cannot trilaterate a case closer
    than its public position. Staff get the exact metres.
    """
    if not rows or snap_m <= 0:
        return [{k: v for k, v in r.items() if k not in ("lon", "lat")} for r in rows]
    x, y = snap([r["lon"] for r in rows], [r["lat"] for r in rows], snap_m)
    metres = geodesic_m(x, y, np.full(len(rows), lon), np.full(len(rows), lat))
    return [
        {
            **{k: v for k, v in r.items() if k not in ("lon", "lat")},
            "distance_m": float(round(m / snap_m) * snap_m),
        }
        for r, m in zip(rows, metres.tolist(), strict=True)
    ]


# A door: a house number and whatever follows it up to the next separator (楼, 单元, room).
_DOOR = re.compile(r"[0-9０-９甲乙丙丁一二三四五六七八九十百千零〇-]+号[^\s;,，、()（）'\"]*")


def without_doors(note: str | None) -> str | None:
    """A location note as the public may read it: roads and areas, no house numbers.

    >>> without_doors("geocoded to 市北区恩县路64号3号楼 (score 1.0); address '火星路1号' not found")
    "geocoded to 市北区恩县路 (score 1.0); address '火星路' not found"
    """
    return _DOOR.sub("", note) if note else note


PUBLIC_EVENT = ("at", "action", "from_status", "to_status")


def public_case(case: dict[str, Any], snap_m: float) -> dict[str, Any]:
    """A case as the public sees it: its point snapped to ``snap_m``; no raw location input and
    no door number in its note, no handler, no staff's reasons (extension, suspension); its
    history without who and their notes."""
    hidden: dict[str, Any] = {"actor": None, "role": None, "note": None, "photos": []}
    history = [{k: e.get(k) for k in (*PUBLIC_EVENT, "unit")} | hidden for e in case.get("history", [])]
    case = {
        **case,
        "location_input": {},
        "location_note": without_doors(case.get("location_note")),
        "handler": None,
        "extension_reason": None,
        "suspend_reason": None,
    }
    if "history" in case:
        case["history"] = history
    if case.get("point") and snap_m > 0:
        lon, lat = case["point"]["coordinates"]
        x, y = snap(lon, lat, snap_m)
        case["point"] = {"type": "Point", "coordinates": [round(float(x), 7), round(float(y), 7)]}
    return case


def revealed(views: list[dict[str, Any]]) -> bool:
    """True when reporter views show a name or a full phone number (an audited read)."""
    return any(v["name"] or (v["phone"] and "*" not in v["phone"]) for v in views)


def anonymise(conn: Connection, days: int) -> int:
    """Erase reporters' names and phones of cases closed more than ``days`` ago; answers how many."""
    r, case, merged = INCIDENT_REPORTERS.c, INCIDENTS.alias("i"), INCIDENTS.alias("m")
    closed = (  # a merged duplicate is closed when the case it was merged into is
        select(case.c.id)
        .outerjoin(merged, merged.c.id == case.c.merged_into)
        .where(func.coalesce(case.c.closed_at, merged.c.closed_at) < func.now() - timedelta(days=days))
    )
    erase = {"name": None, "phone": None, "email": None, "notify": False, "anonymised_at": func.now()}
    done = conn.execute(
        update(INCIDENT_REPORTERS).where(r.anonymised_at.is_(None), r.incident_id.in_(closed)).values(**erase)
    )
    d = DELIVERIES.c  # the outbox's copies of their phones and addresses go too
    conn.execute(
        update(DELIVERIES)
        .where(d.incident_id.in_(closed), d.channel != "webhook", ~d.target.startswith("erased:"))
        .values(target=func.concat("erased:", d.id))
    )
    return int(done.rowcount)
